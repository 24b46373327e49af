import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// An engine that computes some requests elsewhere (a SQL engine) and leaves pushes, source
/// checks, window aggregations' input rows and estimates to a native engine, which reads
/// the same sources: what these requirements return does not depend on the engine.
public protocol NativeBackedEngine: OfflineEngine {
    var native: NativeEngine { get }
}

extension NativeBackedEngine {
    public func aggregationRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> Int {
        try native.aggregationRows(request, definitions: definitions, progress: progress, emit: emit)
    }

    public func appendPushed(_ batch: RecordBatch, source: DataSource, definitions: Definitions, pushID: String)
        throws
    {
        try native.appendPushed(batch, source: source, definitions: definitions, pushID: pushID)
    }

    public func estimatedRows(of view: FeatureView, definitions: Definitions) -> Int? {
        native.estimatedRows(of: view, definitions: definitions)
    }

    public func validateSources(_ repository: FeatureRepository) -> [Diagnostic] {
        native.validateSources(repository)
    }

    public func columns(of source: DataSource, definitions: Definitions) -> [String: ValueType]? {
        native.columns(of: source, definitions: definitions)
    }
}
