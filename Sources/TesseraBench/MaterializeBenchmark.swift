import Foundation
import TesseraCore

/// `tessera bench materialize`: loading the workload's latest row per driver into the online
/// store, as a process, against Feast 0.67's `materialize` into its SQLite store, in the same run.
public enum MaterializeBenchmark {
    public static func run(_ options: TrainingSetBenchmark.Options) throws -> BenchmarkReport {
        let data = try TrainingSetBenchmark.ensureData(options)
        let repo = try TrainingSetBenchmark.repository(data: data, binary: options.binary)
        var report = BenchmarkReport(title: "materialize into the online store, workload \(options.size.uppercased())")
        var best: (seconds: Double, rss: Double, rows: Double, entities: Double)? = nil
        for _ in 0..<max(1, options.runs) {
            // A fresh store and no watermark each run: the whole interval is loaded.
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: repo + "/.tessera/online.db" + suffix)
            }
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
        }
        guard let ours = best else { return report }
        var feast: (seconds: Double, rss: Double)? = nil
        if let python = options.feastPython {
            let out = try PeerProcess.run(
                python,
                [
                    options.packageRoot + "/benchmarks/materialize_peers.py", "feast", data,
                    data + "/feast-materialize",
                ])
            let json = PeerProcess.lastJSON(out) ?? [:]
            feast = (
                (json["seconds"] as? NSNumber)?.doubleValue ?? 0,
                (json["peak_rss_bytes"] as? NSNumber)?.doubleValue ?? 0
            )
        } else {
            report.notes.append("Feast was skipped: pass --feast-python PATH (a Python with feast[duckdb]==0.67.0).")
        }
        let peerName = "Feast 0.67 materialize (SQLite online store)"
        report.figures.append(
            BenchmarkFigure(
                task: "materialize, source rows per second", metric: "rows/s", tessera: ours.rows / ours.seconds,
                peer: feast.map { ours.rows / $0.seconds }, peerName: feast == nil ? nil : peerName,
                higherIsBetter: true,
                target: "≥ 30× Feast"))
        report.figures.append(
            BenchmarkFigure(
                task: "materialize, process wall time", metric: "seconds", tessera: ours.seconds, peer: feast?.seconds,
                peerName: feast == nil ? nil : peerName))
        report.figures.append(
            BenchmarkFigure(
                task: "materialize, peak RSS", metric: "MB", tessera: ours.rss / 1e6, peer: feast.map { $0.rss / 1e6 },
                peerName: feast == nil ? nil : peerName, target: "≤ 1000 MB"))
        report.notes.append(
            "Tessera read \(Int(ours.rows)) rows and wrote \(Int(ours.entities)) entities; best of \(max(1, options.runs)) run(s), --threads \(options.threads), each tool in its own process."
        )
        return report
    }
}
