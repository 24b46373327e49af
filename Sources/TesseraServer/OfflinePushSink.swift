import Synchronization
import TesseraColumnar
import TesseraDefinitions

/// Where pushes with `"to": "offline"` or `"online_and_offline"` go: an append-only log the
/// training-set engine reads beside the push source's batch source.
///
/// The server calls `append` once per accepted push, after validating and typing its
/// columns, and answers the client only when `append` returns. An implementation must
/// make each call atomic (all rows or none) and may be called concurrently.
public protocol OfflinePushSink: Sendable {
    /// Appends the rows of one push.
    ///
    /// - Parameters:
    ///   - batch: the pushed rows, typed from the registry: join keys, event time, created
    ///     time (when sent), then the fed views' features.
    ///   - source: the push source (its `batchSource` names the batch source it extends).
    /// - Throws: any error; the server answers 503 with its description.
    func append(_ batch: RecordBatch, source: DataSource) async throws
}

/// An `OfflinePushSink` that keeps every push in memory: a test double, and a model of the
/// contract for real implementations.
public final class InMemoryOfflinePushSink: OfflinePushSink {
    /// One recorded push.
    public struct Entry: Sendable {
        public var source: String
        public var batch: RecordBatch
    }

    private let entries = Mutex<[Entry]>([])
    private let failure: (any Error & Sendable)?

    /// A sink that records pushes, or fails every append with `failure` when given.
    public init(failingWith failure: (any Error & Sendable)? = nil) {
        self.failure = failure
    }

    public func append(_ batch: RecordBatch, source: DataSource) async throws {
        if let failure { throw failure }
        entries.withLock { $0.append(Entry(source: source.name, batch: batch)) }
    }

    /// The pushes recorded so far, in arrival order.
    public var recorded: [Entry] { entries.withLock { $0 } }
}
