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
        return OnlineWriteSummary.perBatch(batches, writtenByNonEmpty: written)
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
        for range in statements(rows.keys.count) {
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
        if !update.replacesAll {
            for range in statements(distinct.count) {
                let keys = Bytea.array(distinct[range])
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
        var changed: [EntityKey] = []
        var states: [[UInt8]] = []
        var removed: [EntityKey] = []
        for key in distinct {
            let next = current[key]
            if next == held[key] { continue }
            if let next {
                changed.append(key)
                states.append(next)
            } else {
                removed.append(key)
            }
        }
        for range in statements(changed.count) {
            try run(
                """
                INSERT INTO \(unescaped: tables.states)(view_id, key, state)
                SELECT \(view), k, s FROM unnest(\(Bytea.array(changed[range]))::bytea[],
                    \(Bytea.array(states[range].lazy.map { $0[...] }))::bytea[]) AS t(k, s)
                ON CONFLICT (view_id, key) DO UPDATE SET state = excluded.state
                """, on: connection)
        }
        for range in statements(removed.count) {
            try run(
                """
                DELETE FROM \(unescaped: tables.states)
                WHERE view_id = \(view) AND key = ANY(\(Bytea.array(removed[range]))::bytea[])
                """, on: connection)
        }
    }
}

/// A batch ready to send: per winning row (one per key, by `NewestPerKey`), its key, times
/// and encoded features, as `unnest`'s arrays.
struct PreparedRows {
    let view: String
    let layout: RowLayout
    let layoutID: Int64
    let keys: [ByteBuffer]
    let events: [Int64]
    let created: [Int64]
    let values: [ByteBuffer]

    init(_ batch: OnlineWriteBatch) throws(OnlineStoreError) {
        let winning = try WinningRows(batch)
        view = batch.view
        layout = winning.layout
        layoutID = Int64(bitPattern: winning.layout.digestID)
        keys = Bytea.array((0..<winning.count).lazy.map(winning.key))
        values = Bytea.array((0..<winning.count).lazy.map(winning.value))
        events = winning.rows.map { batch.eventTimestamps[$0] }
        created = winning.rows.map { batch.createdTimestamps?[$0] ?? Int64.min }
    }
}

/// Byte strings bound as one `bytea[]` parameter: one buffer holds them all and each element
/// is a slice of it, so binding a batch costs no allocation per element.
enum Bytea {
    static func array(_ elements: some Sequence<ArraySlice<UInt8>>) -> [ByteBuffer] {
        var buffer = ByteBuffer()
        var bounds: [(start: Int, length: Int)] = []
        bounds.reserveCapacity(elements.underestimatedCount)
        for element in elements {
            let start = buffer.writerIndex
            buffer.writeBytes(element)
            bounds.append((start, buffer.writerIndex - start))
        }
        return bounds.map { buffer.getSlice(at: $0.start, length: $0.length) ?? ByteBuffer() }
    }

    static func array(_ keys: some Sequence<EntityKey>) -> [ByteBuffer] {
        array(keys.lazy.map { $0.bytes[...] })
    }
}

extension PostgresOnlineStore {
    /// `0..<count` in pieces of at most `Configuration.rowsPerStatement`: one statement each.
    func statements(_ count: Int) -> [Range<Int>] {
        let size = max(1, configuration.rowsPerStatement)
        return stride(from: 0, to: count, by: size).map { $0..<min(count, $0 + size) }
    }
}
