import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// The embedded offline engine: reads the repository's Parquet and CSV sources (and the
/// offline push log) itself and computes training sets and materializations on this
/// machine's cores. `offline_store: {type: native}`, the default.
public struct NativeEngine: OfflineEngine {
    /// The repository's folder: source paths and the push log are relative to it.
    public let root: String
    /// Cores to use.
    public let threads: Int
    /// How sources in databases are read (`type: postgres`).
    public let connectors: [any SourceConnector]

    public init(
        root: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        connectors: [any SourceConnector] = []
    ) {
        self.root = root
        self.threads = max(1, threads)
        self.connectors = connectors
    }

    /// The repository's sources as this engine reads them.
    public func sources(_ definitions: Definitions) -> RepositorySources {
        RepositorySources(root: root, definitions: definitions, connectors: connectors)
    }

    func readers(_ definitions: Definitions) -> @Sendable (DataSource) throws -> [any SourceReader] {
        let sources = sources(definitions)
        return { try sources.readers(for: $0) }
    }

    public func trainingSet(
        _ request: TrainingSetRequest, definitions: Definitions, progress: @escaping @Sendable (String) -> Void
    ) throws -> TrainingSet {
        try TrainingSetBuilder(definitions: definitions, readers: readers(definitions)).build(
            request, progress: progress)
    }

    /// `latestRows` honours `keyPartition` and `entityBudget`.
    public var partitionsEntities: Bool { true }

    public func latestRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> LatestRowsStats {
        try Materializer(definitions: definitions, readers: readers(definitions)).latestRows(
            of: request.view, start: request.start, end: request.end, threads: request.threads ?? threads,
            batchRows: request.batchRows, retainedRowLimit: request.retainedRowLimit, partition: request.keyPartition,
            entityBudget: request.entityBudget, progress: progress, emit: emit)
    }

    public func aggregationRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> Int {
        let view = request.view
        let layout = AggregationInputsLayout(view.aggregatedFeatures)
        let lower = request.start.microseconds
        let upper = request.end.microseconds
        let scan = try ViewScan(
            view: view, features: [], definitions: definitions, lower: lower, upper: upper, inputs: layout.inputs)
        let schema = AggregationRows.schema(of: view, definitions: definitions)
        var read = 0
        try scan.run(readers: readers(definitions), threads: request.threads ?? threads) { typed, rows in
            read += rows
            let events = typed.events.int64Values ?? []
            var keep: [Int] = []
            keep.reserveCapacity(rows)
            for r in 0..<rows where typed.events.isValid(r) && events[r] >= lower && events[r] <= upper {
                if typed.keys.allSatisfy({ $0.isValid(r) }) { keep.append(r) }
            }
            progress(read)
            guard !keep.isEmpty else { return }
            var nulls = ColumnBuilder(type: .timestamp, capacity: keep.count)
            if typed.created == nil { for _ in keep { nulls.appendNull() } }
            let columns =
                typed.keys.map { $0.take(keep) } + [
                    typed.events.take(keep), typed.created?.take(keep) ?? nulls.finish(),
                ]
                + typed.inputs.map { $0.take(keep) }
            try emit(try RecordBatch(schema: schema, columns: columns))
        }
        return read
    }

    public func appendPushed(_ batch: RecordBatch, source: DataSource, definitions: Definitions, pushID: String)
        throws
    {
        try PushLog(root: root, source: source.name).append(
            batch, columns: definitions.sourceColumns(of: source), pushID: pushID)
    }

    public func estimatedRows(of view: FeatureView, definitions: Definitions) -> Int? {
        try? sources(definitions).estimatedRows(of: view, definitions: definitions)
    }

    public func validateSources(_ repository: FeatureRepository) -> [Diagnostic] {
        SourceValidation.diagnostics(for: repository, connectors: connectors)
    }

    public func columns(of source: DataSource, definitions: Definitions) -> [String: ValueType]? {
        guard let readers = try? sources(definitions).readers(for: source),
            let first = readers.first, let schema = try? first.schema()
        else { return nil }
        var out: [String: ValueType] = [:]
        for field in schema.fields { out[field.name] = field.type }
        return out
    }
}

/// `offline_store: {type: native}`.
public struct NativeEngineFactory: OfflineEngineFactory {
    /// The database source types the engine reads, besides files.
    public let connectors: [any SourceConnector]

    public init(connectors: [any SourceConnector] = []) {
        self.connectors = connectors
    }

    public var type: String { "native" }
    public var summary: String { "Tessera's own engine over the repository's Parquet and CSV files, on this machine" }
    public var options: [BackendOption] {
        [
            BackendOption(
                "threads", .integer(1...1024),
                help: "cores for training sets and materialization (default: every core; --threads overrides)")
        ]
    }

    public func makeEngine(_ settings: BackendSettings) throws -> any OfflineEngine {
        NativeEngine(
            root: settings.root, threads: settings.integer("threads") ?? ProcessInfo.processInfo.activeProcessorCount,
            connectors: connectors)
    }
}
