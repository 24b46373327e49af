import TesseraCore
import TesseraDefinitions
import TesseraExpressions

/// Checks the expressions of views (derived features and filters) against their source's
/// columns, and records which columns they read with their types (`expressionInputs`), so
/// every engine and the push path type them alike.
public enum ExpressionInputs {
    /// The repository with every view's expression inputs resolved, or the problems found,
    /// each pointing into its expression (file, line and column).
    ///
    /// - Parameter columns: a source's columns and their types as its files name them, or
    ///   `nil` when it cannot tell (then source checks report the problem).
    public static func resolve(
        _ repository: FeatureRepository, columns: (DataSource) -> [String: ValueType]?
    ) -> (FeatureRepository, [Diagnostic]) {
        var definitions = repository.definitions
        var problems: [Diagnostic] = []
        for (v, view) in definitions.featureViews.enumerated() where view.hasTransforms {
            guard let source = definitions.source(view.source) else { continue }
            var batch = source
            if case .push(let name?) = source.kind, let parent = definitions.source(name) { batch = parent }
            guard let known = columns(batch) else { continue }
            let scope = scope(of: view, source: source, known: known, definitions: definitions)
            let id = ObjectID(.featureView, view.name)
            func place(_ field: String, _ error: ExpressionError, _ text: String) -> SourceLocation {
                var at =
                    repository.fieldLocations[id]?[field] ?? repository.locations[id]
                    ?? SourceLocation(file: FeatureRepository.configFile)
                at.column += error.column(in: text) - 1
                return at
            }
            var inputs: [String: ValueType] = [:]
            /// `text` compiled against the source, or `nil` with its problem reported (`what`
            /// names the expression in the message).
            func compiled(_ text: String, _ field: String, _ what: String) -> CompiledExpression? {
                do {
                    let compiled = try CompiledExpression.compile(text, scope: scope)
                    for column in compiled.columns { inputs[column.name] = column.type }
                    return compiled
                } catch {
                    problems.append(
                        Diagnostic(
                            .error, at: place(field, error, text), "\(error.message) in \(what)", hint: error.hint))
                    return nil
                }
            }
            if let filter = view.filter,
                let compiled = compiled(filter, "filter", "the filter of feature view '\(view.name)'"),
                compiled.type != .bool
            {
                problems.append(
                    Diagnostic(
                        .error, at: place("filter", ExpressionError("", at: 0), filter),
                        "the filter of feature view '\(view.name)' is \(compiled.type.name), not bool",
                        hint: "a filter keeps the rows where it is true, e.g. status = 'completed'"))
            }
            // One entry's functions × windows share its expression: compiled (and reported) once.
            var entries: [String: CompiledExpression?] = [:]
            for (f, feature) in view.features.enumerated() {
                guard var aggregation = feature.aggregation, let expression = aggregation.expression else { continue }
                let field = "expression:" + feature.name
                if entries[expression] == nil {
                    entries[expression] = .some(
                        compiled(
                            expression, field,
                            "the expression of aggregation '\(feature.name)' of feature view '\(view.name)'"))
                }
                guard let compiled = entries[expression] ?? nil else { continue }
                if let problem = aggregation.function.rejects(compiled.type) {
                    problems.append(
                        Diagnostic(
                            .error, at: place(field, ExpressionError("", at: 0), expression),
                            "aggregation '\(feature.name)' of feature view '\(view.name)': \(problem) (its expression is \(compiled.type.name))"
                        ))
                    continue
                }
                aggregation.inputType = compiled.type
                definitions.featureViews[v].features[f].aggregation = aggregation
                definitions.featureViews[v].features[f].type = aggregation.function.resultType(input: compiled.type)
            }
            for feature in view.features {
                guard let expression = feature.expression else { continue }
                let field = "expression:" + feature.name
                guard
                    let compiled = compiled(
                        expression, field, "the expression of feature '\(feature.name)' of feature view '\(view.name)'")
                else { continue }
                if !feature.holds(compiled.type) {
                    problems.append(
                        Diagnostic(
                            .error, at: place(field, ExpressionError("", at: 0), expression),
                            "the expression of feature '\(feature.name)' of feature view '\(view.name)' is \(compiled.type.name), which its type \(feature.type.name) cannot hold",
                            hint: "declare type: \(compiled.type.name), or CAST the expression"))
                }
            }
            definitions.featureViews[v].expressionInputs = inputs
        }
        return (repository.replacing(definitions: definitions), problems)
    }

    /// The names a view's expressions may use: its source's columns as the view names them
    /// (after `field_mapping`).
    public static func scope(
        of view: FeatureView, source: DataSource, known: [String: ValueType], definitions: Definitions
    ) -> [(name: String, type: ValueType)] {
        let mapping = definitions.sourceColumns(of: source).mapping
        return known.map { (name: mapping[$0.key] ?? $0.key, type: $0.value) }.sorted { $0.name < $1.name }
    }
}
