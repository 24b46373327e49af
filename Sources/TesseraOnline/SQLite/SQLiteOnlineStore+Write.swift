import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraSQLite

extension SQLiteOnlineStore {
    @discardableResult
    public func write(_ batch: OnlineWriteBatch) throws(OnlineStoreError) -> OnlineWriteSummary {
        guard batch.count > 0 else { return OnlineWriteSummary(received: 0, written: 0, skipped: 0) }
        // CPU work first, outside the writer lock: keys, the newest row per key, the encoded values.
        let keys = try EncodedKeys(columns: batch.joinKeys, rows: batch.count)
        let rows = NewestPerKey.select(keys: keys, events: batch.eventTimestamps, created: batch.createdTimestamps)
        let layout = RowLayout(fields: zip(batch.featureNames, batch.features.map(\.type)).map { ($0, $1) })
        let values = layout.encode(columns: batch.features, rows: rows)
        let created = batch.createdTimestamps
        let (written, viewID, layoutID) = try withWriter {
            (state) throws(OnlineStoreError) -> (Int, Int64, Int64) in
            let db = state.connection
            do throws(SQLiteError) {
                try db.execute("BEGIN IMMEDIATE")
                do throws(SQLiteError) {
                    let viewID = try ensureView(batch.view, db)
                    let layoutID = try ensureLayout(layout, viewID: viewID, db)
                    let upsert = try upsertStatement(viewID, &state)
                    var written = 0
                    for (r, row) in rows.enumerated() {
                        // Slices bind without copying into new arrays; SQLite copies them (transient).
                        keys.bytes[keys.offsets[row]..<keys.offsets[row + 1]].withUnsafeBytes {
                            upsert.bind(1, blob: $0)
                        }
                        upsert.bind(2, batch.eventTimestamps[row])
                        upsert.bind(3, created?[row] ?? Int64.min)
                        upsert.bind(4, layoutID)
                        values.bytes[values.offsets[r]..<values.offsets[r + 1]].withUnsafeBytes {
                            upsert.bind(5, blob: $0)
                        }
                        try upsert.run()
                        written += db.changes
                    }
                    try db.execute("COMMIT")
                    return (written, viewID, layoutID)
                } catch {
                    try? db.execute("ROLLBACK")
                    throw error
                }
            } catch {
                throw wrap(error)
            }
        }
        catalog.withLock {
            $0.views[batch.view] = viewID
            $0.layouts[layoutID] = layout
        }
        writeGeneration.add(1, ordering: .releasing)
        return OnlineWriteSummary(received: batch.count, written: written, skipped: batch.count - written)
    }

    /// The compiled newest-wins upsert for a view's table.
    ///
    /// A stored row is replaced only by a row at least as new: greater event time, or equal
    /// event time and greater-or-equal created time (so a rerun of the same load rewrites
    /// the same values: idempotent).
    private func upsertStatement(_ viewID: Int64, _ state: inout WriterState) throws(SQLiteError) -> SQLiteStatement {
        if let statement = state.upserts[viewID] { return statement }
        let table = SQLiteOnlineStore.tableName(viewID)
        let statement = try state.connection.prepare(
            """
            INSERT INTO \(table)(key, event_ts, created_ts, layout, value) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT(key) DO UPDATE SET event_ts = excluded.event_ts, created_ts = excluded.created_ts,
                layout = excluded.layout, value = excluded.value
            WHERE excluded.event_ts > \(table).event_ts
                OR (excluded.event_ts = \(table).event_ts AND excluded.created_ts >= \(table).created_ts)
            """)
        state.upserts[viewID] = statement
        return statement
    }
}

/// Picks, per entity key of a batch, the row that wins by the store's rule.
enum NewestPerKey {
    /// Row indices, one per distinct key, sorted by key: for each key the row with the
    /// greatest (event, created), the later row on a tie.
    ///
    /// Sorting by key also makes the inserts that follow append-mostly in the B-tree.
    /// - Complexity: O(n log n); O(n) when the rows are already in key order.
    static func select(keys: EncodedKeys, events: [Int64], created: [Int64]?) -> [Int] {
        let n = keys.count
        if n == 1 { return [0] }
        var order = Array(0..<n)
        if keys.isInteger {
            // Every key is 8 bytes (an integer key): compare them as big-endian words.
            var words = [UInt64](repeating: 0, count: n)
            keys.bytes.withUnsafeBytes { raw in
                for i in 0..<n {
                    words[i] = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                }
            }
            var entries = (0..<n).map {
                Entry(key: words[$0], event: events[$0], created: created?[$0] ?? .min, row: $0)
            }
            entries.sort()
            var result: [Int] = []
            result.reserveCapacity(n)
            for i in 0..<n where i == n - 1 || entries[i + 1].key != entries[i].key { result.append(entries[i].row) }
            return result
        }
        keys.bytes.withUnsafeBufferPointer { bytes in
            func key(_ row: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: bytes[keys.offsets[row]..<keys.offsets[row + 1]])
            }
            order.sort { a, b in
                let ka = key(a)
                let kb = key(b)
                if !ka.elementsEqual(kb) { return ka.lexicographicallyPrecedes(kb) }
                let ca = created?[a] ?? .min
                let cb = created?[b] ?? .min
                return (events[a], ca, a) < (events[b], cb, b)
            }
        }
        var result: [Int] = []
        result.reserveCapacity(n)
        for i in 0..<n {
            let row = order[i]
            if i == n - 1 {
                result.append(row)
                break
            }
            let next = order[i + 1]
            if keys.bytes[keys.offsets[row]..<keys.offsets[row + 1]]
                != keys.bytes[keys.offsets[next]..<keys.offsets[next + 1]]
            {
                result.append(row)
            }
        }
        return result
    }

    struct Entry: Comparable {
        var key: UInt64
        var event: Int64
        var created: Int64
        var row: Int

        static func < (a: Entry, b: Entry) -> Bool {
            (a.key, a.event, a.created, a.row) < (b.key, b.event, b.created, b.row)
        }
    }
}
