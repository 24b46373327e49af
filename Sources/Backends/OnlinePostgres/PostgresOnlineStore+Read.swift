import NIOCore
import PostgresNIO
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraPostgres

extension PostgresOnlineStore {
    public func readRecords(view: String, keys entityKeys: [EntityKey], features: [String]) throws(OnlineStoreError)
        -> [OnlineRecord?]
    {
        guard !entityKeys.isEmpty else { return [] }
        let result = try run(
            """
            SELECT r.key, r.event_ts, r.created_ts, r.layout, r.value
            FROM \(unescaped: tables.rows) r JOIN \(unescaped: tables.views) v ON v.id = r.view_id
            WHERE v.name = \(view) AND r.key = ANY(\(Bytea.array(entityKeys))::bytea[])
            """)
        var found: [(key: EntityKey, event: Int64, created: Int64, layout: Int64, value: ByteBuffer)] = []
        found.reserveCapacity(result.count)
        for row in result {
            let (key, event, created, layout, value) = try decode("row of '\(view)'") {
                try row.decode((ByteBuffer, Int64, Int64, Int64, ByteBuffer).self)
            }
            found.append((EntityKey(bytes: Array(buffer: key)), event, created, layout, value))
        }
        var known = layouts.withLock { $0 }
        let missing = Set(found.map(\.layout)).filter { known[$0] == nil }
        if !missing.isEmpty {
            try loadLayouts(Array(missing))
            known = layouts.withLock { $0 }
        }
        // Rows come back in index order; answers go in request order (a key asked twice gets its row twice).
        var slots: [EntityKey: Int] = [:]
        var decoded: [OnlineRecord] = []
        decoded.reserveCapacity(found.count)
        var positions: (id: Int64, positions: [Int?])?
        for entry in found {
            guard let layout = known[entry.layout] else {
                throw OnlineStoreError(
                    .corrupt, "a row of '\(view)' in \(place) names a layout the store does not hold")
            }
            if positions?.id != entry.layout { positions = (entry.layout, features.map { layout.position(of: $0) }) }
            let values = entry.value.withUnsafeReadableBytes { layout.decode(positions?.positions ?? [], from: $0) }
            guard let values else {
                throw OnlineStoreError(.corrupt, "a stored row of '\(view)' in \(place) does not match its layout")
            }
            slots[entry.key] = decoded.count
            decoded.append(
                OnlineRecord(
                    eventTimestamp: Timestamp(microseconds: entry.event),
                    createdTimestamp: Timestamp(microseconds: entry.created), values: values))
        }
        return entityKeys.map { slots[$0].map { decoded[$0] } }
    }

    /// Reads layouts written by another process into the cache.
    private func loadLayouts(_ ids: [Int64]) throws(OnlineStoreError) {
        let result = try run("SELECT id, spec FROM \(unescaped: tables.layouts) WHERE id = ANY(\(ids)::int8[])")
        var loaded: [Int64: RowLayout] = [:]
        for row in result {
            let (id, spec) = try decode("layout") { try row.decode((Int64, String).self) }
            guard let layout = RowLayout(spec: spec) else {
                throw OnlineStoreError(.corrupt, "a stored layout in \(place) does not parse: \(spec)")
            }
            loaded[id] = layout
        }
        layouts.withLock { cache in cache.merge(loaded) { old, _ in old } }
    }

    public func readStates(view: String, keys entityKeys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?] {
        guard !entityKeys.isEmpty else { return [] }
        let result = try run(
            """
            SELECT s.key, s.state
            FROM \(unescaped: tables.states) s JOIN \(unescaped: tables.views) v ON v.id = s.view_id
            WHERE v.name = \(view) AND s.key = ANY(\(Bytea.array(entityKeys))::bytea[])
            """)
        var states: [EntityKey: [UInt8]] = [:]
        for row in result {
            let (key, state) = try decode("aggregation state of '\(view)'") {
                try row.decode((ByteBuffer, ByteBuffer).self)
            }
            states[EntityKey(bytes: Array(buffer: key))] = Array(buffer: state)
        }
        return entityKeys.map { states[$0] }
    }
}
