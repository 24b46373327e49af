import Synchronization
import TesseraColumnar
import TesseraCore

/// An online store in process memory: the reference implementation of `OnlineStore`, for
/// tests and for programs that embed Tessera and need no persistence.
///
/// It keeps, per view and entity key, the latest row by `LatestWins`, and passes the same
/// conformance suite as the embedded SQLite store. Everything is lost when the process ends.
public final class MemoryOnlineStore: OnlineStore {
    struct Row: Sendable {
        var event: Int64
        var created: Int64
        var values: [String: ScalarValue]
    }

    struct Tables: Sendable {
        var rows: [String: [EntityKey: Row]] = [:]
        var states: [String: [EntityKey: [UInt8]]] = [:]
        var log: [OnlineLogRecord] = []
        var logMark: Int64 = 0
        var logHead: Int64 = 0
    }

    /// Rows and states behind one lock, so a write of both is atomic.
    private let tables = Mutex(Tables())

    public init() {}

    @discardableResult
    public func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate]) throws(OnlineStoreError)
        -> [OnlineWriteSummary]
    {
        try write(batches, states: states, log: OnlineLogChange()).summaries
    }

    public var keepsStateLog: Bool { true }

    public func readStateLog(after seq: Int64) throws(OnlineStoreError) -> OnlineLogRead {
        tables.withLock { OnlineLogRead(records: $0.log.filter { $0.seq > seq }, mark: $0.logMark, head: $0.logHead) }
    }

    @discardableResult
    public func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate], log: OnlineLogChange)
        throws(OnlineStoreError) -> OnlineLoggedWrite
    {
        // Validate and pick the winners of every batch before touching the store: all or nothing.
        var prepared: [(view: String, rows: [(EntityKey, Row)], received: Int)] = []
        for batch in batches {
            guard batch.count > 0 else {
                prepared.append((batch.view, [], 0))
                continue
            }
            let keys = try EncodedKeys(columns: batch.joinKeys, rows: batch.count)
            let winners = NewestPerKey.select(
                keys: keys, events: batch.eventTimestamps, created: batch.createdTimestamps)
            var rows: [(EntityKey, Row)] = []
            rows.reserveCapacity(winners.count)
            for row in winners {
                var values: [String: ScalarValue] = [:]
                for (name, column) in zip(batch.featureNames, batch.features) { values[name] = column.value(at: row) }
                rows.append(
                    (
                        keys.key(row),
                        Row(
                            event: batch.eventTimestamps[row], created: batch.createdTimestamps?[row] ?? Int64.min,
                            values: values)
                    ))
            }
            prepared.append((batch.view, rows, batch.count))
        }
        return try tables.withLock { (tables) throws(OnlineStoreError) -> OnlineLoggedWrite in
            if let expected = log.expectedMark, expected != tables.logMark {
                throw OnlineStoreError(
                    .conflict,
                    "another writer folded the pushed-event log through record \(tables.logMark) (this one expected \(expected)); nothing was written"
                )
            }
            let summaries = prepared.map { write in
                guard write.received > 0 else { return OnlineWriteSummary(received: 0, written: 0, skipped: 0) }
                var table = tables.rows[write.view] ?? [:]
                var written = 0
                for (key, row) in write.rows {
                    if let held = table[key],
                        !LatestWins.replaces(
                            event: row.event, created: row.created, heldEvent: held.event, heldCreated: held.created)
                    {
                        continue
                    }
                    table[key] = row
                    written += 1
                }
                tables.rows[write.view] = table
                return OnlineWriteSummary(received: write.received, written: written, skipped: write.received - written)
            }
            for update in states {
                var table = update.replacesAll ? [:] : tables.states[update.view] ?? [:]
                for (index, key) in update.keys.enumerated() {
                    table[key] = update.transform(index, table[key])
                }
                tables.states[update.view] = table
            }
            var appended: [Int64] = []
            for record in log.append {
                tables.logHead += 1
                tables.log.append(OnlineLogRecord(seq: tables.logHead, view: record.view, payload: record.payload))
                appended.append(tables.logHead)
            }
            if let (view, through) = log.discard {
                tables.log.removeAll { $0.view == view && $0.seq <= through }
            }
            if let through = log.foldThrough {
                tables.log.removeAll { $0.seq <= through }
                tables.logMark = max(tables.logMark, through)
            }
            return OnlineLoggedWrite(summaries: summaries, appended: appended)
        }
    }

    public func readRecords(view: String, keys: [EntityKey], features: [String]) throws(OnlineStoreError)
        -> [OnlineRecord?]
    {
        tables.withLock { tables in
            guard let table = tables.rows[view] else { return Array(repeating: nil, count: keys.count) }
            return keys.map { key in
                table[key].map { row in
                    OnlineRecord(
                        eventTimestamp: Timestamp(microseconds: row.event),
                        createdTimestamp: Timestamp(microseconds: row.created), values: features.map { row.values[$0] })
                }
            }
        }
    }

    public func readStates(view: String, keys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?] {
        tables.withLock { tables in
            guard let table = tables.states[view] else { return Array(repeating: nil, count: keys.count) }
            return keys.map { table[$0] }
        }
    }

    public func stateCount(view: String) throws(OnlineStoreError) -> Int {
        tables.withLock { $0.states[view]?.count ?? 0 }
    }

    public func dropView(_ view: String) throws(OnlineStoreError) {
        tables.withLock {
            $0.rows[view] = nil
            $0.states[view] = nil
            $0.log.removeAll { $0.view == view }
        }
    }

    public func rowCount(view: String) throws(OnlineStoreError) -> Int {
        tables.withLock { $0.rows[view]?.count ?? 0 }
    }

    public func viewNames() throws(OnlineStoreError) -> [String] {
        tables.withLock { tables in
            Set(tables.rows.filter { !$0.value.isEmpty }.keys).union(tables.states.filter { !$0.value.isEmpty }.keys)
                .sorted()
        }
    }
}
