import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraOnlinePostgres
import TesseraPostgres
import TesseraTesting
import Testing

/// The online store on a PostgreSQL 15 server the test starts: the shared conformance suite,
/// writers on several machines racing, read-modify-writes of aggregation state, a server that
/// restarts under the store, and the factory's settings.
@Suite(.serialized) struct PostgresOnlineStoreTests {
    static func store(
        _ server: PostgresServerProcess, schema: String = "tessera", password: String? = nil,
        _ change: (inout PostgresOnlineStore.Configuration) -> Void = { _ in }
    ) -> PostgresOnlineStore {
        var configuration = PostgresOnlineStore.Configuration()
        configuration.schema = schema
        change(&configuration)
        return PostgresOnlineStore(
            endpoint: PostgresEndpoint(
                host: "127.0.0.1", port: server.port, user: "postgres", password: password ?? server.password,
                database: "postgres"),
            configuration: configuration)
    }

    static func batch(_ ids: [Int64], events: [Int64], values: [Double]) throws -> OnlineWriteBatch {
        try OnlineWriteBatch(
            view: "v", joinKeys: [.int64(ids)], eventTimestamps: .timestamp(events), features: [("f", .float64(values))]
        )
    }

    /// Every check on an empty store of its own (a schema each); then again with statements
    /// of 3 rows, so large writes split into many statements give the same store.
    @Test func conformance() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        for check in OnlineStoreConformance.Check.allCases {
            try OnlineStoreConformance.run(check) { Self.store(server, schema: "c_\(check.rawValue.lowercased())") }
            try OnlineStoreConformance.run(check) {
                Self.store(server, schema: "s_\(check.rawValue.lowercased())") { $0.rowsPerStatement = 3 }
            }
        }
    }

    /// Four machines write the same keys at once with random event times: each key ends with
    /// the newest row any of them wrote.
    @Test func racingWritersKeepTheNewestRow() async throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        try await OnlineStoreConcurrency.racingWritersKeepTheNewest((0..<4).map { _ in Self.store(server) })
    }

    /// Read-modify-writes of aggregation state from several machines lose no update, for
    /// held states and new ones alike.
    @Test func concurrentStateUpdatesLoseNothing() async throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        try await OnlineStoreConcurrency.stateUpdatesLoseNothing(
            (0..<3).map { _ in Self.store(server) }, keys: [EntityKey(int64: 7), EntityKey(int64: 8)])
    }

    /// A server that goes away fails calls with an error naming it (never the password); once
    /// it is back, the same store reads and writes again by itself, with what it held.
    @Test func aRestartedServerIsUsedAgain() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        try OnlineStoreRestart.check(
            Self.store(server), place: "127.0.0.1:\(server.port)", name: "PostgreSQL", secret: server.password,
            keepsData: true, halt: { server.halt() }, resume: { try server.resume() })
    }

    /// A reading process follows what other machines do to a view: dropped, written again,
    /// and the store's tables dropped and made anew under it (where another view now has
    /// the id the view had: a cache of view ids must not serve that view's rows).
    @Test func readsFollowDropsAndRecreatedTables() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let reader = Self.store(server, schema: "ids")
        let writer = Self.store(server, schema: "ids")
        let key = [EntityKey(int64: 1)]
        try writer.write(try Self.batch([1], events: [10], values: [1.5]))
        #expect(try reader.readRecords(view: "v", keys: key, features: ["f"]).first??.values == [.float64(1.5)])
        try writer.dropView("v")
        #expect(try reader.readRecords(view: "v", keys: key, features: ["f"]) == [nil])
        try writer.write(try Self.batch([1], events: [20], values: [2.5]))
        #expect(try reader.readRecords(view: "v", keys: key, features: ["f"]).first??.values == [.float64(2.5)])

        // The tables made anew: another view takes v's old id first.
        try server.psql("DROP SCHEMA ids CASCADE")
        let fresh = Self.store(server, schema: "ids")
        try fresh.write(
            try OnlineWriteBatch(
                view: "w", joinKeys: [.int64([1])], eventTimestamps: .timestamp([5]), features: [("f", .float64([9]))]))
        try fresh.write(try Self.batch([1], events: [30], values: [3.5]))
        #expect(try reader.readRecords(view: "v", keys: key, features: ["f"]).first??.values == [.float64(3.5)])
        #expect(try reader.readStates(view: "v", keys: key) == [nil])
    }

    /// A write that fails part-way (a statement the server refuses after rows were sent)
    /// leaves the store as it was: the transaction rolls back.
    @Test func aFailedWriteChangesNothing() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let store = Self.store(server) { $0.rowsPerStatement = 2 }
        try store.write(try Self.batch([1, 2], events: [1_000_000, 1_000_000], values: [1, 2]))
        // States of a view whose catalog row is locked away: the advisory lock cannot be had
        // within the statement timeout while another session holds it.
        let held = Self.store(server) { $0.statementTimeout = .milliseconds(300) }
        let blocker = try ProcessRunner.start(
            "/usr/bin/psql",
            [
                "-h", "127.0.0.1", "-p", String(server.port), "-U", "postgres", "-d", "postgres", "-c",
                "BEGIN; SELECT pg_advisory_xact_lock(736875, (SELECT id FROM tessera.online_views WHERE name = 'v')); SELECT pg_sleep(3); COMMIT;",
            ], environment: ["PGPASSWORD": server.password])
        defer { _ = ProcessRunner.finish(blocker.process, blocker.stdout, blocker.stderr) }
        usleep(500_000)
        let more = try Self.batch(
            [1, 2, 3, 4, 5], events: [2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000], values: [9, 9, 9, 9, 9])
        let failed = thrownError { () throws(OnlineStoreError) in
            try held.write([more], states: [OnlineStateUpdate(view: "v", keys: [EntityKey(int64: 1)]) { _, _ in [1] }])
        }
        #expect(failed?.kind == .io, "\(String(describing: failed))")
        #expect(failed?.description.contains("statement timeout") == true, "\(String(describing: failed))")
        let rows = try store.readRecords(view: "v", keys: (1...5).map { EntityKey(int64: $0) }, features: ["f"])
        #expect(rows.map { $0?.values } == [[.float64(1)], [.float64(2)], nil, nil, nil])
        #expect(try store.readStates(view: "v", keys: [EntityKey(int64: 1)]) == [nil])
    }

    /// The factory: options reach the store, bad settings are configuration errors naming
    /// the field, and a refused password is named without being shown.
    @Test func theFactoryValidatesAndNeverShowsPasswords() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("pg-factory")
        defer { dir.remove() }
        let factory = PostgresOnlineStoreFactory()
        func settings(_ options: [String: String]) throws -> BackendSettings {
            let config = StoreConfig(type: "postgres", options: options.mapValues { OptionValue.scalar($0) })
            return try BackendSettings.validate(config, role: "online_store", available: [factory], root: dir.path)
                .get().1
        }
        try (server.password + "\n").write(toFile: dir.file("pw"), atomically: true, encoding: .utf8)
        let good = try factory.makeStore(
            try settings([
                "url": "postgresql://postgres@127.0.0.1:\(server.port)/postgres", "password_file": "pw",
                "schema": "factory",
            ]))
        try good.write(try Self.batch([1], events: [1], values: [1]))
        #expect(try good.rowCount(view: "v") == 1)
        #expect(try server.psql("SELECT count(*) FROM factory.online_rows").trimmingSpaces() == "1")
        let wrong = try factory.makeStore(
            try settings(["url": "postgresql://postgres:hunter2@127.0.0.1:\(server.port)/postgres"]))
        let refused = thrownError { () throws(OnlineStoreError) in _ = try wrong.rowCount(view: "v") }
        #expect(refused?.description.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: refused))")
        #expect(refused?.debugDescription.contains("hunter2") == false, "\(String(describing: refused))")
        let mysql = try settings(["url": "mysql://x@y/z"])
        let badURL = thrownError { () throws(OnlineStoreError) in _ = try factory.makeStore(mysql) }
        #expect(badURL?.description.contains("online_store.url") == true, "\(String(describing: badURL))")
        let upper = try settings(["url": "postgresql://u@h/d", "schema": "Bad-Name"])
        let badSchema = thrownError { () throws(OnlineStoreError) in _ = try factory.makeStore(upper) }
        #expect(badSchema?.description.contains("online_store.schema") == true, "\(String(describing: badSchema))")
        if case .success = BackendSettings.validate(
            StoreConfig(type: "postgres", options: ["connections": .scalar("0")]), role: "online_store",
            available: [factory], root: dir.path)
        {
            Issue.record("0 connections was accepted")
        }
    }
}
