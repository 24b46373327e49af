import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats

/// `tessera bench aggregations`: a training set of the trips workload's 14 window
/// aggregations (`driver_trip_aggs`), as a process, against DuckDB's exact SQL formulations
/// (and Feast's aggregation support, where it runs) in the same run.
public enum AggregationBenchmark {
    /// `driver_trip_aggs`' 14 aggregated features, as a view's `aggregations:` block (the
    /// training-set and online benchmarks measure the same features).
    static let tripAggregations = """
        aggregations:
          - column: fare
            functions: [sum, mean, max]
            windows: [1h, 1d, 7d]
          - function: count
            windows: [1h, 1d, 7d]
          - column: rider_id
            functions: [approx_count_distinct]
            windows: [7d]
          - column: fare
            functions: [approx_percentile(0.9)]
            windows: [7d]
        """
        // Indented as the views' keys are in the definitions below, after the first line.
        .split(separator: "\n").joined(separator: "\n    ") + "\n"

    static let features = """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: trips
            path: {path}
            timestamp_field: event_timestamp
        feature_views:
          - name: driver_trip_aggs
            entities: [driver]
            source: trips
            online: false
            \(tripAggregations)
        """

    /// Columns that must agree exactly, or (sums, means) to the last bits of DuckDB's own additions.
    static let exact =
        ["driver_id", "event_timestamp", "label", "count_1h", "count_1d", "count_7d"]
        + ["1h", "1d", "7d"].map { "fare_max_\($0)" }
    static let close = ["1h", "1d", "7d"].flatMap { ["fare_sum_\($0)", "fare_mean_\($0)"] }

    struct Run {
        var seconds: Double
        var rss: Double
    }

    /// Writes the trips workload of `options.size` unless it is there; its folder.
    static func ensureTrips(_ options: TrainingSetBenchmark.Options) throws -> String {
        let size = options.size.uppercased()
        let data = options.dataDirectory + "/trips-" + size
        let fm = FileManager.default
        if !fm.fileExists(atPath: data + "/trips.parquet") || !fm.fileExists(atPath: data + "/trip_labels.parquet") {
            try fm.createDirectory(atPath: data, withIntermediateDirectories: true)
            _ = try PeerProcess.run(
                options.python, [options.packageRoot + "/benchmarks/workload.py", size, data, "--trips"])
        }
        return data
    }

    /// A repository with `driver_trip_aggs` over the trips (`source`: the source's lines
    /// after its name; default the Parquet file), applied.
    static func repository(
        data: String, options: TrainingSetBenchmark.Options, folder: String = "repo", config: String = "",
        source: String? = nil
    ) throws -> String {
        let repo = data + "/" + folder
        try FileManager.default.createDirectory(atPath: repo + "/features", withIntermediateDirectories: true)
        try ("project: bench_trips\n" + config).write(toFile: repo + "/tessera.yaml", atomically: true, encoding: .utf8)
        try features.replacingOccurrences(of: "path: {path}", with: source ?? "path: \(data)/trips.parquet")
            .write(toFile: repo + "/features/trips.yaml", atomically: true, encoding: .utf8)
        _ = try PeerProcess.run(options.binary, ["apply", "--repo", repo])
        return repo
    }

    /// The best of `runs` `tessera training-set` processes of `driver_trip_aggs` over `repo`.
    static func timeTrainingSet(_ options: TrainingSetBenchmark.Options, data: String, repo: String, output: String)
        throws -> Run
    {
        var runs: [Run] = []
        for _ in 0..<max(1, options.runs) {
            let start = Date()
            let out = try PeerProcess.run(
                options.binary,
                [
                    "training-set", "--repo", repo, "--entities", data + "/trip_labels.parquet", "--features",
                    "driver_trip_aggs", "--output", output, "--threads", String(options.threads), "--json",
                ])
            let json = PeerProcess.lastJSON(out) ?? [:]
            runs.append(
                Run(
                    seconds: Date().timeIntervalSince(start),
                    rss: (json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0))
        }
        return runs.min { $0.seconds < $1.seconds } ?? Run(seconds: 0, rss: 0)
    }

    public static func run(_ options: TrainingSetBenchmark.Options) throws -> BenchmarkReport {
        let size = options.size.uppercased()
        let data = try ensureTrips(options)
        let repo = try repository(data: data, options: options)

        var report = BenchmarkReport(
            title: "training set with 14 window aggregations (driver_trip_aggs), trips \(size)")
        let ours = data + "/tessera.parquet"
        let t = try timeTrainingSet(options, data: data, repo: repo, output: ours)
        let best = { (runs: [Run]) in runs.min { $0.seconds < $1.seconds } ?? Run(seconds: 0, rss: 0) }
        var fastest: (name: String, run: Run, path: String)?
        for formulation in ["range-join", "window"] {
            let path = data + "/duckdb-\(formulation).parquet"
            var runs: [Run] = []
            for _ in 0..<max(1, options.runs) {
                let out = try PeerProcess.run(
                    options.python,
                    [
                        options.packageRoot + "/benchmarks/aggregation_peers.py", "duckdb", data, path,
                        "--formulation", formulation, "--threads", String(options.threads),
                    ])
                let json = PeerProcess.lastJSON(out) ?? [:]
                runs.append(
                    Run(
                        seconds: (json["seconds"] as? NSNumber)?.doubleValue ?? 0,
                        rss: (json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0))
            }
            let d = best(runs)
            let name = "DuckDB \(formulation)"
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, process wall time", metric: "seconds", tessera: t.seconds, peer: d.seconds,
                    peerName: name, target: "≥ 10× DuckDB's fastest"))
            report.figures.append(
                BenchmarkFigure(
                    task: "training set, peak RSS", metric: "MB", tessera: t.rss / 1e6, peer: d.rss / 1e6,
                    peerName: name, target: "Tessera ≤ 1000 MB"))
            if fastest.map({ d.seconds < $0.run.seconds }) ?? true { fastest = (name, d, path) }
        }
        if let feast = options.feastPython {
            let out = try PeerProcess.run(
                feast,
                [options.packageRoot + "/benchmarks/aggregation_feast.py", data, data + "/feast.parquet"])
            let json = PeerProcess.lastJSON(out) ?? [:]
            let rows = (json["rows"] as? NSNumber)?.intValue ?? 0
            if rows > 0 {
                report.figures.append(
                    BenchmarkFigure(
                        task: "training set, wall time", metric: "seconds", tessera: t.seconds,
                        peer: (json["seconds"] as? NSNumber)?.doubleValue ?? 0, peerName: "Feast 0.67"))
            }
            let notes = (json["notes"] as? String ?? "no report").trimmingCharacters(
                in: CharacterSet(charactersIn: ". "))
            report.notes.append("Feast 0.67: \(notes).")
        } else {
            report.notes.append("Feast was skipped: pass --feast-python PATH (a Python with feast[duckdb]==0.67.0).")
        }
        if let fastest {
            report.notes.append(try agreement(ours, fastest.path, peer: fastest.name))
        }
        report.notes.append(
            "Best of \(max(1, options.runs)) run(s); Tessera and DuckDB with --threads \(options.threads), each in its own process; times include reading the Parquet inputs and writing the output."
        )
        return report
    }

    /// Whether Tessera's output equals DuckDB's: the exact columns value by value, sums and
    /// means to 1e-12 (DuckDB adds in its own order; Tessera rounds the exact sum once), and
    /// the sketches' mean relative difference from DuckDB's own sketches.
    static func agreement(_ ours: String, _ theirs: String, peer: String) throws -> String {
        let a = try ParquetFile(path: ours).read()
        let b = try ParquetFile(path: theirs).read()
        var differing: [String] = []
        for name in exact + close {
            guard let x = a.column(named: name), let y = b.column(named: name), x.count == y.count else {
                differing.append("\(name) (missing)")
                continue
            }
            var bad = 0
            for row in 0..<x.count {
                let p = x.value(at: row)
                let q = y.value(at: row)
                if close.contains(name), let u = p.asDouble, let v = q.asDouble {
                    if abs(u - v) > 1e-12 * max(1, abs(v)) { bad += 1 }
                } else if p != q {
                    bad += 1
                }
            }
            if bad > 0 { differing.append("\(name) (\(bad) rows)") }
        }
        var sketches: [String] = []
        for name in ["rider_id_approx_count_distinct_7d", "fare_p90_7d"] {
            guard let x = a.column(named: name), let y = b.column(named: name), x.count == y.count else { continue }
            var total = 0.0
            var n = 0
            for row in 0..<x.count {
                guard let u = x.value(at: row).asDouble, let v = y.value(at: row).asDouble, v != 0 else { continue }
                total += abs(u - v) / abs(v)
                n += 1
            }
            sketches.append(String(format: "%@ %.3f%%", name, n > 0 ? 100 * total / Double(n) : 0))
        }
        let verdict =
            differing.isEmpty
            ? "Tessera's output equals \(peer)'s (\(a.rowCount) rows; counts and maxima exactly, sums and means to 1e-12)."
            : "WARNING: Tessera's output differs from \(peer)'s: \(differing.joined(separator: ", "))."
        return verdict + " Mean relative difference from DuckDB's own sketches: \(sketches.joined(separator: ", "))."
    }
}
