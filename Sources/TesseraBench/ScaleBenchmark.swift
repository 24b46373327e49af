import Foundation

/// `tessera bench scale`: the training set, materialization and aggregated training set at
/// several workload sizes, each a `tessera` process, with how time and memory grow from
/// each size to the next against how the rows grow (a cost that grows with the work has a
/// time factor equal to the rows factor).
public enum ScaleBenchmark {
    /// What is measured at each size.
    public enum Task: String, CaseIterable, Sendable {
        case trainingSet = "training-set"
        case materialize
        case aggregations
    }

    struct Measured {
        var seconds: Double
        var rss: Double
        var rows: Double
    }

    public static func run(_ options: TrainingSetBenchmark.Options, sizes: [String], tasks: [Task]) throws
        -> BenchmarkReport
    {
        var report = BenchmarkReport(title: "scale: \(sizes.joined(separator: ", ")), \(options.threads) threads")
        var previous: [Task: (size: String, Measured)] = [:]
        for size in sizes.map({ $0.uppercased() }) {
            var sized = options
            sized.size = size
            for task in tasks {
                let measured: Measured
                switch task {
                case .trainingSet: measured = try trainingSet(sized)
                case .materialize: measured = try materialize(sized)
                case .aggregations: measured = try aggregations(sized)
                }
                let name = "\(task.rawValue), \(size)"
                report.figures.append(BenchmarkFigure(task: name, metric: "seconds", tessera: measured.seconds))
                report.figures.append(
                    BenchmarkFigure(
                        task: name, metric: "source rows/s", tessera: measured.rows / max(measured.seconds, 1e-9)))
                report.figures.append(BenchmarkFigure(task: name, metric: "peak RSS, MB", tessera: measured.rss / 1e6))
                if let (from, before) = previous[task], before.seconds > 0, before.rows > 0 {
                    let rows = measured.rows / before.rows
                    // The advantage column is rows growth / time growth: 1 is linear, below 1 worse.
                    report.figures.append(
                        BenchmarkFigure(
                            task: "\(task.rawValue), \(from) → \(size)", metric: "time growth (×)",
                            tessera: measured.seconds / before.seconds, peer: rows, peerName: "rows growth (×)",
                            higherIsBetter: false, target: size == "L" ? "≤ 11×" : nil))
                    report.figures.append(
                        BenchmarkFigure(
                            task: "\(task.rawValue), \(from) → \(size)", metric: "peak RSS growth (×)",
                            tessera: measured.rss / max(before.rss, 1), peer: rows, peerName: "rows growth (×)"))
                }
                previous[task] = (size, measured)
            }
        }
        report.notes.append(
            "Each figure is the best of \(max(1, options.runs)) `tessera` process(es) on the reference workload (benchmarks/workload.py SIZE; --trips for the aggregations): `training-set` of driver_hourly_stats over entity_df, `materialize 2026-01-01 2026-01-31` into a fresh SQLite online store, `training-set` of the 14 features of driver_trip_aggs over trip_labels. The advantage column of a growth row is rows growth / time growth: 1 is linear, below 1 grows faster than the work."
        )
        return report
    }

    static func parse(_ output: String) -> [String: Any] { PeerProcess.lastJSON(output) ?? [:] }

    static func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? 0 }

    /// Best of `runs`: `body` runs one process and returns its JSON.
    static func best(_ options: TrainingSetBenchmark.Options, _ body: () throws -> [String: Any]) rethrows
        -> (seconds: Double, json: [String: Any])
    {
        var best: (seconds: Double, json: [String: Any])?
        for _ in 0..<max(1, options.runs) {
            let start = Date()
            let json = try body()
            let seconds = Date().timeIntervalSince(start)
            if best.map({ seconds < $0.seconds }) ?? true { best = (seconds, json) }
        }
        return best ?? (0, [:])
    }

    /// `--memory-limit SIZE` when the run has one.
    static func limit(_ options: TrainingSetBenchmark.Options) -> [String] {
        options.memoryLimit.map { ["--memory-limit", $0] } ?? []
    }

    static func rowsRead(_ json: [String: Any], key: String) -> Double {
        (json["views"] as? [[String: Any]] ?? []).reduce(0) { $0 + number($1[key]) }
    }

    static func trainingSet(_ options: TrainingSetBenchmark.Options) throws -> Measured {
        let data = try TrainingSetBenchmark.ensureData(options)
        let repo = try TrainingSetBenchmark.repository(data: data, binary: options.binary)
        let (seconds, json) = try best(options) {
            parse(
                try PeerProcess.run(
                    options.binary,
                    [
                        "training-set", "--repo", repo, "--entities", data + "/entity_df.parquet", "--features",
                        "driver_hourly_stats", "--output", data + "/scale.parquet", "--threads",
                        String(options.threads), "--json",
                    ] + limit(options)))
        }
        return Measured(seconds: seconds, rss: number(json["peak_rss_bytes"]), rows: rowsRead(json, key: "rowsRead"))
    }

    static func materialize(_ options: TrainingSetBenchmark.Options) throws -> Measured {
        let data = try TrainingSetBenchmark.ensureData(options)
        let repo = try TrainingSetBenchmark.repository(data: data, binary: options.binary)
        let (seconds, json) = try best(options) {
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: repo + "/.tessera/online.db" + suffix)
            }
            return parse(
                try PeerProcess.run(
                    options.binary,
                    [
                        "materialize", "2026-01-01", "2026-01-31", "--repo", repo, "--threads",
                        String(options.threads), "--json",
                    ] + limit(options)))
        }
        return Measured(seconds: seconds, rss: number(json["peak_rss_bytes"]), rows: rowsRead(json, key: "rows_read"))
    }

    static func aggregations(_ options: TrainingSetBenchmark.Options) throws -> Measured {
        let data = try AggregationBenchmark.ensureTrips(options)
        let repo = try AggregationBenchmark.repository(data: data, options: options)
        let (seconds, json) = try best(options) {
            parse(
                try PeerProcess.run(
                    options.binary,
                    [
                        "training-set", "--repo", repo, "--entities", data + "/trip_labels.parquet", "--features",
                        "driver_trip_aggs", "--output", data + "/scale.parquet", "--threads", String(options.threads),
                        "--json",
                    ] + limit(options)))
        }
        return Measured(seconds: seconds, rss: number(json["peak_rss_bytes"]), rows: rowsRead(json, key: "rowsRead"))
    }
}
