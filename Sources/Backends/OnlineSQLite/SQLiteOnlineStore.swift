import Foundation
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraSQLite

/// The embedded online store: one SQLite file in WAL mode (by default `.tessera/online.db`).
///
/// Each feature view has its own table, clustered on the encoded entity key
/// (`WITHOUT ROWID`): a point read is one B-tree descent, and dropping a view is a
/// `DROP TABLE`. A row holds the event and created times, the id of its value layout and
/// the feature vector encoded compactly (`RowLayout`), so a read decodes only the
/// requested features.
///
/// Crash safety: every write batch is one transaction. In WAL mode a killed process loses
/// nothing committed and never leaves a half-written batch; with `durability: .normal`
/// (the default) a power loss may roll back the last few commits, never corrupt the file;
/// `.full` syncs every commit.
///
/// Concurrency: one writer connection behind a mutex, and a small set of reader
/// connections, each behind its own mutex, so reads from many threads run in parallel
/// and never wait for a write (WAL readers see the last committed state). Other processes
/// may write the same file (materialization while `tessera serve` runs).
public final class SQLiteOnlineStore: OnlineStore {
    /// Settings with defaults; see each field.
    public struct Configuration: Sendable {
        /// How each view's table is laid out; `clustered` measured fastest (docs/benchmarks.md).
        public enum TableLayout: String, Sendable, CaseIterable {
            /// `WITHOUT ROWID`, the primary key is the encoded entity key.
            case clustered
            /// A rowid table with a unique index on the key (two B-trees), kept for comparison.
            case rowidWithKeyIndex = "rowid"
        }

        public enum Durability: String, Sendable {
            /// `synchronous=NORMAL`: durable against process crashes, atomic always.
            case normal
            /// `synchronous=FULL`: every commit reaches the disk before `write` returns.
            case full
        }

        public var tableLayout: TableLayout = .clustered
        public var durability: Durability = .normal
        /// Reader connections (parallel reads); at least 1.
        public var readers: Int = 8
        /// SQLite page cache per connection, in MiB.
        public var cacheMegabytes: Int = 64
        /// Memory-mapped I/O window, in MiB (reads without copying pages); 0 disables it.
        public var mmapMegabytes: Int = 4096
        /// How large the write-ahead log grows before its pages are copied into the file, in
        /// MiB (4, SQLite's own 1,000 pages, by default). A larger log makes push-heavy loads
        /// faster — a page updated by many commits (aggregation states under pushes) is
        /// copied once per checkpoint, and the file synced less often — but every page still
        /// in the log is read with a system call instead of from the memory map, which slowed
        /// 100-entity lookups by a third at 64 MiB (docs/benchmarks.md).
        public var checkpointMegabytes: Int = 4
        /// How long a reader may keep one read snapshot across consecutive reads.
        ///
        /// Starting a read transaction costs two file-lock system calls, more than a point
        /// read itself; reusing the snapshot for a short while halves single-key latency.
        /// Writes through this store are always visible to the next read (they end every
        /// reused snapshot); writes by another process show up within this time. Idle
        /// snapshots are closed soon after it (within 10 ms), so checkpoints are not held back.
        /// `.zero` starts a fresh transaction for every read.
        public var snapshotReuse: Duration = .milliseconds(1)

        public init() {}
    }

    /// The database file.
    public let path: String
    public let configuration: Configuration
    let writer: Mutex<WriterState>
    let readers: [ReaderSlot]
    let nextReader = Atomic<Int>(0)
    let catalog = Mutex(Catalog())
    /// A seqlock over writes through this store (odd while one may commit; see `withWriter`), so reused read snapshots never hide a commit.
    let writeGeneration = Atomic<UInt64>(0)
    let snapshotNanos: UInt64
    /// Whether a sweep of idle snapshots is scheduled (see `requestSweep`).
    let sweepScheduled = Atomic<Bool>(false)

    /// Opens the store at `path`, creating the file, its folder and its tables if needed.
    ///
    /// - Throws: `OnlineStoreError` (`.corrupt` when the file is not a database, `.io` otherwise).
    public init(path: String, configuration: Configuration = Configuration()) throws(OnlineStoreError) {
        self.path = path
        self.configuration = configuration
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw OnlineStoreError(.io, "cannot create the online store's folder \(folder): \(error)")
            }
        }
        let connection = try SQLiteOnlineStore.openConnection(path: path, configuration: configuration, writer: true)
        writer = Mutex(WriterState(connection: connection))
        readers = (0..<max(1, configuration.readers)).map { _ in ReaderSlot() }
        let reuse = configuration.snapshotReuse.components
        snapshotNanos =
            UInt64(max(0, reuse.seconds)) * 1_000_000_000 + UInt64(max(0, reuse.attoseconds / 1_000_000_000))
        try reloadCatalog()
    }

    static func openConnection(path: String, configuration: Configuration, writer: Bool)
        throws(OnlineStoreError) -> SQLiteConnection
    {
        do {
            let db = try SQLiteConnection(path: path, mode: writer ? .readWriteCreate : .readWrite)
            // Reading the schema first detects a file that is not a database before anything is written.
            let check = try db.prepare("SELECT count(*) FROM sqlite_master")
            _ = try check.step()
            check.reset()
            try db.execute(
                """
                PRAGMA cache_size=-\(configuration.cacheMegabytes * 1024);
                PRAGMA mmap_size=\(configuration.mmapMegabytes * 1024 * 1024);
                PRAGMA temp_store=MEMORY;
                """)
            if writer {
                try db.execute(
                    """
                    PRAGMA journal_mode=WAL;
                    PRAGMA synchronous=\(configuration.durability == .full ? "FULL" : "NORMAL");
                    PRAGMA wal_autocheckpoint=\(max(1, configuration.checkpointMegabytes * 256));
                    CREATE TABLE IF NOT EXISTS tessera_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    INSERT OR IGNORE INTO tessera_meta(key, value) VALUES ('schema_version', '1');
                    CREATE TABLE IF NOT EXISTS tessera_views(
                        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE IF NOT EXISTS tessera_layouts(
                        id INTEGER PRIMARY KEY AUTOINCREMENT, view_id INTEGER NOT NULL, spec TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS tessera_states(
                        view TEXT NOT NULL, key BLOB NOT NULL, state BLOB NOT NULL, PRIMARY KEY(view, key)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS tessera_state_log(
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, view TEXT NOT NULL, payload BLOB NOT NULL);
                    INSERT OR IGNORE INTO tessera_meta(key, value) VALUES ('state_log_mark', '0');
                    """)
            } else {
                try db.execute("PRAGMA query_only=1")
            }
            return db
        } catch {
            throw wrap(error, path: path)
        }
    }

    /// Turns a SQLite error into one a user can act on.
    static func wrap(_ error: SQLiteError, path: String) -> OnlineStoreError {
        if error.isCorruption {
            return OnlineStoreError(
                .corrupt,
                "\(path) is not a readable online store (\(error.message)); move it aside and materialize again",
                detail: error.sql)
        }
        return OnlineStoreError(.io, "online store \(path): \(error.message)", detail: error.sql)
    }

    func wrap(_ error: SQLiteError) -> OnlineStoreError { SQLiteOnlineStore.wrap(error, path: path) }

    static func tableName(_ viewID: Int64) -> String { "fv_\(viewID)" }

    public func viewNames() throws(OnlineStoreError) -> [String] {
        try reloadCatalog()
        let withStates = try withReader { (reader) throws(OnlineStoreError) -> [String] in
            reader.endSnapshot()
            let db = try reader.connection(self)
            do throws(SQLiteError) {
                let statement = try db.prepare("SELECT DISTINCT view FROM tessera_states")
                var names: [String] = []
                while try statement.step() { names.append(statement.string(0)) }
                return names
            } catch {
                throw wrap(error)
            }
        }
        return Set(catalog.withLock { $0.views.keys }).union(withStates).sorted()
    }

    public func stateCount(view: String) throws(OnlineStoreError) -> Int {
        try withReader { (reader) throws(OnlineStoreError) -> Int in
            reader.endSnapshot()
            let db = try reader.connection(self)
            do throws(SQLiteError) {
                let statement = try db.prepare("SELECT count(*) FROM tessera_states WHERE view = ?1")
                statement.bind(1, view)
                guard try statement.step() else { return 0 }
                return Int(statement.int64(0))
            } catch {
                throw wrap(error)
            }
        }
    }

    public func rowCount(view: String) throws(OnlineStoreError) -> Int {
        guard let id = try viewID(view) else { return 0 }
        return try withReader { (reader) throws(OnlineStoreError) -> Int in
            reader.endSnapshot()
            do {
                let statement = try reader.connection(self).prepare(
                    "SELECT count(*) FROM \(SQLiteOnlineStore.tableName(id))")
                guard try statement.step() else { return 0 }
                return Int(statement.int64(0))
            } catch let error as SQLiteError {
                throw wrap(error)
            } catch let error as OnlineStoreError {
                throw error
            } catch {
                throw OnlineStoreError(.io, "\(error)")
            }
        }
    }
}

/// What the store knows about the file's catalog: view ids and value layouts.
///
/// Both only grow within a file's life (ids are never reused), so a stale copy is safe:
/// an unknown id or view makes the reader reload it from the file.
struct Catalog: Sendable {
    var views: [String: Int64] = [:]
    var layouts: [Int64: RowLayout] = [:]
}
