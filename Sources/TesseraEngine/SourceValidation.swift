import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats

/// Checks, before `apply`, that each view's source files hold what the view reads: the
/// join keys, the features and the timestamp columns, with compatible types.
public enum SourceValidation {
    /// Every problem found, located at the view or source definition.
    public static func diagnostics(for repository: FeatureRepository, connectors: [any SourceConnector] = [])
        -> [Diagnostic]
    {
        let definitions = repository.definitions
        let sources = RepositorySources(root: repository.root, definitions: definitions, connectors: connectors)
        var out: [Diagnostic] = []
        var schemas: [String: Result<Schema, any Error>] = [:]
        func schema(of source: DataSource) -> Result<Schema, any Error>? {
            if let cached = schemas[source.name] { return cached }
            if case .postgres = source.kind {
                let result = Result<Schema, any Error> {
                    try sources.connector(for: source).reader(for: source, root: repository.root).schema()
                }
                schemas[source.name] = result
                return result
            }
            guard case .file(let path, let format) = source.kind else { return nil }
            let result: Result<Schema, any Error>
            do {
                let fileFormat: any DatasetFileFormat =
                    format == .csv ? CSVFormat(declaredTypes: sources.declaredTypes(of: source)) : ParquetFormat()
                let dataset = try Dataset.open(sources.resolve(path), format: fileFormat)
                if format == .csv {
                    // Types are declared for CSV; reading the first rows shows values that do not parse.
                    _ = try dataset.head(100)
                }
                result = .success(dataset.schema)
            } catch {
                result = .failure(error)
            }
            schemas[source.name] = result
            return result
        }
        for source in definitions.sources {
            let at =
                repository.locations[ObjectID(.source, source.name)]
                ?? SourceLocation(file: FeatureRepository.configFile)
            if case .failure(let error)? = schema(of: source) {
                out.append(Diagnostic(.error, at: at, "source '\(source.name)' cannot be read: \(error)"))
            }
        }
        for view in definitions.featureViews {
            guard let source = definitions.source(view.source) else { continue }
            let batch: DataSource
            if case .push(let name?) = source.kind, let parent = definitions.source(name) {
                batch = parent
            } else {
                batch = source
            }
            guard case .success(let found)? = schema(of: batch) else { continue }
            let viewID = ObjectID(.featureView, view.name)
            let viewAt = repository.locations[viewID] ?? SourceLocation(file: FeatureRepository.configFile)
            // Problems point at the field they come from: the schema, the entities or the source.
            func at(_ field: String) -> SourceLocation { repository.fieldLocations[viewID]?[field] ?? viewAt }
            let columns = definitions.sourceColumns(of: source)
            func check(_ column: String, _ expected: ValueType, _ role: String, field place: String, key: Bool = false)
            {
                guard let field = found[column] else {
                    out.append(
                        Diagnostic(
                            .error, at: at(place),
                            "feature view '\(view.name)' reads column '\(column)' (\(role)) but source '\(batch.name)' has no such column",
                            hint: Suggestions.hint(for: column, in: found.names).map {
                                "\($0) Or map it with field_mapping on the source."
                            }
                                ?? "its columns: \(found.names.joined(separator: ", "))"))
                    return
                }
                let compatible =
                    expected == .timestamp
                    ? field.type == .timestamp
                    : (key ? Column.canJoin(field.type, as: expected) : Column.canCast(from: field.type, to: expected))
                if !compatible {
                    out.append(
                        Diagnostic(
                            .error, at: at(place),
                            "column '\(column)' of source '\(batch.name)' is \(field.type), but feature view '\(view.name)' needs \(expected) (\(role))",
                            hint: expected == .timestamp
                                ? "timestamps must be stored as timestamps (Parquet TIMESTAMP, ISO 8601 text in CSV, timestamp or timestamptz in PostgreSQL)"
                                : "change the type in the view's schema, or the data"))
                }
            }
            check(columns.timestamp, .timestamp, "event timestamp", field: "source")
            if let created = columns.created { check(created, .timestamp, "created timestamp", field: "source") }
            for key in definitions.joinKeys(of: view) {
                check(
                    columns.sourceColumn(for: key.name), key.type, "join key '\(key.name)'", field: "entities",
                    key: true)
            }
            for feature in view.plainFeatures where feature.expression == nil {
                check(
                    columns.sourceColumn(for: feature.name), feature.type, "feature '\(feature.name)'", field: "schema")
            }
            for feature in view.aggregatedFeatures {
                guard let aggregation = feature.aggregation, aggregation.expression == nil,
                    let column = aggregation.column,
                    let input = aggregation.inputType
                else { continue }
                check(
                    columns.sourceColumn(for: column), input, "the input of aggregation '\(feature.name)'",
                    field: "aggregation:" + feature.name)
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0.description).inserted }.sorted { $0.location < $1.location }
    }
}

extension FeatureRepository {
    /// Loads the repository and checks its sources' files against its views (what `plan` and `apply` do).
    ///
    /// - Throws: `DiagnosticsError` with every definition and data problem.
    public static func loadChecked(at path: String) throws(DiagnosticsError) -> FeatureRepository {
        let repository = try load(at: path)
        let problems = SourceValidation.diagnostics(for: repository)
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        return repository
    }
}
