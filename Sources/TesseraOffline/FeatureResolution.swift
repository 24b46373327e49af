import TesseraCore
import TesseraDefinitions
import TesseraExpressions

/// The features requested from one view, with their output column names.
public struct ViewSelection: Sendable {
    public var view: FeatureView
    public var features: [Feature]
    public var outputNames: [String]
    /// Features read only as inputs of on-demand features: computed, never output.
    public var hidden: Set<String> = []

    public init(view: FeatureView, features: [Feature], outputNames: [String]) {
        self.view = view
        self.features = features
        self.outputNames = outputNames
    }

    /// The output names of the features that are output (not only inputs).
    public var visibleOutputNames: [String] {
        zip(features, outputNames).filter { !hidden.contains($0.0.name) }.map(\.1)
    }
}

/// The features requested from one on-demand view, compiled, with their output names and
/// where each name their expressions read comes from.
public struct OnDemandSelection: Sendable {
    public var view: OnDemandFeatureView
    public var features: [Feature]
    public var outputNames: [String]
    /// One per feature; each reads `expressions[i].columns`, found through `inputs`.
    public var expressions: [CompiledExpression]
    /// Scope name → the view feature or request field it is.
    public var inputs: [String: OnDemandInput]

    /// The request fields the expressions read, with their types, in first-use order.
    public var requestFields: [(source: String, field: String, type: ValueType)] {
        var out: [(source: String, field: String, type: ValueType)] = []
        for expression in expressions {
            for column in expression.columns {
                guard case .request(let source, let field)? = inputs[column.name],
                    !out.contains(where: { $0.field == field })
                else { continue }
                out.append((source, field, column.type))
            }
        }
        return out
    }

    /// The source views' features the expressions read, each once, in first-use order: what
    /// a training set joins and a lookup reads for them.
    public var sourceFeatures: [(view: String, feature: String)] {
        var out: [(view: String, feature: String)] = []
        for expression in expressions {
            for column in expression.columns {
                guard case .feature(let view, let feature)? = inputs[column.name],
                    !out.contains(where: { $0.view == view && $0.feature == feature })
                else { continue }
                out.append((view, feature))
            }
        }
        return out
    }

    /// Compiles the features `names` of `view` against its sources in `definitions`.
    ///
    /// - Throws: `TrainingSetError` for a feature the view does not have, or an expression
    ///   that no longer checks (definitions applied without validation).
    public init(_ view: OnDemandFeatureView, features names: [String], outputNames: [String], definitions: Definitions)
        throws(TrainingSetError)
    {
        let scope = OnDemandScope(view, in: definitions)
        var features: [Feature] = []
        var expressions: [CompiledExpression] = []
        for name in names {
            guard let feature = view.feature(named: name) else {
                throw TrainingSetError(
                    "on-demand feature view '\(view.name)' has no feature '\(name)'",
                    hint: Suggestions.hint(for: name, in: view.features.map(\.name))
                        ?? "its features: \(view.features.map(\.name).joined(separator: ", "))")
            }
            do {
                expressions.append(
                    try CompiledExpression.compile(
                        feature.expression ?? "NULL", scope: scope.names, as: feature.type,
                        ambiguous: scope.ambiguous))
            } catch {
                throw TrainingSetError(
                    "the expression of '\(view.name):\(name)' does not check against its sources: \(error.message)",
                    hint: "run tessera plan and apply the definitions again")
            }
            features.append(feature)
        }
        self.view = view
        self.features = features
        self.outputNames = outputNames
        self.expressions = expressions
        self.inputs = scope.inputs
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
    ) throws(TrainingSetError) -> (views: [ViewSelection], onDemand: [OnDemandSelection]) {
        var selections: [ViewSelection] = []
        var outputs: [String: String] = [:]
        var onDemand: [(view: OnDemandFeatureView, names: [String])] = []
        /// The output name of `view:name`, refused when another view's feature has it.
        func claim(_ name: String, of view: String) throws(TrainingSetError) -> String {
            let output = fullFeatureNames ? "\(view)__\(name)" : name
            if let other = outputs[output] {
                throw TrainingSetError(
                    "features '\(other):\(name)' and '\(view):\(name)' would both be named '\(output)'",
                    hint: "use full feature names (--full-feature-names) so columns are named view__feature")
            }
            outputs[output] = view
            return output
        }
        for reference in references {
            if definitions.featureView(reference.view) == nil, let view = definitions.onDemandView(reference.view) {
                let names = reference.features ?? view.features.map(\.name)
                if let at = onDemand.firstIndex(where: { $0.view.name == view.name }) {
                    onDemand[at].names += names.filter { !onDemand[at].names.contains($0) }
                } else {
                    onDemand.append((view, names))
                }
                continue
            }
            guard let view = definitions.featureView(reference.view) else {
                let names = definitions.featureViews.map(\.name) + definitions.onDemandViews.map(\.name)
                throw TrainingSetError(
                    "no feature view named '\(reference.view)'",
                    hint: Suggestions.hint(for: reference.view, in: names)
                        ?? "applied views: \(names.joined(separator: ", "))")
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
                let output = try claim(name, of: view.name)
                selections[slot].features.append(feature)
                selections[slot].outputNames.append(output)
            }
        }
        var compiled: [OnDemandSelection] = []
        for (view, names) in onDemand {
            var outputNames: [String] = []
            for name in names { outputNames.append(try claim(name, of: view.name)) }
            let selection = try OnDemandSelection(
                view, features: names, outputNames: outputNames, definitions: definitions)
            // The source features the expressions read are joined too, as hidden columns when
            // they were not requested themselves.
            for (viewName, featureName) in selection.sourceFeatures {
                guard let source = definitions.featureView(viewName), let feature = source.feature(named: featureName)
                else { continue }
                if requireOffline && !source.offline {
                    throw TrainingSetError(
                        "feature view '\(source.name)' (read by on-demand view '\(view.name)') is not available offline (offline: false)",
                        hint: "set 'offline: true' on the view and apply")
                }
                var slot = selections.firstIndex { $0.view.name == viewName }
                if slot == nil {
                    selections.append(ViewSelection(view: source, features: [], outputNames: []))
                    slot = selections.count - 1
                }
                guard let slot, !selections[slot].features.contains(feature) else { continue }
                selections[slot].features.append(feature)
                selections[slot].outputNames.append("__input__\(viewName)__\(featureName)")
                selections[slot].hidden.insert(featureName)
            }
            compiled.append(selection)
        }
        return (selections, compiled)
    }

    /// Resolves the request's features: the views, their features and output names; and which
    /// entity column holds each join key named differently (join key → column).
    public static func selections(for request: TrainingSetRequest, in definitions: Definitions) throws(TrainingSetError)
        -> (
            [ViewSelection], keyColumns: [String: String], onDemand: [OnDemandSelection]
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
        let (selections, onDemand) = try FeatureResolution.resolve(references, in: definitions, fullFeatureNames: full)
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
        return (selections, keyColumns, onDemand)
    }
}
