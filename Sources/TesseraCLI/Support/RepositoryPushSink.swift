import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOnline
import TesseraServer

/// Offline pushes of `tessera serve`: appended to the repository's push log, which training
/// sets read together with the push source's batch source.
struct RepositoryPushSink: OfflinePushSink {
    let root: String
    let lookup: FeatureLookup

    func append(_ batch: RecordBatch, source: DataSource) async throws {
        let definitions = lookup.catalog().definitions
        try PushLog(root: root, source: source.name).append(batch, columns: definitions.sourceColumns(of: source))
    }
}
