import Synchronization
import TesseraCore
import TesseraOnline
import TesseraSQLite

/// The writer connection and its compiled statements; only used under `SQLiteOnlineStore.writer`'s lock.
struct WriterState {
    let connection: SQLiteConnection
    /// Upsert statements by view id.
    var upserts: [Int64: SQLiteStatement] = [:]
    /// Aggregation-state statements (read, upsert, delete), compiled on first use.
    var stateStatements:
        (select: SQLiteStatement, upsert: SQLiteStatement, update: SQLiteStatement, delete: SQLiteStatement)?
    /// The pushed-event log's append, compiled on first use.
    var logInsert: SQLiteStatement?
}

/// One reader connection (opened on first use) and its compiled statements.
struct ReaderState {
    var connection: SQLiteConnection?
    /// Point-read statements by view id.
    var selects: [Int64: SQLiteStatement] = [:]
    /// The point read of aggregation state.
    var stateSelect: SQLiteStatement?
    /// The positions of the last feature list read, in the last layout seen: clients ask for
    /// the same features again and again, so the names are looked up once, not per row.
    var positions: (layout: Int64, features: [String], positions: [Int?])?
    var begin: SQLiteStatement?
    var commit: SQLiteStatement?
    /// When the open read transaction began (monotonic ns), `nil` when none is open.
    var snapshotSince: UInt64?
    /// The store's write generation when it began.
    var snapshotGeneration: UInt64 = 0
}

/// A reader connection behind its own lock: a thread takes a free slot, so reads run in parallel.
final class ReaderSlot: Sendable {
    let state = Mutex(ReaderState())
}

extension ReaderState {
    /// The open connection, opening it on first use.
    mutating func connection(_ store: SQLiteOnlineStore) throws(OnlineStoreError) -> SQLiteConnection {
        if let connection { return connection }
        let opened = try SQLiteOnlineStore.openConnection(
            path: store.path, configuration: store.configuration, writer: false)
        connection = opened
        return opened
    }

    /// The compiled point read for a view's table.
    mutating func select(_ viewID: Int64, _ store: SQLiteOnlineStore) throws(OnlineStoreError) -> SQLiteStatement {
        if let statement = selects[viewID] { return statement }
        let db = try connection(store)
        do {
            let statement = try db.prepare(
                "SELECT event_ts, created_ts, layout, value FROM \(SQLiteOnlineStore.tableName(viewID)) WHERE key = ?1"
            )
            selects[viewID] = statement
            return statement
        } catch {
            throw store.wrap(error)
        }
    }
}

extension ReaderState {
    /// Where each of `features` sits in `layout` (`nil`: the layout lacks it).
    mutating func positions(of features: [String], in layout: RowLayout, id: Int64) -> [Int?] {
        if let cached = positions, cached.layout == id, cached.features == features { return cached.positions }
        let found = features.map { layout.position(of: $0) }
        positions = (id, features, found)
        return found
    }
}

extension ReaderState {
    /// Makes sure a read transaction is open and fresh enough: reuses the current one when it
    /// is younger than `store.snapshotNanos` and no write went through the store since.
    mutating func snapshot(_ store: SQLiteOnlineStore, now: UInt64) throws(OnlineStoreError) {
        let generation = store.writeGeneration.load(ordering: .acquiring)
        if let since = snapshotSince, now &- since < store.snapshotNanos, snapshotGeneration == generation,
            generation & 1 == 0
        {
            return
        }
        endSnapshot()
        let db = try connection(store)
        do throws(SQLiteError) {
            if begin == nil { begin = try db.prepare("BEGIN") }
            if commit == nil { commit = try db.prepare("COMMIT") }
            try begin?.run()
        } catch {
            throw store.wrap(error)
        }
        snapshotSince = now
        snapshotGeneration = generation
        if store.snapshotNanos > 0 { store.requestSweep() }
    }

    /// Ends the open read transaction, if any (a read-only commit cannot fail in a way that matters).
    mutating func endSnapshot() {
        guard snapshotSince != nil else { return }
        snapshotSince = nil
        try? commit?.run()
    }
}

extension SQLiteOnlineStore {
    /// Makes sure a sweep will close the snapshots readers leave open once they go idle, so
    /// they never hold back WAL checkpoints for long. Sweeps run only while snapshots are
    /// open (an idle store costs nothing), at most every `sweepInterval`.
    func requestSweep() {
        guard sweepScheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        let interval = max(snapshotNanos, SQLiteOnlineStore.sweepInterval)
        Task.detached(priority: .utility) { [weak self] in
            try? await Task.sleep(nanoseconds: interval)
            guard let self else { return }
            let stillOpen = self.closeIdleSnapshots()
            self.sweepScheduled.store(false, ordering: .releasing)
            if stillOpen { self.requestSweep() }
        }
    }

    /// The shortest time between two sweeps (10 ms): a snapshot is closed at most this long
    /// after its reader goes idle past `snapshotReuse`.
    static let sweepInterval: UInt64 = 10_000_000

    /// Closes the snapshots idle past `snapshotReuse`; returns whether any snapshot is still open.
    func closeIdleSnapshots() -> Bool {
        let now = MonotonicClock.nanoseconds()
        var open = false
        for slot in readers {
            let busy = slot.state.withLockIfAvailable { state -> Bool in
                if let since = state.snapshotSince, now &- since >= snapshotNanos { state.endSnapshot() }
                return state.snapshotSince != nil
            }
            open = open || (busy ?? true)
        }
        return open
    }

    /// Runs `body` with a reader connection: a free one if any, else waits for one.
    func withReader<T: Sendable>(_ body: (inout ReaderState) throws(OnlineStoreError) -> T) throws(OnlineStoreError)
        -> T
    {
        let start = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        let count = readers.count
        for offset in 0..<count {
            let slot = readers[((start &+ offset) & Int.max) % count]
            let result: Result<T, OnlineStoreError>? = slot.state.withLockIfAvailable { state in
                do throws(OnlineStoreError) {
                    return .success(try body(&state))
                } catch {
                    return .failure(error)
                }
            }
            if let result { return try result.get() }
        }
        return try readers[(start & Int.max) % count].state.withLock { (state) throws(OnlineStoreError) -> T in
            try body(&state)
        }
    }

    /// Runs `body` with the writer connection.
    func withWriter<T: Sendable>(_ body: (inout WriterState) throws(OnlineStoreError) -> T) throws(OnlineStoreError)
        -> T
    {
        try writer.withLock { (state) throws(OnlineStoreError) -> T in
            // A seqlock: odd while a write may commit, so a reader never reuses a snapshot it
            // began meanwhile (one begun just before a commit would hide it from a reader that
            // already saw it through another connection: reads must never go back in time).
            writeGeneration.add(1, ordering: .acquiringAndReleasing)
            defer { writeGeneration.add(1, ordering: .releasing) }
            return try body(&state)
        }
    }
}
