import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraOnlineSQLite
import TesseraTesting
import Testing

@Suite struct SQLiteOnlineStoreTests {
    static func batch(_ view: String, ids: [Int64], event: Int64, value: Double) throws -> OnlineWriteBatch {
        try OnlineWriteBatch(
            view: view, joinKeys: [.int64(ids)], eventTimestamps: .timestamp(Array(repeating: event, count: ids.count)),
            features: [("f", .float64(Array(repeating: value, count: ids.count)))])
    }

    static func value(_ store: SQLiteOnlineStore, _ view: String, _ id: Int64) throws -> ScalarValue {
        try store.read(
            view: view, keys: [EntityKey(int64: id)], features: ["f"], ttl: .zero, now: Timestamp(seconds: 0))[0]
            .values[0]
    }

    @Test func rowsSurviveReopeningTheFile() throws {
        let dir = try TemporaryDirectory("online-reopen")
        defer { dir.remove() }
        let path = dir.file(".tessera/online.db")
        do {
            let store = try SQLiteOnlineStore(path: path)
            try store.write(try Self.batch("v", ids: [1, 2], event: 10, value: 1.5))
        }
        let reopened = try SQLiteOnlineStore(path: path)
        #expect(try Self.value(reopened, "v", 2) == .float64(1.5))
        #expect(try reopened.rowCount(view: "v") == 2)
        #expect(try reopened.viewNames() == ["v"])
    }

    @Test func aSecondHandleSeesWritesViewsAndDropsOfTheFirst() throws {
        // Two handles on one file stand for two processes (materialization beside `tessera serve`).
        let dir = try TemporaryDirectory("online-two-handles")
        defer { dir.remove() }
        let path = dir.file("online.db")
        let writer = try SQLiteOnlineStore(path: path)
        // Fresh snapshots on every read: this test checks what each read sees right away.
        var fresh = SQLiteOnlineStore.Configuration()
        fresh.snapshotReuse = .zero
        let reader = try SQLiteOnlineStore(path: path, configuration: fresh)
        #expect(try Self.value(reader, "v", 1) == .null)
        try writer.write(try Self.batch("v", ids: [1], event: 10, value: 1))
        #expect(try Self.value(reader, "v", 1) == .float64(1))
        // A new layout (a feature added) written by the other handle.
        try writer.write(
            try OnlineWriteBatch(
                view: "v", joinKeys: [.int64([1])], eventTimestamps: .timestamp([20]),
                features: [("g", .string(["new"])), ("f", .float64([2]))]))
        let row = try reader.read(
            view: "v", keys: [EntityKey(int64: 1)], features: ["g", "f"], ttl: .zero, now: Timestamp(seconds: 0))[0]
        #expect(row.values == [.string("new"), .float64(2)])
        // Dropped and recreated behind the reader's back: it must find the new table.
        try writer.dropView("v")
        try writer.write(try Self.batch("v", ids: [7], event: 1, value: 7))
        #expect(try Self.value(reader, "v", 1) == .null)
        #expect(try Self.value(reader, "v", 7) == .float64(7))
    }

    @Test func reusedSnapshotsSeeOwnWritesAtOnceAndOthersWithinTheReuseTime() async throws {
        let dir = try TemporaryDirectory("online-snapshots")
        defer { dir.remove() }
        let path = dir.file("online.db")
        var configuration = SQLiteOnlineStore.Configuration()
        configuration.snapshotReuse = .milliseconds(100)
        configuration.readers = 1
        let store = try SQLiteOnlineStore(path: path, configuration: configuration)
        let other = try SQLiteOnlineStore(path: path)
        for step in 1...20 {
            // Writes through the same store end the reused snapshot: visible at once.
            try store.write(try Self.batch("v", ids: [1], event: Int64(step), value: Double(step)))
            #expect(try Self.value(store, "v", 1) == .float64(Double(step)))
        }
        try other.write(try Self.batch("v", ids: [1], event: 100, value: 100))
        try await Task.sleep(for: .milliseconds(250))
        // Another process's write shows up once the snapshot is older than the reuse time.
        #expect(try Self.value(store, "v", 1) == .float64(100))
    }

    @Test func aFileThatIsNotADatabaseIsReportedAsCorrupt() throws {
        let dir = try TemporaryDirectory("online-corrupt")
        defer { dir.remove() }
        let path = try dir.write("online.db", String(repeating: "not a database ", count: 200))
        #expect {
            _ = try SQLiteOnlineStore(path: path)
        } throws: { error in
            guard let error = error as? OnlineStoreError else { return false }
            return error.kind == .corrupt && error.description.contains("materialize again")
        }
    }

    @Test func concurrentReadsAndWritesLoseNothing() async throws {
        let dir = try TemporaryDirectory("online-concurrent")
        defer { dir.remove() }
        var configuration = SQLiteOnlineStore.Configuration()
        configuration.readers = 3
        let store = try SQLiteOnlineStore(path: dir.file("online.db"), configuration: configuration)
        let writes = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<writes {
                    try store.write(try Self.batch("v", ids: [Int64(i), 1_000_000], event: Int64(i), value: Double(i)))
                }
            }
            for reader in 0..<4 {
                group.addTask {
                    var last = -1.0
                    for _ in 0..<300 {
                        let row = try store.read(
                            view: "v", keys: [EntityKey(int64: 1_000_000), EntityKey(int64: Int64(reader))],
                            features: ["f"], ttl: .zero, now: Timestamp(seconds: 0))
                        if case .float64(let seen) = row[0].values[0] {
                            // The hot key only moves forward: a reader never sees an older value after a newer one.
                            #expect(seen >= last)
                            last = seen
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.rowCount(view: "v") == writes + 1)
        #expect(try Self.value(store, "v", 1_000_000) == .float64(Double(writes - 1)))
    }

    @Test func aBulkLoadKeepsTheNewestRowPerKey() throws {
        let dir = try TemporaryDirectory("online-bulk")
        defer { dir.remove() }
        let store = try SQLiteOnlineStore(path: dir.file("online.db"))
        // 50,000 rows over 5,000 keys, in no particular order.
        let n = 50_000
        let ids = (0..<n).map { Int64(($0 &* 7919) % 5000) }
        let events = (0..<n).map { Int64(($0 &* 104_729) % 1000) }
        let values = (0..<n).map(Double.init)
        let batch = try OnlineWriteBatch(
            view: "v", joinKeys: [.int64(ids)], eventTimestamps: .timestamp(events), features: [("f", .float64(values))]
        )
        let summary = try store.write(batch)
        #expect(summary.written == 5000)
        #expect(summary.skipped == n - 5000)
        var expected: [Int64: (Int64, Int)] = [:]
        for i in 0..<n where expected[ids[i]].map({ events[i] >= $0.0 }) ?? true { expected[ids[i]] = (events[i], i) }
        let keys = (0..<5000).map { EntityKey(int64: Int64($0)) }
        let rows = try store.read(view: "v", keys: keys, features: ["f"], ttl: .zero, now: Timestamp(seconds: 0))
        for (id, row) in rows.enumerated() {
            #expect(row.values[0] == .float64(Double(expected[Int64(id)]?.1 ?? -1)))
        }
    }

    /// Every option of the factory reaches the store's configuration.
    @Test func theFactoryAppliesEveryOption() throws {
        let dir = try TemporaryDirectory("online-open")
        defer { dir.remove() }
        let factory = SQLiteOnlineStoreFactory()
        let settings = BackendSettings(
            role: "online_store", type: "sqlite", root: dir.path, options: factory.options,
            values: [
                "table_layout": "rowid", "durability": "full", "readers": "3", "cache_size": "16MB",
                "mmap_size": "0", "snapshot_reuse": "0", "checkpoint_size": "8MB",
            ])
        let store = try #require(try factory.makeStore(settings) as? SQLiteOnlineStore)
        #expect(store.path == dir.path + "/.tessera/online.db")
        #expect(store.configuration.tableLayout == .rowidWithKeyIndex)
        #expect(store.configuration.durability == .full)
        #expect(store.configuration.readers == 3)
        #expect(store.configuration.cacheMegabytes == 16)
        #expect(store.configuration.mmapMegabytes == 0)
        #expect(store.configuration.snapshotReuse == .zero)
        #expect(store.configuration.checkpointMegabytes == 8)
        let defaults = SQLiteOnlineStoreFactory.configuration(
            BackendSettings(role: "online_store", type: "sqlite", root: dir.path, options: factory.options))
        #expect(defaults.readers == SQLiteOnlineStore.Configuration().readers)
        #expect(defaults.mmapMegabytes == SQLiteOnlineStore.Configuration().mmapMegabytes)
        #expect(defaults.snapshotReuse == SQLiteOnlineStore.Configuration().snapshotReuse)
        #expect(defaults.checkpointMegabytes == 4)
    }
}
