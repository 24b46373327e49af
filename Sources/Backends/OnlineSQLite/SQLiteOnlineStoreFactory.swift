import TesseraCore
import TesseraDefinitions
import TesseraOnline

/// `online_store: {type: sqlite, path: .tessera/online.db, …}`, the default.
public struct SQLiteOnlineStoreFactory: OnlineStoreFactory {
    public init() {}

    public var type: String { "sqlite" }
    public var summary: String { "one SQLite file in WAL mode in the repository (embedded, nothing to install)" }
    public var options: [BackendOption] {
        typealias Configuration = SQLiteOnlineStore.Configuration
        let defaults = Configuration()
        return [
            BackendOption(
                "path", .path, default: ".tessera/online.db", help: "the store's file, relative to the repository"),
            BackendOption(
                "durability", .choice(["normal", "full"]), default: defaults.durability.rawValue,
                help:
                    "normal: safe against crashes of the process; full: every commit also reaches the disk before it returns"
            ),
            BackendOption(
                "table_layout", .choice(Configuration.TableLayout.allCases.map(\.rawValue)),
                default: defaults.tableLayout.rawValue,
                help:
                    "clustered: one B-tree per view keyed by entity (measured fastest); rowid: a table plus a key index"
            ),
            BackendOption(
                "readers", .integer(1...256), default: String(defaults.readers),
                help: "reader connections, so reads from many threads run in parallel"),
            BackendOption(
                "cache_size", .size, default: ByteSize.format(defaults.cacheMegabytes << 20),
                help: "SQLite's page cache per connection"),
            BackendOption(
                "mmap_size", .size, default: ByteSize.format(defaults.mmapMegabytes << 20),
                help: "memory-mapped window over the file (reads without copying pages); 0 turns it off"),
            BackendOption(
                "checkpoint_size", .size, default: ByteSize.format(defaults.checkpointMegabytes << 20),
                help:
                    "how large the write-ahead log grows before it is copied into the file (larger: fewer copies and syncs under many writes)"
            ),
            BackendOption(
                "fold_rows", .integer(1...(1 << 30)), default: String(PendingStatesDefaults.foldRows),
                help:
                    "pushed rows of window aggregations kept in the store's log (and in each process's memory, about 150 bytes a row, estimated) before a push folds them into the stored states"
            ),
            BackendOption(
                "snapshot_reuse", .duration, default: "1ms",
                help:
                    "how long a reader keeps one read snapshot across reads (0 starts one per read); writes by another process show up within it"
            ),
        ]
    }

    public func makeStore(_ settings: BackendSettings) throws(OnlineStoreError) -> any OnlineStore {
        try SQLiteOnlineStore(
            path: settings.path("path") ?? settings.root + "/.tessera/online.db",
            configuration: SQLiteOnlineStoreFactory.configuration(settings))
    }

    /// The store's configuration from validated settings.
    public static func configuration(_ settings: BackendSettings) -> SQLiteOnlineStore.Configuration {
        var configuration = SQLiteOnlineStore.Configuration()
        if let text = settings.string("durability"),
            let value = SQLiteOnlineStore.Configuration.Durability(rawValue: text)
        {
            configuration.durability = value
        }
        if let text = settings.string("table_layout"),
            let value = SQLiteOnlineStore.Configuration.TableLayout(rawValue: text)
        {
            configuration.tableLayout = value
        }
        if let readers = settings.integer("readers") { configuration.readers = readers }
        if let bytes = settings.size("cache_size") { configuration.cacheMegabytes = max(1, bytes >> 20) }
        if let bytes = settings.size("mmap_size") { configuration.mmapMegabytes = bytes >> 20 }
        if let bytes = settings.size("checkpoint_size") { configuration.checkpointMegabytes = max(1, bytes >> 20) }
        if let span = settings.duration("snapshot_reuse") {
            configuration.snapshotReuse = .microseconds(span.microseconds)
        }
        return configuration
    }
}
