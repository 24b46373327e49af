import TesseraCore
import TesseraDefinitions

/// The features requested from one view, with their output column names.
public struct ViewSelection: Sendable {
    public var view: FeatureView
    public var features: [Feature]
    public var outputNames: [String]

    public init(view: FeatureView, features: [Feature], outputNames: [String]) {
        self.view = view
        self.features = features
        self.outputNames = outputNames
    }
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

    /// Resolves the request's features: the views, their features and output names; and which
    /// entity column holds each join key named differently (join key → column).
    public static func selections(for request: TrainingSetRequest, in definitions: Definitions) throws(TrainingSetError)
        -> (
            [ViewSelection], keyColumns: [String: String]
        )
    {
        var full = request.fullFeatureNames
        var serviceMap: [String: String] = [:]
        let references: [FeatureReference]
        switch request.selection {
        case .features(let list):
            guard !list.isEmpty else { throw TrainingSetError("no features requested") }
            references = try list.map { (text) throws(TrainingSetError) -> FeatureReference in
                guard let reference = FeatureReference(parsing: text) else {
                    throw TrainingSetError(
                        "'\(text)' is not a feature reference", hint: "write view:feature, view:[a,b] or view")
                }
                return reference
            }
        case .service(let name):
            guard let service = definitions.featureService(name) else {
                throw TrainingSetError(
                    "no feature service named '\(name)'",
                    hint: Suggestions.hint(for: name, in: definitions.featureServices.map(\.name)))
            }
            references = service.features
            full = full || service.fullFeatureNames
            serviceMap = service.joinKeyMap
        }
        let selections = try FeatureResolution.resolve(references, in: definitions, fullFeatureNames: full)
        let joinKeys = Set(selections.flatMap { definitions.joinKeys(of: $0.view).map(\.name) })
        // column → key maps, inverted; the request's entries replace the service's for the same key.
        var keyColumns: [String: String] = [:]
        for (map, origin) in [(serviceMap, "the service's join_key_map"), (request.joinKeyMap, "--join-key-map")] {
            var seen: [String: String] = [:]
            for (column, key) in map.sorted(by: { $0.key < $1.key }) {
                guard joinKeys.contains(key) else {
                    throw TrainingSetError(
                        "\(origin) maps column '\(column)' to '\(key)', which is not a join key of the requested views",
                        hint: Suggestions.hint(for: key, in: joinKeys)
                            ?? "their join keys: \(joinKeys.sorted().joined(separator: ", ")); write COLUMN=JOIN_KEY")
                }
                if let other = seen[key] {
                    throw TrainingSetError("\(origin) maps both '\(other)' and '\(column)' to join key '\(key)'")
                }
                seen[key] = column
                keyColumns[key] = column
            }
        }
        return (selections, keyColumns)
    }
}
