import TesseraCore
import TesseraDefinitions

/// Fills in the input types of window aggregations that did not declare one, from the
/// columns their source holds, and checks each function against its column's type.
///
/// Engines differ in how they learn a source's columns (file footers, a table's catalog);
/// the rules are shared here, so every engine types aggregations alike.
public enum AggregationInputs {
    /// The repository with every aggregation's input type resolved, or the problems found,
    /// each at the aggregation it comes from.
    ///
    /// - Parameter columns: a source's columns and their types (after reading the source's
    ///   schema), or `nil` when it cannot tell (the problem is then left to source checks).
    public static func resolve(
        _ repository: FeatureRepository, columns: (DataSource) -> [String: ValueType]?
    ) -> (FeatureRepository, [Diagnostic]) {
        var definitions = repository.definitions
        var problems: [Diagnostic] = []
        var cache: [String: [String: ValueType]?] = [:]
        for (v, view) in definitions.featureViews.enumerated() where !view.aggregatedFeatures.isEmpty {
            guard let source = definitions.source(view.source) else { continue }
            // A push source's rows have its batch source's columns.
            var batch = source
            if case .push(let name?) = source.kind, let parent = definitions.source(name) { batch = parent }
            let mapping = definitions.sourceColumns(of: source)
            let id = ObjectID(.featureView, view.name)
            for (f, feature) in view.features.enumerated() {
                // Expression inputs are typed with the other expressions (`ExpressionInputs`).
                guard var aggregation = feature.aggregation, aggregation.expression == nil,
                    let column = aggregation.column
                else { continue }
                let at =
                    repository.fieldLocations[id]?["aggregation:" + feature.name] ?? repository.locations[id]
                    ?? SourceLocation(file: FeatureRepository.configFile)
                if aggregation.inputType == nil {
                    if cache[batch.name] == nil { cache[batch.name] = columns(batch) }
                    guard let known = cache[batch.name] ?? nil else { continue }
                    let sourceColumn = mapping.sourceColumn(for: column)
                    guard let type = known[sourceColumn] else {
                        problems.append(
                            Diagnostic(
                                .error, at: at,
                                "aggregation '\(feature.name)' of feature view '\(view.name)' reads column '\(sourceColumn)', which source '\(batch.name)' does not have",
                                hint: Suggestions.hint(for: sourceColumn, in: known.keys)
                                    ?? "its columns: \(known.keys.sorted().joined(separator: ", "))"))
                        continue
                    }
                    aggregation.inputType = type
                }
                guard let input = aggregation.inputType else { continue }
                if let problem = aggregation.function.rejects(input) {
                    problems.append(
                        Diagnostic(
                            .error, at: at,
                            "aggregation '\(feature.name)' of feature view '\(view.name)': \(problem) (column '\(column)')"
                        ))
                    continue
                }
                definitions.featureViews[v].features[f].aggregation = aggregation
                definitions.featureViews[v].features[f].type = aggregation.function.resultType(input: input)
            }
        }
        return (repository.replacing(definitions: definitions), problems)
    }
}
