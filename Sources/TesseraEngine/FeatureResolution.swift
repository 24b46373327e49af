import TesseraCore
import TesseraDefinitions

/// The features requested from one view, with their output column names.
public struct ViewSelection: Sendable {
    public var view: FeatureView
    public var features: [Feature]
    public var outputNames: [String]
}

/// Resolves `view:feature` references and services against the definitions, checking names.
public enum FeatureResolution {
    /// The views and features `references` ask for, grouped by view in first-mention order.
    ///
    /// - Throws: `TrainingSetError` for unknown views or features (with close names) and for two
    ///   features that would get the same output name (naming both views).
    public static func resolve(
        _ references: [FeatureReference], in definitions: Definitions, fullFeatureNames: Bool,
        requireOffline: Bool = true
    ) throws(TrainingSetError) -> [ViewSelection] {
        var selections: [ViewSelection] = []
        var outputs: [String: String] = [:]
        for reference in references {
            guard let view = definitions.featureView(reference.view) else {
                throw TrainingSetError(
                    "no feature view named '\(reference.view)'",
                    hint: Suggestions.hint(for: reference.view, in: definitions.featureViews.map(\.name))
                        ?? "applied views: \(definitions.featureViews.map(\.name).joined(separator: ", "))")
            }
            if requireOffline && !view.offline {
                throw TrainingSetError(
                    "feature view '\(view.name)' is not available offline (offline: false)",
                    hint: "set 'offline: true' on the view and apply")
            }
            let names = reference.features ?? view.features.map(\.name)
            var index = selections.firstIndex { $0.view.name == view.name }
            if index == nil {
                selections.append(ViewSelection(view: view, features: [], outputNames: []))
                index = selections.count - 1
            }
            guard let slot = index else { continue }
            for name in names {
                guard let feature = view.feature(named: name) else {
                    throw TrainingSetError(
                        "feature view '\(view.name)' has no feature '\(name)'",
                        hint: Suggestions.hint(for: name, in: view.features.map(\.name))
                            ?? "its features: \(view.features.map(\.name).joined(separator: ", "))")
                }
                if selections[slot].features.contains(feature) { continue }
                let output = fullFeatureNames ? "\(view.name)__\(name)" : name
                if let other = outputs[output] {
                    throw TrainingSetError(
                        "features '\(other):\(name)' and '\(view.name):\(name)' would both be named '\(output)'",
                        hint: "use full feature names (--full-feature-names) so columns are named view__feature")
                }
                outputs[output] = view.name
                selections[slot].features.append(feature)
                selections[slot].outputNames.append(output)
            }
        }
        return selections
    }
}
