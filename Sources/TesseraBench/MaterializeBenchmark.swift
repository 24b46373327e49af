import Foundation
import TesseraCore

/// `tessera bench materialize`: loading the workload's latest row per driver into the online
/// store, as a process, against Feast 0.67's `materialize` into the same kind of store, in the
/// same run: the embedded SQLite store against Feast's SQLite store, or (`--online-store redis`
/// or `postgres`) a server the benchmark starts, loaded by each tool in turn.
public enum MaterializeBenchmark {
    public enum Store: String, Sendable, CaseIterable {
        case sqlite, redis, postgres

        var peerName: String {
            switch self {
            case .sqlite: "SQLite"
            case .redis: "Redis"
            case .postgres: "PostgreSQL"
            }
        }
    }

    public static func run(_ options: TrainingSetBenchmark.Options, store: Store = .sqlite) throws -> BenchmarkReport {
        let data = try TrainingSetBenchmark.ensureData(options)
        var redis: RedisServer?
        if store == .redis { redis = try RedisServer.start() }
        defer { redis?.stop() }
        let postgres = store == .postgres ? try PostgresBenchServer.start() : nil
        defer { postgres?.stop() }
        let repo: String
        if let postgres {
            repo = try TrainingSetBenchmark.repository(
                data: data, binary: options.binary, folder: "repo-postgres",
                config: "project: bench\nonline_store: {type: postgres, url: \"\(postgres.url)\"}\n")
        } else if let redis {
            // The data is from January: keys must not expire by today's clock (Feast's do not either).
            repo = try TrainingSetBenchmark.repository(
                data: data, binary: options.binary, folder: "repo-redis",
                config:
                    "project: bench\nonline_store: {type: redis, url: \"redis://127.0.0.1:\(redis.port)/0\", expire_keys: false}\n"
            )
        } else {
            repo = try TrainingSetBenchmark.repository(data: data, binary: options.binary)
        }
        var report = BenchmarkReport(
            title: "materialize into the online store (\(store.rawValue)), workload \(options.size.uppercased())")
        var best: (seconds: Double, rss: Double, rows: Double, entities: Double)? = nil
        var memory: (bytes: Double, keys: Double)?
        var databaseBytes: Double?
        for _ in 0..<max(1, options.runs) {
            // A fresh store and no watermark each run: the whole interval is loaded.
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: repo + "/.tessera/online.db" + suffix)
            }
            try redis?.flush()
            try postgres?.reset()
            let empty = try postgres?.databaseBytes()
            let start = Date()
            let out = try PeerProcess.run(
                options.binary,
                [
                    "materialize", "2026-01-01", "2026-01-31", "--repo", repo, "--threads", String(options.threads),
                    "--json",
                ])
            let wall = Date().timeIntervalSince(start)
            let json = PeerProcess.lastJSON(out) ?? [:]
            let views = json["views"] as? [[String: Any]] ?? []
            let rows = views.reduce(0.0) { $0 + (($1["rows_read"] as? NSNumber)?.doubleValue ?? 0) }
            let entities = views.reduce(0.0) { $0 + (($1["entities_written"] as? NSNumber)?.doubleValue ?? 0) }
            let rss = (json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0
            if let current = best, current.seconds <= wall { continue }
            best = (wall, rss, rows, entities)
            // The store's size as the best run left it.
            if let redis { memory = try redis.memory() }
            if let postgres, let empty { databaseBytes = try postgres.databaseBytes() - empty }
        }
        guard let ours = best else { return report }
        var feast: (seconds: Double, rss: Double, memory: (bytes: Double, keys: Double)?)? = nil
        var feastDatabaseBytes: Double?
        if let python = options.feastPython {
            try redis?.flush()
            try postgres?.reset()
            let empty = try postgres?.databaseBytes()
            var arguments = [
                options.packageRoot + "/benchmarks/materialize_peers.py", "feast", data,
                data + (store == .sqlite ? "/feast-materialize" : "/feast-materialize-\(store.rawValue)"),
            ]
            if let redis { arguments += ["--redis", String(redis.port)] }
            if let postgres { arguments += ["--postgres", String(postgres.port), postgres.password] }
            let out = try PeerProcess.run(python, arguments)
            let json = PeerProcess.lastJSON(out) ?? [:]
            feast = (
                (json["seconds"] as? NSNumber)?.doubleValue ?? 0,
                (json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0,
                try redis?.memory()
            )
            if let postgres, let empty { feastDatabaseBytes = try postgres.databaseBytes() - empty }
        } else {
            report.notes.append(
                "Feast was skipped: pass --feast-python PATH (a Python with feast[duckdb\(store == .sqlite ? "" : "," + store.rawValue)]==0.67.0)."
            )
        }
        let peerName = "Feast 0.67 materialize (\(store.peerName) online store)"
        report.figures.append(
            BenchmarkFigure(
                task: "materialize, source rows per second", metric: "rows/s", tessera: ours.rows / ours.seconds,
                peer: feast.map { ours.rows / $0.seconds }, peerName: feast == nil ? nil : peerName,
                higherIsBetter: true,
                target: store == .postgres ? nil : "≥ 30× Feast"))
        report.figures.append(
            BenchmarkFigure(
                task: "materialize, process wall time", metric: "seconds", tessera: ours.seconds, peer: feast?.seconds,
                peerName: feast == nil ? nil : peerName))
        report.figures.append(
            BenchmarkFigure(
                task: "materialize, peak RSS", metric: "MB", tessera: ours.rss / 1e6, peer: feast.map { $0.rss / 1e6 },
                peerName: feast == nil ? nil : peerName, target: "≤ 1000 MB"))
        if let memory {
            let theirs = feast?.memory
            report.figures.append(
                BenchmarkFigure(
                    task: "Redis memory per entity (used_memory over keys)", metric: "bytes",
                    tessera: memory.bytes / max(1, memory.keys),
                    peer: theirs.map { $0.bytes / max(1, $0.keys) }, peerName: theirs == nil ? nil : peerName))
            report.notes.append(
                "Redis held \(Int(memory.keys)) keys (\(Int(memory.bytes / 1e6)) MB) after Tessera's load"
                    + (theirs.map { " and \(Int($0.keys)) keys (\(Int($0.bytes / 1e6)) MB) after Feast's" } ?? "")
                    + ", over an empty server's baseline.")
        }
        if let databaseBytes {
            report.figures.append(
                BenchmarkFigure(
                    task: "PostgreSQL bytes per entity (database size over entities)", metric: "bytes",
                    tessera: databaseBytes / max(1, ours.entities),
                    peer: feastDatabaseBytes.map { $0 / max(1, ours.entities) },
                    peerName: feastDatabaseBytes == nil ? nil : peerName))
        }
        report.notes.append(
            "Tessera read \(Int(ours.rows)) rows and wrote \(Int(ours.entities)) entities; best of \(max(1, options.runs)) run(s), --threads \(options.threads), each tool in its own process."
        )
        return report
    }
}

/// A redis-server of the benchmark's own on a free loopback port, without persistence.
struct RedisServer {
    let port: Int
    let process: Process
    let cli: String
    /// `used_memory` of the empty server.
    let baseline: Double

    static func start() throws -> RedisServer {
        guard let server = Processes.which("redis-server"), let cli = Processes.which("redis-cli") else {
            throw PeerError(
                description:
                    "redis-server and redis-cli are needed for --online-store redis (apt-get install redis-server)")
        }
        let port = LoopbackPort.free()
        let process = try Processes.start(
            server, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        for _ in 0..<100 {
            if (try? Processes.run(cli, ["-p", String(port), "PING"]))?.contains("PONG") == true {
                let baseline = try RedisServer.usedMemory(cli, port)
                return RedisServer(port: port, process: process, cli: cli, baseline: baseline)
            }
            usleep(50_000)
        }
        Processes.stop(process)
        throw PeerError(description: "redis-server did not start on port \(port)")
    }

    static func usedMemory(_ cli: String, _ port: Int) throws -> Double {
        let info = try Processes.run(cli, ["-p", String(port), "INFO", "memory"])
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("used_memory:") {
            return Double(line.dropFirst("used_memory:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }

    func flush() throws { _ = try Processes.run(cli, ["-p", String(port), "FLUSHALL"]) }

    /// Bytes over the empty server's, and keys.
    func memory() throws -> (bytes: Double, keys: Double) {
        let keys =
            Double(
                try Processes.run(cli, ["-p", String(port), "DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines))
            ?? 0
        return (try RedisServer.usedMemory(cli, port) - baseline, keys)
    }

    func stop() { Processes.stop(process) }
}
