import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraLocalServers

/// `tessera bench training-set`: the point-in-time join on the reference workload, as a
/// process (reading the inputs and writing Parquet), against DuckDB and Feast run in the same run.
public enum TrainingSetBenchmark {
    public struct Options: Sendable {
        /// Workload size: XS, S, M or L.
        public var size = "M"
        /// Where the workload's files are kept between runs.
        public var dataDirectory = NSTemporaryDirectory() + "tessera-bench"
        /// The `tessera` binary to time.
        public var binary: String
        /// The folder holding `benchmarks/` (the peers' scripts).
        public var packageRoot: String
        /// Python with pyarrow and DuckDB.
        public var python = PeerProcess.python
        /// Python with Feast 0.67, or nil to skip Feast.
        public var feastPython: String?
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var runs = 1
        /// Passed to the timed `tessera` commands as `--memory-limit` (`bench scale`).
        public var memoryLimit: String?

        public init(binary: String, packageRoot: String) {
            self.binary = binary
            self.packageRoot = packageRoot
        }
    }

    /// Writes the workload with pyarrow's defaults (as WORKLOAD.md prescribes) unless it is there.
    public static func ensureData(_ options: Options) throws -> String {
        let dir = options.dataDirectory + "/" + options.size.uppercased()
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir + "/driver_stats.parquet") || !fm.fileExists(atPath: dir + "/entity_df.parquet") {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = try PeerProcess.run(
                options.python, [options.packageRoot + "/benchmarks/workload.py", options.size, dir])
        }
        return dir
    }

    /// A feature repository over the workload's files, applied.
    /// - Parameters:
    ///   - folder: the repository's folder under `data`.
    ///   - config: its `tessera.yaml` (the embedded defaults unless given).
    public static func repository(
        data: String, binary: String, folder: String = "repo", config: String = "project: bench\n",
        source: String? = nil
    ) throws -> String {
        let repo = data + "/" + folder
        try FileManager.default.createDirectory(atPath: repo + "/features", withIntermediateDirectories: true)
        try config.write(toFile: repo + "/tessera.yaml", atomically: true, encoding: .utf8)
        try """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: driver_stats
            \(source ?? "path: \(data)/driver_stats.parquet")
            timestamp_field: event_timestamp
            created_timestamp_field: created
        feature_views:
          - name: driver_hourly_stats
            entities: [driver]
            source: driver_stats
            ttl: 2d
            schema: {conv_rate: float32, acc_rate: float32, avg_daily_trips: int32}

        """.write(toFile: repo + "/features/drivers.yaml", atomically: true, encoding: .utf8)
        _ = try PeerProcess.run(binary, ["apply", "--repo", repo])
        return repo
    }

    struct Run {
        var seconds: Double
        var rss: Double
    }

    /// The best of `runs` runs of `tessera training-set` over `repo`, writing `output`.
    static func timeTessera(_ options: Options, repo: String, data: String, output: String) throws -> Run {
        var best: Run? = nil
        for _ in 0..<max(1, options.runs) {
            let start = Date()
            let out = try PeerProcess.run(
                options.binary,
                [
                    "training-set", "--repo", repo, "--entities", data + "/entity_df.parquet", "--features",
                    "driver_hourly_stats", "--output", output, "--threads", String(options.threads), "--json",
                ])
            let wall = Date().timeIntervalSince(start)
            let json = PeerProcess.lastJSON(out) ?? [:]
            let run = Run(seconds: wall, rss: (json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0)
            if best == nil || run.seconds < (best?.seconds ?? 0) { best = run }
        }
        return best ?? Run(seconds: 0, rss: 0)
    }

    /// The `offline_store:` section of the Spark benchmarks: `local[2]` with the benchmark's Python.
    static func sparkOfflineStore(_ options: Options) -> String {
        """
        offline_store:
          type: spark
          master: "local[2]"
          python: \(options.python)
          conf: {spark.sql.shuffle.partitions: "8"}

        """
    }

    /// `--offline-store postgres|spark`: the same training set computed by a SQL engine, beside
    /// the native engine over the same data and the peer's store of that kind.
    public static func runSQLEngine(_ options: Options, engine: String) throws -> BenchmarkReport {
        let data = try ensureData(options)
        var report = BenchmarkReport(
            title: "training set with offline_store \(engine), workload \(options.size.uppercased())")
        let parquetRepo = try repository(data: data, binary: options.binary)
        let native = try timeTessera(options, repo: parquetRepo, data: data, output: data + "/native.parquet")
        let ours = data + "/\(engine)-engine.parquet"
        switch engine {
        case "postgres":
            let server = try PostgresBenchServer.start()
            defer { server.stop() }
            try server.server.load(
                parquet: data + "/driver_stats.parquet", table: "driver_stats", scratch: data + "/driver_stats.csv")
            let source = "type: postgres\n    url: \(server.url)\n    table: driver_stats"
            let engineRepo = try repository(
                data: data, binary: options.binary, folder: "repo-postgres-engine",
                config: "project: bench\noffline_store:\n  type: postgres\n  url: \(server.url)\n", source: source)
            let tableRepo = try repository(
                data: data, binary: options.binary, folder: "repo-postgres-source", source: source)
            let sql = try timeTessera(options, repo: engineRepo, data: data, output: ours)
            let pulled = try timeTessera(options, repo: tableRepo, data: data, output: data + "/pulled.parquet")
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, PostgreSQL engine, process wall time", metric: "seconds",
                    tessera: sql.seconds, peer: pulled.seconds,
                    peerName: "Tessera's native engine reading the same table"))
            if let feast = options.feastPython {
                let out = try PeerProcess.run(
                    feast,
                    [
                        options.packageRoot + "/benchmarks/training_set_peers.py", "feast-postgres", data,
                        data + "/feast-postgres.parquet", "--postgres", "127.0.0.1:\(server.port):\(server.password)",
                    ])
                let json = PeerProcess.lastJSON(out) ?? [:]
                report.figures.append(
                    BenchmarkFigure(
                        task: "training set, PostgreSQL engine, wall time", metric: "seconds", tessera: sql.seconds,
                        peer: (json["seconds"] as? NSNumber)?.doubleValue ?? 0,
                        peerName: "Feast 0.67 get_historical_features (PostgreSQL offline store)", target: "≥ 2×"))
                report.notes.append(
                    "Feast's output: \((json["rows"] as? NSNumber)?.intValue ?? 0) rows (in its own order; not compared)."
                )
            } else {
                report.notes.append(
                    "Feast was skipped: pass --feast-python PATH (a Python with feast[postgres]==0.67.0).")
            }
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, peak RSS of the Tessera process", metric: "MB", tessera: sql.rss / 1e6,
                    peer: pulled.rss / 1e6, peerName: "Tessera's native engine reading the same table"))
        case "spark":
            let config = "project: bench\n" + sparkOfflineStore(options)
            let engineRepo = try repository(
                data: data, binary: options.binary, folder: "repo-spark-engine", config: config)
            let spark = try timeTessera(options, repo: engineRepo, data: data, output: ours)
            report.figures.append(
                BenchmarkFigure(
                    task: "training set on Spark local[2], process wall time (Spark's start included)",
                    metric: "seconds", tessera: spark.seconds, peer: native.seconds,
                    peerName: "Tessera's native engine over the same files"))
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, peak RSS of the Tessera process", metric: "MB", tessera: spark.rss / 1e6,
                    peer: native.rss / 1e6, peerName: "Tessera's native engine over the same files"))
            if let feast = options.feastPython {
                let out = try PeerProcess.run(
                    feast,
                    [
                        options.packageRoot + "/benchmarks/training_set_peers.py", "feast-spark", data,
                        data + "/feast-spark.parquet",
                    ])
                let json = PeerProcess.lastJSON(out) ?? [:]
                report.figures.append(
                    BenchmarkFigure(
                        task: "training set on Spark local[2], wall time (Spark's start included)", metric: "seconds",
                        tessera: spark.seconds, peer: (json["seconds"] as? NSNumber)?.doubleValue ?? 0,
                        peerName: "Feast 0.67 get_historical_features (Spark offline store, local[2])",
                        target: "≥ 2× (workload M)"))
                report.notes.append(
                    "Feast's output: \((json["rows"] as? NSNumber)?.intValue ?? 0) rows (in its own order; not compared)."
                )
            } else {
                report.notes.append("Feast was skipped: pass --feast-python PATH (a Python with feast[spark]==0.67.0).")
            }
        default:
            throw PeerError(description: "--offline-store \(engine): use native, postgres or spark")
        }
        report.figures.append(
            BenchmarkFigure(
                task: "the native engine over the Parquet files (reference)", metric: "seconds",
                tessera: native.seconds))
        let same = try ParquetFile(path: ours).read() == ParquetFile(path: data + "/native.parquet").read()
        report.notes.append(
            same
                ? "The \(engine) engine's output equals the native engine's, row by row."
                : "WARNING: the \(engine) engine's output differs from the native engine's.")
        report.notes.append(
            "Best of \(max(1, options.runs)) run(s) per repository; each `tessera training-set` is a process (reading the entity file, the join, writing Parquet)."
        )
        return report
    }

    public static func run(_ options: Options) throws -> BenchmarkReport {
        let data = try ensureData(options)
        let repo = try repository(data: data, binary: options.binary)
        var report = BenchmarkReport(title: "training set (point-in-time join), workload \(options.size.uppercased())")
        let ours = data + "/tessera.parquet"
        let t = try timeTessera(options, repo: repo, data: data, output: ours)
        var duck: [Run] = []
        let theirs = data + "/duckdb.parquet"
        for _ in 0..<max(1, options.runs) {
            let out = try PeerProcess.run(
                options.python,
                [
                    options.packageRoot + "/benchmarks/training_set_peers.py", "duckdb", data, theirs,
                ])
            let json = PeerProcess.lastJSON(out) ?? [:]
            duck.append(
                Run(
                    seconds: (json["seconds"] as? NSNumber)?.doubleValue ?? 0,
                    rss: (json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0))
        }
        let best = { (runs: [Run]) in runs.min { $0.seconds < $1.seconds } ?? Run(seconds: 0, rss: 0) }
        let d = best(duck)
        report.figures.append(
            BenchmarkFigure(
                task: "training set, process wall time", metric: "seconds", tessera: t.seconds, peer: d.seconds,
                peerName: "DuckDB ASOF (exact rules)", target: "Tessera ≤ 0.5× DuckDB (advantage ≥ 2×)"))
        report.figures.append(
            BenchmarkFigure(
                task: "training set, peak RSS", metric: "MB", tessera: t.rss / 1e6, peer: d.rss / 1e6,
                peerName: "DuckDB ASOF (exact rules)", target: "≤ DuckDB's"))
        if let feast = options.feastPython {
            let out = try PeerProcess.run(
                feast,
                [
                    options.packageRoot + "/benchmarks/training_set_peers.py", "feast", data, data + "/feast.parquet",
                ])
            let json = PeerProcess.lastJSON(out) ?? [:]
            let seconds = (json["seconds"] as? NSNumber)?.doubleValue ?? 0
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, wall time", metric: "seconds", tessera: t.seconds, peer: seconds,
                    peerName: "Feast 0.67 get_historical_features (DuckDB store)", target: "≥ 10×"))
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, peak RSS", metric: "MB", tessera: t.rss / 1e6,
                    peer: ((json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0) / 1e6, peerName: "Feast 0.67"))
        } else {
            report.notes.append("Feast was skipped: pass --feast-python PATH (a Python with feast[duckdb]==0.67.0).")
        }
        // The outputs must agree, or the timing means nothing.
        let a = try ParquetFile(path: ours).read()
        let b = try ParquetFile(path: theirs).read()
        var differing = 0
        for name in ["driver_id", "event_timestamp", "label", "conv_rate", "acc_rate", "avg_daily_trips"] {
            guard let x = a.column(named: name), let y = b.column(named: name), x.count == y.count else {
                differing += 1
                continue
            }
            for row in 0..<x.count where x.value(at: row) != y.value(at: row) { differing += 1 }
        }
        report.notes.append(
            differing == 0
                ? "Tessera's output equals DuckDB's row by row (\(a.rowCount) rows)."
                : "WARNING: Tessera's output differs from DuckDB's in \(differing) values.")
        report.notes.append(
            "Best of \(max(1, options.runs)) run(s); Tessera with --threads \(options.threads); each tool in its own process; times include reading the inputs and writing Parquet."
        )
        return report
    }
}
