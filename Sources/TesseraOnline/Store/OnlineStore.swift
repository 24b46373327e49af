import TesseraColumnar
import TesseraCore

/// One stored row as a backend returns it: its times and the requested features' values.
public struct OnlineRecord: Sendable, Equatable {
    public var eventTimestamp: Timestamp
    public var createdTimestamp: Timestamp
    /// One slot per requested feature, in request order; `nil` when the row does not hold
    /// that feature (it was written before the feature existed).
    public var values: [ScalarValue?]

    public init(eventTimestamp: Timestamp, createdTimestamp: Timestamp, values: [ScalarValue?]) {
        self.eventTimestamp = eventTimestamp
        self.createdTimestamp = createdTimestamp
        self.values = values
    }
}

/// The values served for one entity key: statuses and ttl already applied.
public struct OnlineFeatureRow: Sendable, Equatable {
    /// The stored row's event time; `nil` when the key was not found.
    public var eventTimestamp: Timestamp?
    /// One value per requested feature; null unless the status is `PRESENT`.
    public var values: [ScalarValue]
    public var statuses: [FeatureStatus]

    public init(eventTimestamp: Timestamp?, values: [ScalarValue], statuses: [FeatureStatus]) {
        self.eventTimestamp = eventTimestamp
        self.values = values
        self.statuses = statuses
    }
}

/// The online store seam: the latest feature values per (feature view, entity key).
///
/// Batched like Feast's `online_write_batch` / `online_read`. Implementations keep, per
/// view and key, one row: the latest by `LatestWins` (greatest event time, then created
/// time; on equal times the new write wins, so re-running the same load is idempotent).
/// Implementations do not apply ttl: `read(view:…)` (an extension) does, once for all
/// backends, through `OnlineStatusRules`.
///
/// **Threads and blocking.** The requirements are synchronous: an in-process store (the
/// embedded SQLite file, the in-memory store) answers a point read in about a microsecond,
/// which a task or a future would cost more than. They may block the calling thread on file
/// I/O or locks, so the feature server never calls them on an event loop: it runs them on its
/// blocking pool. A store that talks to a server over the network (Redis) also conforms to
/// `CallbackOnlineStore`, whose reads the server starts on its event loops and finishes
/// when the answer arrives, so no thread waits on the network. Methods may be called from
/// many threads at once.
///
/// Every implementation runs the conformance suite in `TesseraTesting`
/// (`OnlineStoreConformance`); adding a backend means passing it, then one line in
/// `TesseraApp/Backends.swift`.
public protocol OnlineStore: Sendable {
    /// Stores the latest row per entity key of every batch, atomically across all of them:
    /// every row of every view, or nothing (a push that feeds two views lands in both or neither).
    ///
    /// Within a batch, rows with equal keys are resolved by the same rule (`LatestWins`).
    /// - Returns: one summary per batch, in order.
    /// - Throws: `OnlineStoreError` when a batch is invalid or the store cannot write; then
    ///   nothing was written.
    ///
    /// `states` (aggregation state of window-aggregated views) are applied in the same
    /// transaction, after the rows: a push feeding a plain view and an aggregated one lands
    /// in both or neither.
    @discardableResult
    func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate]) throws(OnlineStoreError)
        -> [OnlineWriteSummary]

    /// Whether the store keeps a pushed-event log (`OnlineLogRecord`): then pushes append
    /// to it and the states are folded later. A default (`false`) serves stores without one.
    var keepsStateLog: Bool { get }

    /// `write(_:states:)` with a change to the pushed-event log in the same transaction.
    /// - Throws: `OnlineStoreError.Kind.conflict` when `log.expectedMark` is not the store's
    ///   mark (nothing is written); `.unsupported` for a log change in a store without a log.
    @discardableResult
    func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate], log: OnlineLogChange)
        throws(OnlineStoreError) -> OnlineLoggedWrite

    /// The log records numbered above `seq`, the mark and the head (all from one snapshot).
    func readStateLog(after seq: Int64) throws(OnlineStoreError) -> OnlineLogRead

    /// The aggregation states of `view` for `keys`, in request order, `nil` for a key with none.
    func readStates(view: String, keys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?]

    /// The number of entity keys with aggregation state for `view`.
    func stateCount(view: String) throws(OnlineStoreError) -> Int

    /// The stored rows of `view` for `keys`, in request order, `nil` for a key with no row.
    ///
    /// A view never written reads as all `nil`.
    /// - Parameter features: the features to decode, in the order wanted.
    func readRecords(view: String, keys: [EntityKey], features: [String]) throws(OnlineStoreError)
        -> [OnlineRecord?]

    /// Removes every row and state of `view` (for views an apply removed). Dropping an unknown view does nothing.
    func dropView(_ view: String) throws(OnlineStoreError)

    /// The number of entity keys stored for `view` (0 for an unknown view).
    func rowCount(view: String) throws(OnlineStoreError) -> Int

    /// The views that hold rows or states, sorted by name.
    func viewNames() throws(OnlineStoreError) -> [String]
}

/// An online store reached over the network that can answer a read by calling back instead
/// of blocking a thread: the feature server answers lookups from such a store on its event
/// loops, with no thread waiting on the network (a blocked thread per request in flight
/// costs a context switch each way, which on a small machine is most of a lookup).
public protocol CallbackOnlineStore: OnlineStore {
    /// `readRecords(view:keys:features:)`; `done` is called exactly once, on the thread the
    /// answer arrived on (an event loop: keep the work there short).
    func readRecords(
        view: String, keys: [EntityKey], features: [String],
        done: @escaping @Sendable (Result<[OnlineRecord?], OnlineStoreError>) -> Void)
}

extension OnlineStore {
    /// Stores the latest row per entity key of every batch, atomically across all of them.
    @discardableResult
    public func write(_ batches: [OnlineWriteBatch]) throws(OnlineStoreError) -> [OnlineWriteSummary] {
        try write(batches, states: [])
    }

    /// Stores the latest row per entity key of one batch, atomically.
    @discardableResult
    public func write(_ batch: OnlineWriteBatch) throws(OnlineStoreError) -> OnlineWriteSummary {
        let summaries = try write([batch])
        return summaries.first ?? OnlineWriteSummary(received: 0, written: 0, skipped: 0)
    }
}

extension OnlineStore {
    /// The served values of `features` of `view` for `keys`, in request order, with
    /// Feast's statuses and the view's ttl applied at `now`.
    ///
    /// - Parameters:
    ///   - ttl: the view's ttl; zero means values never expire.
    ///   - now: the time of the read (injectable for tests).
    /// - Complexity: one store read of `keys.count` keys.
    public func read(view: String, keys: [EntityKey], features: [String], ttl: TimeSpan, now: Timestamp)
        throws(OnlineStoreError) -> [OnlineFeatureRow]
    {
        let records = try readRecords(view: view, keys: keys, features: features)
        return records.map { OnlineFeatureRow(record: $0, featureCount: features.count, ttl: ttl, now: now) }
    }
}

extension OnlineFeatureRow {
    /// Applies `OnlineStatusRules` to one record (or a miss).
    @inlinable
    public init(record: OnlineRecord?, featureCount: Int, ttl: TimeSpan, now: Timestamp) {
        guard let record else {
            self.init(
                eventTimestamp: nil, values: Array(repeating: .null, count: featureCount),
                statuses: Array(repeating: .notFound, count: featureCount))
            return
        }
        let expired = OnlineStatusRules.isExpired(eventTime: record.eventTimestamp, ttl: ttl, now: now)
        var values: [ScalarValue] = []
        var statuses: [FeatureStatus] = []
        values.reserveCapacity(featureCount)
        statuses.reserveCapacity(featureCount)
        for slot in record.values {
            let (value, status) = OnlineStatusRules.serve(slot, expired: expired)
            values.append(value)
            statuses.append(status)
        }
        self.init(eventTimestamp: record.eventTimestamp, values: values, statuses: statuses)
    }
}
