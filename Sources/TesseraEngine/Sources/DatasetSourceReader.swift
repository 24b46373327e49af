import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats

/// A source read from files: a Parquet or CSV dataset (a file, a folder or a glob).
public struct DatasetSourceReader: SourceReader {
    public let dataset: Dataset

    public init(dataset: Dataset) {
        self.dataset = dataset
    }

    public func schema() throws -> Schema { dataset.schema }

    public func scan(columns: [String], filter: TimeFilter?, threads: Int, _ body: (RecordBatch) throws -> Void) throws
    {
        let range = filter.map {
            DatasetTimeRange(
                column: $0.column, from: $0.lower.map(Timestamp.init(microseconds:)),
                through: $0.upper.map(Timestamp.init(microseconds:)))
        }
        // CSV files have no statistics to prune with; the engine filters rows itself.
        var scanner = try dataset.scan(columns: columns, timeRange: dataset.isParquet ? range : nil, threads: threads)
        while let batch = try scanner.next() { try body(batch) }
    }
}

extension Dataset {
    var isParquet: Bool {
        files.allSatisfy { $0.path.lowercased().hasSuffix(".parquet") || $0.path.lowercased().hasSuffix(".pq") }
    }
}

/// Opens the readers of a repository's sources: file sources as datasets (relative to the
/// repository), database sources through their connectors, push sources as their batch
/// source plus the rows pushed to the offline store.
public struct RepositorySources: Sendable {
    public let root: String
    public let definitions: Definitions
    public let connectors: [any SourceConnector]

    public init(root: String, definitions: Definitions, connectors: [any SourceConnector] = []) {
        self.root = root
        self.definitions = definitions
        self.connectors = connectors
    }

    /// The connector of a database source's kind.
    public func connector(for source: DataSource) throws -> any SourceConnector {
        guard let found = connectors.first(where: { $0.type == source.kind.name }) else {
            throw MissingSourceConnector(
                description: "source '\(source.name)' is of type '\(source.kind.name)', which this build cannot read")
        }
        return found
    }

    /// The absolute location of a path written in a definition file.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : root + "/" + path
    }

    /// The types the views declare for a source's columns (features, join keys, timestamps).
    public func declaredTypes(of source: DataSource) -> [String: ValueType] {
        let columns = definitions.sourceColumns(of: source)
        var types: [String: ValueType] = [columns.timestamp: .timestamp]
        if let created = columns.created { types[created] = .timestamp }
        let names = Set(
            [source.name]
                + definitions.sources.filter {
                    if case .push(let batch) = $0.kind { return batch == source.name }
                    return false
                }.map(\.name))
        for view in definitions.featureViews where names.contains(view.source) {
            for key in definitions.joinKeys(of: view) { types[columns.sourceColumn(for: key.name)] = key.type }
            for feature in view.plainFeatures where feature.expression == nil {
                types[columns.sourceColumn(for: feature.name)] = feature.type
            }
            for (name, type) in view.expressionInputs ?? [:] { types[columns.sourceColumn(for: name)] = type }
            for feature in view.aggregatedFeatures {
                if let column = feature.aggregation?.column, let input = feature.aggregation?.inputType {
                    types[columns.sourceColumn(for: column)] = input
                }
            }
        }
        return types
    }

    public func readers(for source: DataSource) throws -> [any SourceReader] {
        switch source.kind {
        case .file(let path, let format):
            let location = resolve(path)
            let fileFormat: any DatasetFileFormat =
                format == .csv ? CSVFormat(declaredTypes: declaredTypes(of: source)) : ParquetFormat()
            return [DatasetSourceReader(dataset: try Dataset.open(location, format: fileFormat))]
        case .postgres:
            return [try connector(for: source).reader(for: source, root: root)]
        case .push(let batchName):
            var out: [any SourceReader] = []
            if let batchName, let batch = definitions.source(batchName) {
                out += try readers(for: batch)
            }
            out += try PushLog(root: root, source: source.name).readers(declaredTypes: declaredTypes(of: source))
            return out
        }
    }

    /// The rows a view's source holds, when the files (Parquet footers) or the database's
    /// statistics say; for progress bars.
    public func estimatedRows(of view: FeatureView, definitions: Definitions) throws -> Int? {
        guard let source = definitions.source(view.source) else { return nil }
        var total = 0
        for reader in try readers(for: source) {
            if let estimating = reader as? any EstimatingSourceReader {
                guard let rows = estimating.estimatedRows() else { return nil }
                total += rows
                continue
            }
            guard let dataset = (reader as? DatasetSourceReader)?.dataset else { continue }
            for file in dataset.files {
                guard file.path.lowercased().hasSuffix(".parquet"), let parquet = try? ParquetFile(path: file.path)
                else {
                    return nil
                }
                total += parquet.rowCount
            }
        }
        return total
    }
}
