import Foundation
import TesseraCore
import TesseraOnline
import TesseraOnlinePostgres
import TesseraOnlineSQLite
import TesseraPostgres
import TesseraTesting
import Testing

/// The command line with PostgreSQL as both registry and online store: `materialize` into it
/// serves exactly what the embedded store does; `serve` answers pushes and lookups, rides out
/// an outage of the server (503 naming it, never the password) and recovers by itself; a
/// materialization killed with SIGKILL, then run again, leaves the same store as a clean run.
@Suite(.serialized) struct PostgresEndToEndTests {
    /// A repository from `tessera init` whose registry and online store are on `server`, the
    /// online store's tables in `schema`.
    static func repo(_ dir: TemporaryDirectory, name: String, server: PostgresServerProcess, schema: String) throws
        -> String
    {
        let repo = try MaterializeTests.repo(dir, name: name)
        let url = "postgresql://postgres:\(server.password)@127.0.0.1:\(server.port)/postgres"
        let config = try String(contentsOfFile: repo + "/tessera.yaml", encoding: .utf8)
        let replaced =
            config
            .replacingOccurrences(
                of: "registry:\n  type: sqlite\n  path: .tessera/registry.db",
                with: "registry:\n  type: postgres\n  url: \(url)\n  schema: \(schema)_registry"
            )
            .replacingOccurrences(
                of: "online_store:\n  type: sqlite\n  path: .tessera/online.db",
                with: "online_store:\n  type: postgres\n  url: \(url)\n  schema: \(schema)")
        #expect(replaced.components(separatedBy: "type: postgres").count == 3, "both sections were found")
        try replaced.write(toFile: repo + "/tessera.yaml", atomically: true, encoding: .utf8)
        let apply = try CommandRunner.run(["apply", "--repo", repo])
        #expect(apply.status == 0, "\(apply)")
        return repo
    }

    static func store(_ server: PostgresServerProcess, schema: String) -> PostgresOnlineStore {
        var configuration = PostgresOnlineStore.Configuration()
        configuration.schema = schema
        return PostgresOnlineStore(
            endpoint: PostgresEndpoint(
                host: "127.0.0.1", port: server.port, user: "postgres", password: server.password,
                database: "postgres"),
            configuration: configuration)
    }

    @Test func materializedPostgresServesWhatTheEmbeddedStoreDoes() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("pg-e2e")
        defer { dir.remove() }
        let embedded = try MaterializeTests.repo(dir, name: "embedded")
        let postgres = try Self.repo(dir, name: "postgres", server: server, schema: "e2e")
        let args = ["materialize", "2026-01-01", "2026-01-20T12:00:00Z"]
        #expect(try CommandRunner.run(args + ["--repo", embedded]).status == 0)
        let result = try CommandRunner.run(args + ["--repo", postgres, "--json"])
        #expect(result.status == 0, "\(result)")
        let expected = try MaterializeTests.records(try SQLiteOnlineStore(path: embedded + "/.tessera/online.db"))
        let got = try MaterializeTests.records(Self.store(server, schema: "e2e"))
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(got == expected)
        // Every view the embedded store holds, with as many rows and aggregation states.
        let embeddedStore = try SQLiteOnlineStore(path: embedded + "/.tessera/online.db")
        let postgresStore = Self.store(server, schema: "e2e")
        #expect(try postgresStore.viewNames() == embeddedStore.viewNames())
        for view in try embeddedStore.viewNames() {
            #expect(try postgresStore.rowCount(view: view) == embeddedStore.rowCount(view: view), "\(view)")
            #expect(try postgresStore.stateCount(view: view) == embeddedStore.stateCount(view: view), "\(view)")
        }
        let doctor = try CommandRunner.run(["doctor", "--repo", postgres])
        #expect(doctor.status == 0, "\(doctor)")
        #expect(doctor.stdout.contains("PostgreSQL 15"), "\(doctor.stdout)")
    }

    /// `tessera serve` on PostgreSQL: pushes are served; while the server is down lookups
    /// and pushes answer 503 naming it and `serve` keeps running; it recovers by itself.
    @Test func servingRidesOutAPostgresOutage() async throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("pg-serve")
        defer { dir.remove() }
        let repo = try Self.repo(dir, name: "serve", server: server, schema: "serve")
        let (process, port) = try ServeAndPushTests.serve(repo)
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await ServingScenario.pushesAndLookups(port)
        // The trips pushed by the scenario are aggregation state in PostgreSQL.
        #expect(try Self.store(server, schema: "serve").stateCount(view: "driver_trip_aggs") == 1)

        try await ServingScenario.ridesOutAnOutage(
            port: port, server: process, place: "127.0.0.1:\(server.port)", store: "PostgreSQL",
            secret: server.password, halt: { server.halt() }, resume: { try server.resume() })
    }

    /// `kill -9` of `materialize` at several moments, and a PostgreSQL crash mid-load, then a
    /// rerun: the store equals a clean run's.
    @Test func killedOrCutOffMaterializationsRerunToTheCleanState() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("pg-kill")
        defer { dir.remove() }
        let clean = try Self.repo(dir, name: "clean", server: server, schema: "clean")
        let killed = try Self.repo(dir, name: "killed", server: server, schema: "killed")
        let args = ["materialize", "2026-01-01", "2026-02-01", "--batch-rows", "150", "--threads", "1"]
        #expect(try CommandRunner.run(args + ["--repo", clean]).status == 0)
        let interrupted = try CommandRunner.killRuns(
            args + ["--repo", killed], afterMilliseconds: [40, 90, 150, 220, 300])
        #expect(interrupted >= 2, "the kills must land while materializing")
        #expect(try CommandRunner.run(args + ["--repo", killed]).status == 0)
        let expected = try MaterializeTests.records(Self.store(server, schema: "clean"))
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(try MaterializeTests.records(Self.store(server, schema: "killed")) == expected)

        // PostgreSQL crashes mid-load: the run fails naming the server (it once hung instead,
        // on a ROLLBACK sent over the dead connection); once the server is back (with what it
        // had committed) a rerun gives the clean state again.
        let (process, _, errors) = try CommandRunner.start(args + ["--repo", killed])
        usleep(150_000)
        server.halt()
        var waited = 0
        while process.isRunning && waited < 300 {
            usleep(100_000)
            waited += 1
        }
        #expect(!process.isRunning, "materialize must end when its PostgreSQL is gone, not hang")
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if process.terminationStatus != 0 {
            #expect(message.contains("127.0.0.1:\(server.port)"), "\(message)")
            #expect(!message.contains(server.password), "\(message)")
        }
        try server.resume()
        let rerun = try CommandRunner.run(args + ["--repo", killed])
        #expect(rerun.status == 0, "\(rerun)")
        #expect(try MaterializeTests.records(Self.store(server, schema: "killed")) == expected)
    }
}
