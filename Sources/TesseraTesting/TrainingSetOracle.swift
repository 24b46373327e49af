import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import Testing

/// The reference workload's training set as DuckDB computes it with Feast's rules
/// (`benchmarks/training_set_peers.py`): the oracle every offline engine is compared with.
public enum TrainingSetOracle {
    public static let peers = PythonOracle.packageRoot.appendingPathComponent("benchmarks/training_set_peers.py").path
    public static let workload = PythonOracle.packageRoot.appendingPathComponent("benchmarks/workload.py").path

    /// Writes the workload of `size` (driver_stats.parquet, entity_df.parquet) into `dir`.
    public static func writeWorkload(_ size: String, into dir: String) throws {
        try PythonOracle.runFile(workload, arguments: [size, dir])
    }

    /// The workload's definitions, the source of `driver_hourly_stats` being `source`.
    public static func definitions(ttl: TimeSpan, source: SourceKind) -> Definitions {
        Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
            sources: [
                DataSource(
                    name: "driver_stats", kind: source, timestampField: "event_timestamp",
                    createdTimestampField: "created")
            ],
            featureViews: [
                FeatureView(
                    name: "driver_hourly_stats", entities: ["driver"], source: "driver_stats",
                    features: [
                        Feature("conv_rate", .float32), Feature("acc_rate", .float32),
                        Feature("avg_daily_trips", .int32),
                    ], ttl: ttl)
            ])
    }

    /// DuckDB's training set for the workload in `dir`.
    public static func duckdb(_ dir: String, ttlSeconds: Int64) throws -> RecordBatch {
        let out = dir + "/duckdb.parquet"
        try PythonOracle.runFile(peers, arguments: ["duckdb", dir, out, "--ttl-seconds", String(ttlSeconds)])
        return try ParquetFile(path: out).read()
    }

    /// Expects `ours` to equal DuckDB's output value by value, in order.
    public static func compare(_ ours: RecordBatch, _ theirs: RecordBatch, _ label: String) {
        #expect(ours.rowCount == theirs.rowCount, "\(label): row counts")
        for name in ["driver_id", "event_timestamp", "label", "conv_rate", "acc_rate", "avg_daily_trips"] {
            guard let a = ours.column(named: name), let b = theirs.column(named: name) else {
                Issue.record("\(label): column \(name) missing")
                continue
            }
            var mismatches = 0
            var first: String?
            for row in 0..<min(a.count, b.count) where a.value(at: row) != b.value(at: row) {
                mismatches += 1
                if first == nil { first = "row \(row): tessera \(a.value(at: row)) duckdb \(b.value(at: row))" }
            }
            #expect(mismatches == 0, "\(label): \(name) differs in \(mismatches) rows; first \(first ?? "")")
        }
    }
}
