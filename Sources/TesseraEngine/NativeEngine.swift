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

    public init(root: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.root = root
        self.threads = max(1, threads)
    }

    func readers(_ definitions: Definitions) -> @Sendable (DataSource) throws -> [any SourceReader] {
        let sources = RepositorySources(root: root, definitions: definitions)
        return { try sources.readers(for: $0) }
    }

    public func trainingSet(
        _ request: TrainingSetRequest, definitions: Definitions, progress: @escaping @Sendable (String) -> Void
    ) throws -> TrainingSet {
        try TrainingSetBuilder(definitions: definitions, readers: readers(definitions)).build(
            request, progress: progress)
    }

    public func latestRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> LatestRowsStats {
        try Materializer(definitions: definitions, readers: readers(definitions)).latestRows(
            of: request.view, start: request.start, end: request.end, threads: request.threads ?? threads,
            batchRows: request.batchRows, retainedRowLimit: request.retainedRowLimit, progress: progress, emit: emit)
    }

    public func appendPushed(_ batch: RecordBatch, source: DataSource, definitions: Definitions, pushID: String)
        throws
    {
        try PushLog(root: root, source: source.name).append(
            batch, columns: definitions.sourceColumns(of: source), pushID: pushID)
    }

    public func estimatedRows(of view: FeatureView, definitions: Definitions) -> Int? {
        try? RepositorySources(root: root, definitions: definitions).estimatedRows(of: view, definitions: definitions)
    }

    public func validateSources(_ repository: FeatureRepository) -> [Diagnostic] {
        SourceValidation.diagnostics(for: repository)
    }

    public func columns(of source: DataSource, definitions: Definitions) -> [String: ValueType]? {
        guard let readers = try? RepositorySources(root: root, definitions: definitions).readers(for: source),
            let first = readers.first, let schema = try? first.schema()
        else { return nil }
        var out: [String: ValueType] = [:]
        for field in schema.fields { out[field.name] = field.type }
        return out
    }
}

/// `offline_store: {type: native}`.
public struct NativeEngineFactory: OfflineEngineFactory {
    public init() {}

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
            root: settings.root, threads: settings.integer("threads") ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}
