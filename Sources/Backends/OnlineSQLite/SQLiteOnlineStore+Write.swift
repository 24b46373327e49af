import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraSQLite

extension SQLiteOnlineStore {
    @discardableResult
    public func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate]) throws(OnlineStoreError)
        -> [OnlineWriteSummary]
    {
        try write(batches, states: states, log: OnlineLogChange()).summaries
    }

    public var keepsStateLog: Bool { true }

    @discardableResult
    public func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate], log: OnlineLogChange)
        throws(OnlineStoreError) -> OnlineLoggedWrite
    {
        // CPU work first, outside the writer lock: keys, the latest row per key, the encoded values.
        var prepared: [PreparedWrite] = []
        for batch in batches where batch.count > 0 {
            prepared.append(PreparedWrite(batch: batch, winners: try WinningRows(batch)))
        }
        guard !prepared.isEmpty || !states.isEmpty || !log.isEmpty else {
            return OnlineLoggedWrite(
                summaries: batches.map { _ in OnlineWriteSummary(received: 0, written: 0, skipped: 0) }, appended: [])
        }
        // One transaction for every batch: a push that feeds several views lands in all or none.
        let outcome = try withWriter { (state) throws(OnlineStoreError) -> WriteOutcome in
            let db = state.connection
            do throws(SQLiteError) {
                try db.execute("BEGIN IMMEDIATE")
                do throws(SQLiteError) {
                    if let expected = log.expectedMark {
                        let mark = try logMark(db)
                        guard mark == expected else {
                            try db.execute("ROLLBACK")
                            return .conflict(mark: mark)
                        }
                    }
                    var results: [(Int, Int64, Int64)] = []
                    for write in prepared {
                        results.append(try apply(write, &state))
                    }
                    for update in states { try apply(update, &state) }
                    let appended = try apply(log, &state)
                    try db.execute("COMMIT")
                    return .written(results, appended: appended)
                } catch {
                    try? db.execute("ROLLBACK")
                    // Statements compiled inside the rolled-back transaction may name tables it created.
                    state.upserts.removeAll()
                    throw error
                }
            } catch {
                throw wrap(error)
            }
        }
        let results: [(Int, Int64, Int64)]
        let appended: [Int64]
        switch outcome {
        case .conflict(let mark):
            throw OnlineStoreError(
                .conflict,
                "another writer folded the pushed-event log through record \(mark) (this one expected \(log.expectedMark ?? 0)); nothing was written"
            )
        case .written(let done, let numbers):
            (results, appended) = (done, numbers)
        }
        catalog.withLock {
            for (write, result) in zip(prepared, results) {
                $0.views[write.batch.view] = result.1
                $0.layouts[result.2] = write.layout
            }
        }
        return OnlineLoggedWrite(
            summaries: OnlineWriteSummary.perBatch(batches, writtenByNonEmpty: results.map(\.0)), appended: appended)
    }

    /// A log change, inside the writer's open transaction: the appended records' numbers.
    private func apply(_ log: OnlineLogChange, _ state: inout WriterState) throws(SQLiteError) -> [Int64] {
        let db = state.connection
        var appended: [Int64] = []
        if !log.append.isEmpty {
            if state.logInsert == nil {
                state.logInsert = try db.prepare("INSERT INTO tessera_state_log(view, payload) VALUES (?1, ?2)")
            }
            guard let insert = state.logInsert else { return [] }
            for record in log.append {
                insert.bind(1, record.view)
                record.payload.withUnsafeBytes { insert.bind(2, blob: $0) }
                try insert.run()
                appended.append(db.lastInsertRowID)
            }
        }
        if let (view, through) = log.discard {
            let delete = try db.prepare("DELETE FROM tessera_state_log WHERE view = ?1 AND seq <= ?2")
            delete.bind(1, view)
            delete.bind(2, through)
            try delete.run()
        }
        if let through = log.foldThrough {
            let delete = try db.prepare("DELETE FROM tessera_state_log WHERE seq <= ?1")
            delete.bind(1, through)
            try delete.run()
            let mark = try db.prepare(
                "UPDATE tessera_meta SET value = CAST(max(CAST(value AS INTEGER), ?1) AS TEXT) WHERE key = 'state_log_mark'"
            )
            mark.bind(1, through)
            try mark.run()
        }
        return appended
    }

    /// The log's mark, read on `db` (inside its transaction).
    func logMark(_ db: SQLiteConnection) throws(SQLiteError) -> Int64 {
        let statement = try db.prepare("SELECT CAST(value AS INTEGER) FROM tessera_meta WHERE key = 'state_log_mark'")
        return try statement.step() ? statement.int64(0) : 0
    }

    public func readStateLog(after seq: Int64) throws(OnlineStoreError) -> OnlineLogRead {
        try withReader { (reader) throws(OnlineStoreError) -> OnlineLogRead in
            // A fresh snapshot: the mark, the head and the records of one moment.
            reader.endSnapshot()
            try reader.snapshot(self, now: MonotonicClock.nanoseconds())
            defer { reader.endSnapshot() }
            let db = try reader.connection(self)
            do throws(SQLiteError) {
                let mark = try logMark(db)
                let head = try db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'tessera_state_log'")
                let last = try head.step() ? head.int64(0) : 0
                var records: [OnlineLogRecord] = []
                if last > seq {
                    let select = try db.prepare(
                        "SELECT seq, view, payload FROM tessera_state_log WHERE seq > ?1 ORDER BY seq")
                    select.bind(1, seq)
                    while try select.step() {
                        records.append(
                            OnlineLogRecord(seq: select.int64(0), view: select.string(1), payload: select.blob(2)))
                    }
                }
                return OnlineLogRead(records: records, mark: mark, head: last)
            } catch {
                throw wrap(error)
            }
        }
    }

    /// One batch's rows, inside the writer's open transaction: (rows written, view id, layout id).
    private func apply(_ write: PreparedWrite, _ state: inout WriterState) throws(SQLiteError) -> (Int, Int64, Int64) {
        let db = state.connection
        let batch = write.batch
        let viewID = try ensureView(batch.view, db)
        let layoutID = try ensureLayout(write.layout, viewID: viewID, db)
        let upsert = try upsertStatement(viewID, &state)
        let created = batch.createdTimestamps
        let keys = write.keys
        var written = 0
        for (r, row) in write.rows.enumerated() {
            // Slices bind without copying into new arrays; SQLite copies them (transient).
            keys.bytes[keys.offsets[row]..<keys.offsets[row + 1]].withUnsafeBytes {
                upsert.bind(1, blob: $0)
            }
            upsert.bind(2, batch.eventTimestamps[row])
            upsert.bind(3, created?[row] ?? Int64.min)
            upsert.bind(4, layoutID)
            write.values.bytes[write.values.offsets[r]..<write.values.offsets[r + 1]].withUnsafeBytes {
                upsert.bind(5, blob: $0)
            }
            try upsert.run()
            written += db.changes
        }
        return (written, viewID, layoutID)
    }

    /// One state update, inside the writer's open transaction: each key's held state is
    /// read, transformed and written back (or deleted).
    private func apply(_ update: OnlineStateUpdate, _ state: inout WriterState) throws(SQLiteError) {
        let db = state.connection
        if state.stateStatements == nil {
            state.stateStatements = (
                try db.prepare("SELECT state FROM tessera_states WHERE view = ?1 AND key = ?2"),
                try db.prepare("INSERT OR REPLACE INTO tessera_states(view, key, state) VALUES (?1, ?2, ?3)"),
                // A held state is rewritten in place: no delete and re-insert of its cell.
                try db.prepare("UPDATE tessera_states SET state = ?3 WHERE view = ?1 AND key = ?2"),
                try db.prepare("DELETE FROM tessera_states WHERE view = ?1 AND key = ?2")
            )
        }
        guard let (select, upsert, rewrite, delete) = state.stateStatements else { return }
        if update.replacesAll {
            let clear = try db.prepare("DELETE FROM tessera_states WHERE view = ?1")
            clear.bind(1, update.view)
            try clear.run()
        }
        // In key order: each write lands next to the previous one in the B-tree (a rebuild
        // appends pages instead of splitting them all over the table).
        let keys = update.keys
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        for index in order {
            let key = keys[index]
            var held: [UInt8]?
            if !update.replacesAll {
                select.bind(1, update.view)
                key.bytes.withUnsafeBytes { select.bind(2, blob: $0) }
                if try select.step() { held = select.blob(0) }
                select.reset()
            }
            if let next = update.transform(index, held) {
                // Unchanged (a push the state already took): nothing to write.
                if let held, held == next { continue }
                let statement = held == nil ? upsert : rewrite
                statement.bind(1, update.view)
                key.bytes.withUnsafeBytes { statement.bind(2, blob: $0) }
                statement.bind(3, blob: next)
                try statement.run()
            } else if held != nil {
                delete.bind(1, update.view)
                key.bytes.withUnsafeBytes { delete.bind(2, blob: $0) }
                try delete.run()
            }
        }
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
            WHERE \(LatestWins.sqlReplaces(new: ("excluded.event_ts", "excluded.created_ts"), old: ("\(table).event_ts", "\(table).created_ts")))
            """)
        state.upserts[viewID] = statement
        return statement
    }
}

/// How a write's transaction ended: committed (per batch: rows written, view id, layout id;
/// the appended log records), or rolled back because the log's mark moved.
private enum WriteOutcome: Sendable {
    case written([(Int, Int64, Int64)], appended: [Int64])
    case conflict(mark: Int64)
}

/// A batch ready to write: its winning rows, encoded.
private struct PreparedWrite {
    var batch: OnlineWriteBatch
    var winners: WinningRows
    var keys: EncodedKeys { winners.keys }
    var rows: [Int] { winners.rows }
    var layout: RowLayout { winners.layout }
    var values: EncodedRows { winners.values }
}
