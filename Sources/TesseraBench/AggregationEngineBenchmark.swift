import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraLocalServers

/// `tessera bench aggregations --offline-store postgres|spark`: the trips workload's window
/// aggregations computed by a SQL engine (exact partial states merged by Tessera), beside
/// the native engine over the same data and DuckDB's range join, outputs checked equal to
/// the native engine's.
extension AggregationBenchmark {
    public static func runSQLEngine(_ options: TrainingSetBenchmark.Options, engine: String) throws
        -> BenchmarkReport
    {
        let size = options.size.uppercased()
        let data = try ensureTrips(options)
        func repository(_ folder: String, config: String, source: String) throws -> String {
            try Self.repository(data: data, options: options, folder: folder, config: config, source: source)
        }
        func time(_ repo: String, _ output: String) throws -> Run {
            try timeTrainingSet(options, data: data, repo: repo, output: output)
        }
        var report = BenchmarkReport(
            title: "training set with 14 window aggregations, offline_store \(engine), trips \(size)")
        let parquet = "path: \(data)/trips.parquet"
        let native = try time(try repository("repo", config: "", source: parquet), data + "/native.parquet")
        let ours = data + "/\(engine)-engine.parquet"
        var server: PostgresBenchServer?
        defer { server?.stop() }
        let engineName: String
        switch engine {
        case "postgres":
            let pg = try PostgresBenchServer.start()
            server = pg
            _ = try pg.server.load(parquet: data + "/trips.parquet", table: "trips", scratch: data + "/trips.csv")
            let source = "type: postgres\n    url: \(pg.url)\n    table: trips"
            let sql = try time(
                try repository(
                    "repo-postgres-engine", config: "offline_store:\n  type: postgres\n  url: \(pg.url)\n",
                    source: source), ours)
            let pulled = try time(
                try repository("repo-postgres-source", config: "", source: source), data + "/pulled.parquet")
            engineName = "PostgreSQL"
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, PostgreSQL engine, process wall time", metric: "seconds",
                    tessera: sql.seconds, peer: pulled.seconds,
                    peerName: "Tessera's native engine reading the same table"))
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, peak RSS of the Tessera process", metric: "MB", tessera: sql.rss / 1e6,
                    peer: pulled.rss / 1e6, peerName: "Tessera's native engine reading the same table"))
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, PostgreSQL engine, process wall time", metric: "seconds",
                    tessera: sql.seconds, peer: native.seconds, peerName: "Tessera's native engine over Parquet"))
        case "spark":
            let config = TrainingSetBenchmark.sparkOfflineStore(options)
            let spark = try time(try repository("repo-spark-engine", config: config, source: parquet), ours)
            engineName = "Spark"
            report.figures.append(
                BenchmarkFigure(
                    task: "training set on Spark local[2], process wall time (Spark's start included)",
                    metric: "seconds", tessera: spark.seconds, peer: native.seconds,
                    peerName: "Tessera's native engine over the same files"))
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, peak RSS of the Tessera process", metric: "MB", tessera: spark.rss / 1e6,
                    peer: native.rss / 1e6, peerName: "Tessera's native engine over the same files"))
        default:
            throw PeerError(description: "--offline-store \(engine): use native, postgres or spark")
        }
        let duck = data + "/duckdb-range-join.parquet"
        let out = try PeerProcess.run(
            options.python,
            [
                options.packageRoot + "/benchmarks/aggregation_peers.py", "duckdb", data, duck, "--formulation",
                "range-join", "--threads", String(options.threads),
            ])
        let json = PeerProcess.lastJSON(out) ?? [:]
        report.figures.append(
            BenchmarkFigure(
                task: "the native engine over Parquet (reference)", metric: "seconds", tessera: native.seconds,
                peer: (json["seconds"] as? NSNumber)?.doubleValue ?? 0, peerName: "DuckDB range join"))
        let same = try ParquetFile(path: ours).read() == ParquetFile(path: data + "/native.parquet").read()
        report.notes.append(
            same
                ? "The \(engineName) engine's output equals the native engine's, row by row (12 features computed by \(engineName), the 2 sketches natively)."
                : "WARNING: the \(engineName) engine's output differs from the native engine's.")
        report.notes.append(try agreement(ours, duck, peer: "DuckDB range join"))
        report.notes.append(
            "Best of \(max(1, options.runs)) run(s); each `tessera training-set` is a process (reading the labels, the aggregations, writing Parquet)."
        )
        return report
    }
}
