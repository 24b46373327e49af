import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraOnlineRedis
import TesseraRedis
import TesseraTesting
import Testing

/// What the conformance suite cannot see: keys Redis evicts, writers on several machines
/// racing, a server that restarts (losing its scripts) or refuses credentials.
@Suite struct RedisOnlineStoreTests {
    static func store(_ server: RedisServerProcess, _ change: (inout RedisOnlineStore.Configuration) -> Void = { _ in })
        -> RedisOnlineStore
    {
        var configuration = RedisOnlineStore.Configuration()
        change(&configuration)
        return RedisOnlineStore(
            endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port, password: server.password),
            configuration: configuration)
    }

    static func raw(_ server: RedisServerProcess, _ arguments: [String]) async throws -> RESPValue {
        let connection = try await RedisConnection.connect(
            to: RedisEndpoint(host: "127.0.0.1", port: server.port, password: server.password))
        let reply = try await connection.command(arguments)
        await connection.close()
        return reply
    }

    static func batch(_ ids: [Int64], events: [Int64], values: [Double], ttl: TimeSpan = .zero) throws
        -> OnlineWriteBatch
    {
        var batch = try OnlineWriteBatch(
            view: "v", joinKeys: [.int64(ids)], eventTimestamps: .timestamp(events), features: [("f", .float64(values))]
        )
        batch.ttl = ttl
        return batch
    }

    @Test func rowKeysExpireAtTheirTtlPlusGrace() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let now = Timestamp.now.microseconds
        let hour: Int64 = 3_600_000_000
        let store = Self.store(server) { $0.expireGrace = .hours(1) }
        // Fresh (event an hour ago) and dead (event three days ago) rows of a 1-day ttl.
        try store.write(try Self.batch([1, 2], events: [now - hour, now - 72 * hour], values: [1, 2], ttl: .days(1)))
        let rows = try store.readRecords(view: "v", keys: [1, 2].map(EntityKey.init(int64:)), features: ["f"])
        #expect(rows[0]?.values == [.float64(1)])
        #expect(rows[1] == nil, "a row dead for longer than the grace is evicted at once")
        let keys = try await Self.raw(server, ["KEYS", "tessera:r:v:*"])
        guard case .array(let found?) = keys, let name = found.first?.bytes, found.count == 1 else {
            throw TestServerError("expected one row key, found \(keys)")
        }
        let connection = try await RedisConnection.connect(to: RedisEndpoint(host: "127.0.0.1", port: server.port))
        let pttl = try await connection.send([[Array("PTTL".utf8), name]]).first
        await connection.close()
        let readAt = Timestamp.now.microseconds
        guard case .integer(let millis)? = pttl else { throw TestServerError("PTTL: \(String(describing: pttl))") }
        // Event an hour ago + 1 day + 1 hour: the key dies at `expiry`. PTTL was read between
        // the write (at `now` or later) and `readAt`, however slow the machine was meanwhile.
        let expiry = now - hour + 24 * hour + hour
        let (least, most) = ((expiry - readAt) / 1000 - 2_000, (expiry - now) / 1000 + 2_000)
        #expect(millis >= least && millis <= most, "PTTL \(millis) ms, expected \(least)...\(most)")

        // Without a ttl, or with expire_keys off, keys stay.
        let keep = Self.store(server) {
            $0.expireKeys = false
            $0.keyPrefix = "keep"
        }
        try keep.write(try Self.batch([3], events: [now - 72 * hour], values: [3], ttl: .days(1)))
        #expect(try keep.rowCount(view: "v") == 1)
        try store.write(try Self.batch([4], events: [now - 72 * hour], values: [4]))
        #expect(try store.rowCount(view: "v") == 2)
    }

    /// Writers on several "machines" (stores with their own connections) race on the same
    /// keys: each key ends with the newest row any of them wrote, never an older one.
    /// (Writes of 50 keys: one atomic script call each, or bulk loads in parts of 8 keys.)
    @Test(arguments: [4096, 8])
    func racingWritersKeepTheNewestRow(atomicKeys: Int) async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await OnlineStoreConcurrency.racingWritersKeepTheNewest(
            (0..<4).map { _ in Self.store(server) { $0.atomicKeys = atomicKeys } }, rounds: 60)
    }

    /// A bulk load over stored rows keeps, per key, the newer row, and counts what it wrote.
    @Test func bulkLoadsOverStoredRowsKeepTheNewer() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let store = Self.store(server) { $0.atomicKeys = 4 }
        let ids = (0..<20).map { Int64($0) }
        try store.write(try Self.batch(ids, events: ids.map { _ in 100_000_000 }, values: ids.map { _ in 1 }))
        // Even keys get an older row, odd keys a newer one, plus 5 new keys.
        let more = (0..<25).map { Int64($0) }
        let events = more.map { $0 < 20 && $0 % 2 == 0 ? Int64(50_000_000) : 200_000_000 }
        let summary = try store.write(try Self.batch(more, events: events, values: more.map { _ in 2 }))
        #expect(summary.written == 15 && summary.skipped == 10, "\(summary)")
        let rows = try store.readRecords(view: "v", keys: more.map(EntityKey.init(int64:)), features: ["f"])
        for (id, row) in zip(more, rows) {
            let expected: Double = id < 20 && id % 2 == 0 ? 1 : 2
            #expect(row?.values == [.float64(expected)], "key \(id)")
        }
        #expect(try store.rowCount(view: "v") == 25)
    }

    /// Read-modify-writes of aggregation state from several writers lose no update.
    @Test func concurrentStateUpdatesLoseNothing() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try await OnlineStoreConcurrency.stateUpdatesLoseNothing(
            (0..<3).map { _ in Self.store(server) }, keys: [EntityKey(int64: 7)])
    }

    /// A server that goes away fails calls with an error naming it; once it is back (empty,
    /// without its scripts) the same store writes and reads again.
    @Test func aRestartedServerIsUsedAgain() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try OnlineStoreRestart.check(
            Self.store(server), place: "127.0.0.1:\(server.port)", name: "Redis", secret: nil, keepsData: false,
            halt: { server.stop() }, resume: { try server.start() })
    }

    /// The factory: options reach the store, a bad URL is a configuration error, and a refused
    /// password is named without being shown.
    @Test func theFactoryValidatesAndNeverShowsPasswords() throws {
        let server = try RedisServerProcess(password: "s3cret")
        defer { server.stop() }
        let dir = try TemporaryDirectory("redis-factory")
        defer { dir.remove() }
        let factory = RedisOnlineStoreFactory()
        func settings(_ options: [String: String]) throws -> BackendSettings {
            let config = StoreConfig(type: "redis", options: options.mapValues { OptionValue.scalar($0) })
            return try BackendSettings.validate(config, role: "online_store", available: [factory], root: dir.path)
                .get().1
        }
        let good = try factory.makeStore(
            try settings(["url": "redis://:s3cret@127.0.0.1:\(server.port)/2", "key_prefix": "f"]))
        try good.write(try Self.batch([1], events: [1], values: [1]))
        #expect(try good.rowCount(view: "v") == 1)
        let wrong = try factory.makeStore(try settings(["url": "redis://:hunter2@127.0.0.1:\(server.port)/2"]))
        let refused = thrownError { () throws(OnlineStoreError) in _ = try wrong.rowCount(view: "v") }
        #expect(refused?.description.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: refused))")
        #expect(refused?.debugDescription.contains("hunter2") == false, "\(String(describing: refused))")
        #expect(throws: OnlineStoreError.self) { try factory.makeStore(try settings(["url": "http://127.0.0.1"])) }
        if case .success = BackendSettings.validate(
            StoreConfig(type: "redis", options: ["connections": .scalar("0")]), role: "online_store",
            available: [factory], root: dir.path)
        {
            Issue.record("0 connections was accepted")
        }
    }
}
