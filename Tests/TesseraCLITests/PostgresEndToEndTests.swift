import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
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

    /// Builds each training set from `embedded` and from `repo` and expects equal files.
    static func sameTrainingSets(
        _ cases: [(entities: String, arguments: [String])], embedded: String, repo: String, dir: TemporaryDirectory,
        label: String
    ) throws {
        for (entities, arguments) in cases {
            var outputs: [RecordBatch] = []
            for root in [embedded, repo] {
                let out = dir.file("\(label)-\(entities)-\(outputs.count).parquet")
                let result = try CommandRunner.run(
                    [
                        "training-set", "--repo", root, "--entities", embedded + "/data/\(entities).parquet",
                        "--output", out,
                    ] + arguments)
                #expect(result.status == 0, "\(result)")
                outputs.append(try ParquetFile(path: out).read())
            }
            #expect(outputs[0].rowCount > 100)
            #expect(outputs[1] == outputs[0], "\(label): \(entities) \(arguments)")
        }
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

    /// Loads a Parquet file of the repository into a new PostgreSQL table of the same columns
    /// (through CSV and psql's `\copy`).
    static func load(_ parquet: String, table: String, server: PostgresServerProcess, dir: TemporaryDirectory)
        throws
    {
        let rows = try server.load(parquet: parquet, table: table, scratch: dir.file(table + ".csv"))
        #expect(try server.psql("SELECT count(*) FROM \(table)").trimmingSpaces() == String(rows))
    }

    /// A repository whose registry, online store and batch sources are all in PostgreSQL: the
    /// driver statistics as a table, the trips as a query. Training sets, materialization and
    /// serving give exactly what the same repository over its Parquet files gives.
    @Test func postgresSourcesGiveWhatTheirParquetFilesGive() async throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("pg-source")
        defer { dir.remove() }
        let embedded = try MaterializeTests.repo(dir, name: "embedded")
        let repo = try Self.repo(dir, name: "postgres", server: server, schema: "src")
        try Self.load(repo + "/data/driver_stats.parquet", table: "driver_stats", server: server, dir: dir)
        try Self.load(repo + "/data/trips.parquet", table: "trips", server: server, dir: dir)
        // The sources move to PostgreSQL: one reads its password from a file, one from the URL.
        try (server.password + "\n").write(toFile: repo + "/pg-password", atomically: true, encoding: .utf8)
        let drivers = try String(contentsOfFile: repo + "/features/drivers.yaml", encoding: .utf8)
        let movedDrivers = drivers.replacingOccurrences(
            of: "    type: file\n    path: data/driver_stats.parquet\n",
            with: """
                    type: postgres
                    url: postgresql://postgres@127.0.0.1:\(server.port)/postgres
                    password_file: pg-password
                    table: public.driver_stats

                """)
        #expect(movedDrivers != drivers)
        try movedDrivers.write(toFile: repo + "/features/drivers.yaml", atomically: true, encoding: .utf8)
        let trips = try String(contentsOfFile: repo + "/features/trips.yaml", encoding: .utf8)
        let movedTrips = trips.replacingOccurrences(
            of: "    path: data/trips.parquet\n",
            with: """
                    type: postgres
                    url: postgresql://postgres:\(server.password)@127.0.0.1:\(server.port)/postgres
                    query: "SELECT * FROM trips WHERE trip_id IS NOT NULL;"

                """)
        #expect(movedTrips != trips)
        try movedTrips.write(toFile: repo + "/features/trips.yaml", atomically: true, encoding: .utf8)
        // Without the files, nothing can come from them.
        for file in ["driver_stats", "trips"] {
            try FileManager.default.removeItem(atPath: "\(repo)/data/\(file).parquet")
        }

        let plan = try CommandRunner.run(["plan", "--repo", repo])
        #expect(plan.status == 0, "\(plan)")
        #expect(plan.stdout.contains("postgres"), "\(plan.stdout)")
        #expect(!plan.stdout.contains(server.password) && !plan.stderr.contains(server.password), "\(plan)")
        #expect(plan.stderr.contains("holds a password") || plan.stdout.contains("holds a password"), "\(plan)")
        let apply = try CommandRunner.run(["apply", "--repo", repo])
        #expect(apply.status == 0, "\(apply)")
        let doctor = try CommandRunner.run(["doctor", "--repo", repo])
        #expect(doctor.status == 0, "\(doctor)")
        #expect(doctor.stdout.contains("table public.driver_stats readable"), "\(doctor.stdout)")
        #expect(!doctor.stdout.contains(server.password), "\(doctor.stdout)")

        // Training sets: the aggregations over trips and the as-of join over driver stats.
        try Self.sameTrainingSets(
            [
                ("trip_labels", ["--service", "driver_activity_v1"]),
                ("rides", ["--features", "driver_hourly_stats"]),
            ], embedded: embedded, repo: repo, dir: dir, label: "source")

        // Materialization: the same rows and aggregation states as from the files.
        let args = ["materialize", "2026-01-01", "2026-01-20T12:00:00Z"]
        #expect(try CommandRunner.run(args + ["--repo", embedded]).status == 0)
        let materialized = try CommandRunner.run(args + ["--repo", repo])
        #expect(materialized.status == 0, "\(materialized)")
        let expected = try MaterializeTests.records(try SQLiteOnlineStore(path: embedded + "/.tessera/online.db"))
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(try MaterializeTests.records(Self.store(server, schema: "src")) == expected)
        let embeddedStore = try SQLiteOnlineStore(path: embedded + "/.tessera/online.db")
        for view in try embeddedStore.viewNames() {
            #expect(
                try Self.store(server, schema: "src").stateCount(view: view) == embeddedStore.stateCount(view: view),
                "\(view)")
        }

        // PostgreSQL as the offline engine: the as-of joins and latest rows computed by the
        // server (the aggregations natively), the same training sets, and a fresh online
        // store materialized from it equal to the one from the files.
        let config = try String(contentsOfFile: repo + "/tessera.yaml", encoding: .utf8)
        let engineConfig =
            config
            .replacingOccurrences(
                of: "offline_store:\n  type: native",
                with:
                    "offline_store:\n  type: postgres\n  url: postgresql://postgres@127.0.0.1:\(server.port)/postgres\n  password_file: pg-password"
            )
            .replacingOccurrences(of: "  schema: src\n", with: "  schema: src_engine\n")
        #expect(
            engineConfig.contains("type: postgres\n  url: postgresql://postgres@")
                && engineConfig.contains("src_engine"))
        try engineConfig.write(toFile: repo + "/tessera.yaml", atomically: true, encoding: .utf8)
        try Self.sameTrainingSets(
            [
                ("trip_labels", ["--service", "driver_activity_v1"]),
                ("rides", ["--features", "driver_hourly_stats"]),
                ("rides", ["--features", "driver_hourly_stats", "--no-future-created"]),
            ], embedded: embedded, repo: repo, dir: dir, label: "engine")
        let explained = try CommandRunner.run(
            [
                "training-set", "--repo", repo, "--entities", embedded + "/data/rides.parquet", "--features",
                "driver_hourly_stats", "--explain",
            ])
        #expect(explained.status == 0, "\(explained)")
        #expect(explained.stdout.contains("SELECT DISTINCT ON (e.__row)"), "\(explained.stdout)")
        #expect(explained.stdout.contains("driver_hourly_stats: as-of join"), "\(explained.stdout)")
        #expect(!explained.stdout.contains(server.password), "\(explained.stdout)")
        let explainedAggregations = try CommandRunner.run(
            [
                "training-set", "--repo", repo, "--entities", embedded + "/data/trip_labels.parquet", "--service",
                "driver_activity_v1", "--explain",
            ])
        #expect(explainedAggregations.status == 0, "\(explainedAggregations)")
        #expect(explainedAggregations.stdout.contains("window aggregations"), "\(explainedAggregations.stdout)")
        let rematerialized = try CommandRunner.run(args + ["--repo", repo])
        #expect(rematerialized.status == 0, "\(rematerialized)")
        #expect(try MaterializeTests.records(Self.store(server, schema: "src_engine")) == expected)

        // Serving and pushes on top of them.
        let (process, port) = try ServeAndPushTests.serve(repo)
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await ServingScenario.pushesAndLookups(port)

        // A source whose table is missing is refused at plan, naming it and the server.
        try movedDrivers.replacingOccurrences(of: "public.driver_stats", with: "public.no_such_table")
            .write(toFile: repo + "/features/drivers.yaml", atomically: true, encoding: .utf8)
        let refused = try CommandRunner.run(["plan", "--repo", repo])
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("no_such_table") && refused.stderr.contains("127.0.0.1:\(server.port)"),
            "\(refused)")
    }
}
