import NIOCore
import PostgresNIO
import Synchronization
import TesseraCore
import TesseraOnline
import TesseraPostgres

extension PostgresOnlineStore {
    /// The advisory-lock class of state updates (the second key is the view's id).
    static let stateLockClass: Int32 = 736_875

    @discardableResult
    public func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate]) throws(OnlineStoreError)
        -> [OnlineWriteSummary]
    {
        // Everything that can be wrong with the input is found before anything is sent.
        var prepared: [PreparedRows] = []
        for batch in batches where batch.count > 0 { prepared.append(try PreparedRows(batch)) }
        let views = Set(prepared.map(\.view) + states.map(\.view)).sorted()
        guard !views.isEmpty else {
            return batches.map { _ in OnlineWriteSummary(received: 0, written: 0, skipped: 0) }
        }
        let known = layouts.withLock { $0 }
        var newLayouts: [Int64: RowLayout] = [:]
        for rows in prepared where known[rows.layoutID] == nil { newLayouts[rows.layoutID] = rows.layout }
        let written = try transaction { (connection) throws(OnlineStoreError) -> [Int] in
            let ids = try viewIDs(views, on: connection)
            if !newLayouts.isEmpty {
                let entries = newLayouts.sorted { $0.key < $1.key }
                try run(
                    """
                    INSERT INTO \(unescaped: tables.layouts)(id, spec)
                    SELECT * FROM unnest(\(entries.map(\.key))::int8[], \(entries.map(\.value.spec))::text[])
                    ON CONFLICT (id) DO NOTHING
                    """, on: connection)
            }
            var written: [Int] = []
            for rows in prepared {
                written.append(try upsert(rows, view: ids[rows.view] ?? 0, on: connection))
            }
            for update in states { try apply(update, view: ids[update.view] ?? 0, on: connection) }
            return written
        }
        layouts.withLock { cache in
            for (id, layout) in newLayouts { cache[id] = layout }
        }
        var summaries: [OnlineWriteSummary] = []
        var next = 0
        for batch in batches {
            guard batch.count > 0 else {
                summaries.append(OnlineWriteSummary(received: 0, written: 0, skipped: 0))
                continue
            }
            summaries.append(
                OnlineWriteSummary(received: batch.count, written: written[next], skipped: batch.count - written[next]))
            next += 1
        }
        return summaries
    }

    /// The ids of `views`, each made if missing, share-locked until the transaction ends (so
    /// a concurrent `dropView` cannot remove a view this write is filling).
    private func viewIDs(_ views: [String], on connection: PostgresConnection) throws(OnlineStoreError)
        -> [String: Int32]
    {
        for _ in 0..<4 {
            let found = try run(
                "SELECT id, name FROM \(unescaped: tables.views) WHERE name = ANY(\(views)::text[]) FOR SHARE",
                on: connection)
            var ids: [String: Int32] = [:]
            for row in found {
                let (id, name) = try decode("view") { try row.decode((Int32, String).self) }
                ids[name] = id
            }
            let missing = views.filter { ids[$0] == nil }
            if missing.isEmpty { return ids }
            // A view written for the first time; one being dropped right now is made anew.
            try run(
                """
                INSERT INTO \(unescaped: tables.views)(name) SELECT unnest(\(missing)::text[])
                ON CONFLICT (name) DO NOTHING
                """, on: connection)
        }
        throw OnlineStoreError(
            .conflict, "the views \(views.joined(separator: ", ")) kept being dropped while this write made them")
    }

    /// One batch's winning rows, newest-wins, in chunks: how many were stored.
    private func upsert(_ rows: PreparedRows, view: Int32, on connection: PostgresConnection)
        throws(OnlineStoreError) -> Int
    {
        let replaces = LatestWins.sqlReplaces(
            new: ("excluded.event_ts", "excluded.created_ts"), old: ("r.event_ts", "r.created_ts"))
        var written = 0
        let chunk = max(1, configuration.rowsPerStatement)
        for start in stride(from: 0, to: rows.keys.count, by: chunk) {
            let range = start..<min(rows.keys.count, start + chunk)
            let result = try run(
                """
                INSERT INTO \(unescaped: tables.rows) AS r(view_id, key, event_ts, created_ts, layout, value)
                SELECT \(view), k, e, c, \(rows.layoutID), v
                FROM unnest(\(Array(rows.keys[range]))::bytea[], \(Array(rows.events[range]))::int8[],
                    \(Array(rows.created[range]))::int8[], \(Array(rows.values[range]))::bytea[]) AS t(k, e, c, v)
                ON CONFLICT (view_id, key) DO UPDATE SET event_ts = excluded.event_ts,
                    created_ts = excluded.created_ts, layout = excluded.layout, value = excluded.value
                WHERE \(unescaped: replaces)
                """, on: connection)
            written += result.metadata.rows ?? 0
        }
        return written
    }

    /// One state update inside the write's transaction: each key's held state is read,
    /// transformed and written back (or removed), under the view's advisory lock so no other
    /// writer changes the held states in between.
    private func apply(_ update: OnlineStateUpdate, view: Int32, on connection: PostgresConnection)
        throws(OnlineStoreError)
    {
        try run("SELECT pg_advisory_xact_lock(\(Self.stateLockClass), \(view))", on: connection)
        if update.replacesAll {
            try run("DELETE FROM \(unescaped: tables.states) WHERE view_id = \(view)", on: connection)
        }
        var distinct: [EntityKey] = []
        var held: [EntityKey: [UInt8]] = [:]
        var seen: Set<EntityKey> = []
        for key in update.keys where seen.insert(key).inserted { distinct.append(key) }
        if !update.replacesAll && !distinct.isEmpty {
            let chunk = max(1, configuration.rowsPerStatement)
            for start in stride(from: 0, to: distinct.count, by: chunk) {
                let keys = distinct[start..<min(distinct.count, start + chunk)].map { ByteBuffer(bytes: $0.bytes) }
                let result = try run(
                    """
                    SELECT key, state FROM \(unescaped: tables.states)
                    WHERE view_id = \(view) AND key = ANY(\(keys)::bytea[])
                    """, on: connection)
                for row in result {
                    let (key, state) = try decode("aggregation state") { try row.decode((ByteBuffer, ByteBuffer).self) }
                    held[EntityKey(bytes: Array(buffer: key))] = Array(buffer: state)
                }
            }
        }
        // A key listed twice sees its first transform's result, as if applied one at a time.
        var current = held
        for (index, key) in update.keys.enumerated() {
            current[key] = update.transform(index, current[key])
        }
        var upsertKeys: [ByteBuffer] = []
        var upsertStates: [ByteBuffer] = []
        var removed: [ByteBuffer] = []
        for key in distinct {
            let next = current[key]
            let before = held[key]
            if next == before { continue }
            if let next {
                upsertKeys.append(ByteBuffer(bytes: key.bytes))
                upsertStates.append(ByteBuffer(bytes: next))
            } else {
                removed.append(ByteBuffer(bytes: key.bytes))
            }
        }
        let chunk = max(1, configuration.rowsPerStatement)
        for start in stride(from: 0, to: upsertKeys.count, by: chunk) {
            let range = start..<min(upsertKeys.count, start + chunk)
            try run(
                """
                INSERT INTO \(unescaped: tables.states)(view_id, key, state)
                SELECT \(view), k, s FROM unnest(\(Array(upsertKeys[range]))::bytea[], \(Array(upsertStates[range]))::bytea[]) AS t(k, s)
                ON CONFLICT (view_id, key) DO UPDATE SET state = excluded.state
                """, on: connection)
        }
        for start in stride(from: 0, to: removed.count, by: chunk) {
            let keys = Array(removed[start..<min(removed.count, start + chunk)])
            try run(
                "DELETE FROM \(unescaped: tables.states) WHERE view_id = \(view) AND key = ANY(\(keys)::bytea[])",
                on: connection)
        }
    }
}

/// A batch ready to send: per winning row (one per key, by `NewestPerKey`), its key, times
/// and encoded features.
struct PreparedRows {
    let view: String
    let layout: RowLayout
    let layoutID: Int64
    let keys: [ByteBuffer]
    let events: [Int64]
    let created: [Int64]
    let values: [ByteBuffer]

    init(_ batch: OnlineWriteBatch) throws(OnlineStoreError) {
        view = batch.view
        layout = RowLayout(fields: zip(batch.featureNames, batch.features.map(\.type)).map { ($0, $1) })
        layoutID = Int64(bitPattern: layout.digestID)
        let encodedKeys = try EncodedKeys(columns: batch.joinKeys, rows: batch.count)
        let rows = NewestPerKey.select(
            keys: encodedKeys, events: batch.eventTimestamps, created: batch.createdTimestamps)
        let encoded = layout.encode(columns: batch.features, rows: rows)
        var keys: [ByteBuffer] = []
        var events: [Int64] = []
        var created: [Int64] = []
        var values: [ByteBuffer] = []
        keys.reserveCapacity(rows.count)
        events.reserveCapacity(rows.count)
        created.reserveCapacity(rows.count)
        values.reserveCapacity(rows.count)
        for (winner, row) in rows.enumerated() {
            keys.append(ByteBuffer(bytes: encodedKeys.bytes[encodedKeys.offsets[row]..<encodedKeys.offsets[row + 1]]))
            events.append(batch.eventTimestamps[row])
            created.append(batch.createdTimestamps?[row] ?? Int64.min)
            values.append(ByteBuffer(bytes: encoded.bytes[encoded.offsets[winner]..<encoded.offsets[winner + 1]]))
        }
        (self.keys, self.events, self.created, self.values) = (keys, events, created, values)
    }
}
