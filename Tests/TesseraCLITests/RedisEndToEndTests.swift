import Foundation
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraOnlineRedis
import TesseraOnlineSQLite
import TesseraRedis
import TesseraTesting
import Testing

/// The command line with a Redis online store: `materialize` into it serves exactly what the
/// embedded store does; a materialization killed with SIGKILL, or one whose Redis restarts
/// under it, then run again, leaves the same store as a clean run.
@Suite(.serialized) struct RedisEndToEndTests {

    /// A repository from `tessera init` whose online store is the server at `port` (or the
    /// cluster with those nodes).
    static func repo(
        _ dir: TemporaryDirectory, name: String, port: Int, prefix: String, cluster: [Int]? = nil
    ) throws -> String {
        let repo = try MaterializeTests.repo(dir, name: name)
        let config = try String(contentsOfFile: repo + "/tessera.yaml", encoding: .utf8)
        let server =
            cluster.map { "cluster: [" + $0.map { "127.0.0.1:\($0)" }.joined(separator: ", ") + "]" }
            ?? "url: redis://127.0.0.1:\(port)/0"
        let redis = """
            online_store:
              type: redis
              \(server)
              key_prefix: \(prefix)
              # The data is from January: keys must not expire by today's clock.
              expire_keys: false
            """
        let replaced = config.replacingOccurrences(
            of: "online_store:\n  type: sqlite\n  path: .tessera/online.db", with: redis)
        #expect(replaced != config, "tessera init's online_store section was found")
        try replaced.write(toFile: repo + "/tessera.yaml", atomically: true, encoding: .utf8)
        return repo
    }

    static func redisStore(_ port: Int, prefix: String) -> RedisOnlineStore {
        var configuration = RedisOnlineStore.Configuration()
        configuration.keyPrefix = prefix
        return RedisOnlineStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: port), configuration: configuration)
    }

    @Test func materializedRedisServesWhatTheEmbeddedStoreDoes() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("redis-e2e")
        defer { dir.remove() }
        let embedded = try MaterializeTests.repo(dir, name: "embedded")
        let redis = try Self.repo(dir, name: "redis", port: server.port, prefix: "e2e")
        let args = ["materialize", "2026-01-01", "2026-01-20T12:00:00Z"]
        #expect(try CommandRunner.run(args + ["--repo", embedded]).status == 0)
        let result = try CommandRunner.run(args + ["--repo", redis, "--json"])
        #expect(result.status == 0, "\(result)")
        let expected = try MaterializeTests.records(try SQLiteOnlineStore(path: embedded + "/.tessera/online.db"))
        let got = try MaterializeTests.records(Self.redisStore(server.port, prefix: "e2e"))
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(got == expected)
    }

    /// The same through a Redis Cluster: materialize, then serve, push and look up.
    @Test func aClusterServesWhatTheEmbeddedStoreDoes() async throws {
        let cluster = try RedisClusterProcess()
        defer { cluster.stop() }
        let dir = try TemporaryDirectory("redis-cluster-e2e")
        defer { dir.remove() }
        let embedded = try MaterializeTests.repo(dir, name: "embedded")
        let clustered = try Self.repo(dir, name: "cluster", port: 0, prefix: "e2e", cluster: cluster.ports)
        let args = ["materialize", "2026-01-01", "2026-01-20T12:00:00Z"]
        #expect(try CommandRunner.run(args + ["--repo", embedded]).status == 0)
        let result = try CommandRunner.run(args + ["--repo", clustered])
        #expect(result.status == 0, "\(result)")
        var configuration = RedisOnlineStore.Configuration()
        configuration.keyPrefix = "e2e"
        let store = RedisOnlineStore(
            cluster: cluster.ports.map { RedisEndpoint(host: "127.0.0.1", port: $0) }, configuration: configuration)
        let expected = try MaterializeTests.records(try SQLiteOnlineStore(path: embedded + "/.tessera/online.db"))
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(try MaterializeTests.records(store) == expected)
        let doctor = try CommandRunner.run(["doctor", "--repo", clustered])
        #expect(doctor.status == 0 && doctor.stdout.contains("cluster_state ok"), "\(doctor)")

        let (process, port) = try ServeAndPushTests.serve(clustered)
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        // Atomic per slot only (docs/operations.md): a push of two drivers may be seen half-applied.
        try await ServingScenario.pushesAndLookups(port, atomicPushes: false)
    }

    /// `tessera serve` on Redis: pushes are served; while Redis is down lookups and pushes
    /// answer 503 naming the store and the server keeps running; it recovers by itself.
    @Test func servingRidesOutARedisOutage() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("redis-serve")
        defer { dir.remove() }
        let repo = try Self.repo(dir, name: "serve", port: server.port, prefix: "serve")
        #expect(try CommandRunner.run(["apply", "--repo", repo]).status == 0)
        let (process, port) = try ServeAndPushTests.serve(repo)
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await ServingScenario.pushesAndLookups(port)
        try await ServingScenario.ridesOutAnOutage(
            port: port, server: process, place: "127.0.0.1:\(server.port)", store: "Redis", secret: nil,
            halt: { server.stop() }, resume: { try server.start() })
    }

    @Test func killedOrCutOffMaterializationsRerunToTheCleanState() throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("redis-kill")
        defer { dir.remove() }
        let clean = try Self.repo(dir, name: "clean", port: server.port, prefix: "clean")
        let killed = try Self.repo(dir, name: "killed", port: server.port, prefix: "killed")
        let args = ["materialize", "2026-01-01", "2026-02-01", "--batch-rows", "150", "--threads", "1"]
        #expect(try CommandRunner.run(args + ["--repo", clean]).status == 0)
        let interrupted = try CommandRunner.killRuns(
            args + ["--repo", killed], afterMilliseconds: [15, 40, 70, 110, 160])
        #expect(interrupted >= 2, "the kills must land while materializing")
        #expect(try CommandRunner.run(args + ["--repo", killed]).status == 0)
        let expected = try MaterializeTests.records(Self.redisStore(server.port, prefix: "clean"))
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(try MaterializeTests.records(Self.redisStore(server.port, prefix: "killed")) == expected)

        // Redis goes away mid-load: the run fails naming the server; it comes back (empty, as a
        // server without persistence does) and a rerun gives the clean state again.
        let (process, _, errors) = try CommandRunner.start(args + ["--repo", killed])
        usleep(60_000)
        server.stop()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if process.terminationStatus != 0 {
            #expect(message.contains("127.0.0.1:\(server.port)"), "\(message)")
            #expect(message.lowercased().contains("redis"), "\(message)")
        }
        try server.start()
        let rerun = try CommandRunner.run(args + ["--repo", killed])
        #expect(rerun.status == 0, "\(rerun)")
        #expect(try CommandRunner.run(args + ["--repo", clean]).status == 0)
        let again = try MaterializeTests.records(Self.redisStore(server.port, prefix: "clean"))
        #expect(again == expected)
        #expect(try MaterializeTests.records(Self.redisStore(server.port, prefix: "killed")) == expected)
    }
}

/// `tessera doctor`: every backend checked, a working setup passes, a dead Redis fails by name.
@Suite(.serialized) struct DoctorCommandTests {
    @Test func aWorkingRepositoryPassesAndADeadRedisFailsByName() throws {
        let dir = try TemporaryDirectory("doctor")
        defer { dir.remove() }
        let embedded = try MaterializeTests.repo(dir, name: "embedded")
        let ok = try CommandRunner.run(["doctor", "--repo", embedded, "--json"])
        #expect(ok.status == 0, "\(ok)")
        let checks = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [[String: Any]] ?? []
        let roles = Set(checks.compactMap { $0["role"] as? String })
        #expect(roles.isSuperset(of: ["registry", "online_store", "offline_store", "source driver_stats"]), "\(roles)")
        #expect(checks.allSatisfy { ($0["status"] as? String) == "ok" }, "\(ok.stdout)")

        let server = try RedisServerProcess()
        let redis = try RedisEndToEndTests.repo(dir, name: "redis", port: server.port, prefix: "doctor")
        let live = try CommandRunner.run(["doctor", "--repo", redis])
        #expect(live.status == 0, "\(live)")
        #expect(live.stdout.contains("connect") && live.stdout.contains("Redis 7."), "\(live.stdout)")
        #expect(live.stdout.contains("permissions"), "\(live.stdout)")
        server.stop()
        let dead = try CommandRunner.run(["doctor", "--repo", redis])
        #expect(dead.status == 1, "\(dead)")
        #expect(dead.stdout.contains("FAILED") && dead.stdout.contains("127.0.0.1:\(server.port)"), "\(dead.stdout)")
    }
}

/// A repository whose registry is PostgreSQL (the password from `TESSERA_PG_PASSWORD`):
/// apply, plan, history, materialize (watermarks), doctor — and a second checkout on another
/// "machine" sees the same registry.
@Suite(.serialized) struct PostgresRegistryEndToEndTests {
    @Test func applyPlanMaterializeAndASecondMachine() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("pg-registry-e2e")
        defer { dir.remove() }
        var repos: [String] = []
        for name in ["first", "second"] {
            let repo = dir.file(name)
            #expect(
                try CommandRunner.run(["init", repo, "--rows", "2000", "--data-start", "2026-01-01"]).status == 0)
            let config = try String(contentsOfFile: repo + "/tessera.yaml", encoding: .utf8)
            let replaced = config.replacingOccurrences(
                of: "registry:\n  type: sqlite\n  path: .tessera/registry.db",
                with: "registry:\n  type: postgres\n  url: postgresql://postgres@127.0.0.1:\(server.port)/postgres")
            #expect(replaced != config)
            try replaced.write(toFile: repo + "/tessera.yaml", atomically: true, encoding: .utf8)
            repos.append(repo)
        }
        let environment = ["TESSERA_PG_PASSWORD": server.password]
        let apply = try CommandRunner.run(["apply", "--repo", repos[0]], environment: environment)
        #expect(apply.status == 0, "\(apply)")
        #expect(!FileManager.default.fileExists(atPath: repos[0] + "/.tessera/registry.db"))
        // The other machine's checkout (same definitions) finds the registry up to date.
        let plan = try CommandRunner.run(["plan", "--repo", repos[1]], environment: environment)
        #expect(plan.status == 0 && plan.stdout.contains("No changes"), "\(plan)")
        let history = try CommandRunner.run(["history", "--repo", repos[1], "--json"], environment: environment)
        #expect(history.status == 0 && history.stdout.contains("\"version\""), "\(history)")
        let materialize = try CommandRunner.run(
            ["materialize", "2026-01-01", "2026-01-20", "--repo", repos[0]], environment: environment)
        #expect(materialize.status == 0, "\(materialize)")
        #expect(try server.psql("SELECT count(*) FROM tessera.watermarks").trimmingSpaces() != "0")
        let doctor = try CommandRunner.run(["doctor", "--repo", repos[1]], environment: environment)
        #expect(doctor.status == 0 && doctor.stdout.contains("postgres: version 1"), "\(doctor)")
        // Without the password: a clear error naming the server, never a password.
        let denied = try CommandRunner.run(["plan", "--repo", repos[1]])
        #expect(denied.status != 0, "\(denied)")
        #expect(denied.stderr.contains("127.0.0.1:\(server.port)"), "\(denied)")
        #expect(!denied.stderr.contains(server.password), "\(denied)")
    }
}
