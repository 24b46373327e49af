import Synchronization
import TesseraCore
import TesseraOnline
import TesseraSQLite

/// The writer connection and its compiled statements; only used under `SQLiteOnlineStore.writer`'s lock.
struct WriterState {
    let connection: SQLiteConnection
    /// Upsert statements by view id.
    var upserts: [Int64: SQLiteStatement] = [:]
}

/// One reader connection (opened on first use) and its compiled statements.
struct ReaderState {
    var connection: SQLiteConnection?
    /// Point-read statements by view id.
    var selects: [Int64: SQLiteStatement] = [:]
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
    /// Makes sure a read transaction is open and fresh enough: reuses the current one when it
    /// is younger than `store.snapshotNanos` and no write went through the store since.
    mutating func snapshot(_ store: SQLiteOnlineStore, now: UInt64) throws(OnlineStoreError) {
        let generation = store.writeGeneration.load(ordering: .acquiring)
        if let since = snapshotSince, now &- since < store.snapshotNanos, snapshotGeneration == generation { return }
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
    }

    /// Ends the open read transaction, if any (a read-only commit cannot fail in a way that matters).
    mutating func endSnapshot() {
        guard snapshotSince != nil else { return }
        snapshotSince = nil
        try? commit?.run()
    }
}

extension SQLiteOnlineStore {
    /// Closes read snapshots left open longer than `snapshotReuse` by idle readers, so they
    /// never hold back WAL checkpoints; runs until the store is released.
    func startSnapshotSweeper() {
        let interval = max(snapshotNanos, 1_000_000)
        Task.detached(priority: .utility) { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: interval)
                guard let self else { return }
                self.closeIdleSnapshots()
            }
        }
    }

    func closeIdleSnapshots() {
        let now = MonotonicClock.nanoseconds()
        for slot in readers {
            slot.state.withLockIfAvailable { state in
                if let since = state.snapshotSince, now &- since >= snapshotNanos { state.endSnapshot() }
            }
        }
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
        try writer.withLock { (state) throws(OnlineStoreError) -> T in try body(&state) }
    }
}
