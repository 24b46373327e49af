import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraSQLite

extension SQLiteOnlineStore {
    public func readRecords(view: String, keys: [EntityKey], features: [String]) throws(OnlineStoreError)
        -> [OnlineRecord?]
    {
        guard !keys.isEmpty else { return [] }
        guard let viewID = try viewID(view) else { return Array(repeating: nil, count: keys.count) }
        do {
            return try readOnce(viewID: viewID, keys: keys, features: features)
        } catch let error where error.kind == .io {
            // The table may have been dropped (and the view recreated) by another process since
            // the catalog was read: reload it and try once more.
            try reloadCatalog()
            guard let fresh = catalog.withLock({ $0.views[view] }) else {
                return Array(repeating: nil, count: keys.count)
            }
            withReaderStatementsCleared(viewID)
            return try readOnce(viewID: fresh, keys: keys, features: features)
        }
    }

    public func readStates(view: String, keys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        return try withReader { (reader) throws(OnlineStoreError) -> [[UInt8]?] in
            let db = try reader.connection(self)
            do throws(SQLiteError) {
                if reader.stateSelect == nil {
                    reader.stateSelect = try db.prepare("SELECT state FROM tessera_states WHERE view = ?1 AND key = ?2")
                }
            } catch {
                throw wrap(error)
            }
            guard let select = reader.stateSelect else { return Array(repeating: nil, count: keys.count) }
            try reader.snapshot(self, now: MonotonicClock.nanoseconds())
            var out: [[UInt8]?] = []
            out.reserveCapacity(keys.count)
            do throws(SQLiteError) {
                for key in keys {
                    select.bind(1, view)
                    key.bytes.withUnsafeBytes { select.bind(2, blob: $0) }
                    out.append(try select.step() ? select.blob(0) : nil)
                    select.reset()
                }
            } catch {
                select.reset()
                reader.endSnapshot()
                throw wrap(error)
            }
            if snapshotNanos == 0 { reader.endSnapshot() }
            return out
        }
    }

    private func withReaderStatementsCleared(_ viewID: Int64) {
        for slot in readers {
            slot.state.withLock {
                $0.endSnapshot()
                $0.selects[viewID] = nil
            }
        }
    }

    private func readOnce(viewID: Int64, keys: [EntityKey], features: [String]) throws(OnlineStoreError)
        -> [OnlineRecord?]
    {
        var layouts = catalog.withLock { $0.layouts }
        var missingLayout = false
        var out = try withReader { (reader) throws(OnlineStoreError) -> [OnlineRecord?] in
            let select = try reader.select(viewID, self)
            var out: [OnlineRecord?] = []
            out.reserveCapacity(keys.count)
            // One read transaction for all keys: one consistent snapshot, one WAL lock (reused
            // for a moment by the next reads, see `Configuration.snapshotReuse`).
            try reader.snapshot(self, now: MonotonicClock.nanoseconds())
            do throws(SQLiteError) {
                for key in keys {
                    key.bytes.withUnsafeBytes { select.bind(1, blob: $0) }
                    guard try select.step() else {
                        select.reset()
                        out.append(nil)
                        continue
                    }
                    let layoutID = select.int64(2)
                    guard let layout = layouts[layoutID] else {
                        select.reset()
                        missingLayout = true
                        out.append(nil)
                        continue
                    }
                    let positions = reader.positions(of: features, in: layout, id: layoutID)
                    out.append(try decodeRow(select, layout: layout, positions: positions))
                    select.reset()
                }
            } catch {
                select.reset()
                reader.endSnapshot()
                throw wrap(error)
            }
            if snapshotNanos == 0 { reader.endSnapshot() }
            return out
        }
        if missingLayout {
            // Rows written by another process with a layout this one has not seen: reload, reread.
            try reloadCatalog()
            layouts = catalog.withLock { $0.layouts }
            out = try withReader { (reader) throws(OnlineStoreError) -> [OnlineRecord?] in
                reader.endSnapshot()
                let select = try reader.select(viewID, self)
                var again: [OnlineRecord?] = []
                for key in keys {
                    key.bytes.withUnsafeBytes { select.bind(1, blob: $0) }
                    defer { select.reset() }
                    do throws(SQLiteError) {
                        guard try select.step(), let layout = layouts[select.int64(2)] else {
                            again.append(nil)
                            continue
                        }
                        let positions = reader.positions(of: features, in: layout, id: select.int64(2))
                        again.append(try decodeRow(select, layout: layout, positions: positions))
                    } catch {
                        throw wrap(error)
                    }
                }
                return again
            }
        }
        return out
    }

    /// Decodes the requested features (at `positions` in `layout`) of the current row of `select`.
    private func decodeRow(_ select: SQLiteStatement, layout: RowLayout, positions: [Int?]) throws(SQLiteError)
        -> OnlineRecord
    {
        let event = Timestamp(microseconds: select.int64(0))
        let created = Timestamp(microseconds: select.int64(1))
        let decoded = select.withBlob(3) { blob -> [ScalarValue?]? in
            var values: [ScalarValue?] = []
            values.reserveCapacity(positions.count)
            for position in positions {
                guard let position else {
                    values.append(nil)
                    continue
                }
                guard let value = layout.decode(position, from: blob) else { return nil }
                values.append(value)
            }
            return values
        }
        guard let decoded else {
            throw SQLiteError(code: 11, message: "a stored feature vector does not match its layout", path: path)
        }
        return OnlineRecord(eventTimestamp: event, createdTimestamp: created, values: decoded)
    }
}
