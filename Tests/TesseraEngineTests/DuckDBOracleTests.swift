import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOffline
import TesseraTesting
import Testing

/// Training sets compared row by row with DuckDB's ASOF join written with Feast's rules
/// (`benchmarks/training_set_peers.py`), on the S workload and on random tables with heavy ties.
@Suite(.serialized) struct DuckDBOracleTests {
    /// Tessera's training set for `dir` (driver_stats.parquet + entity_df.parquet).
    static func tessera(_ dir: String, ttl: TimeSpan, threads: Int = 2) throws -> RecordBatch {
        let defs = TrainingSetOracle.definitions(
            ttl: ttl, source: .file(path: dir + "/driver_stats.parquet", format: .parquet))
        let sources = RepositorySources(root: dir, definitions: defs)
        let entities = try Dataset.open(dir + "/entity_df.parquet").read()
        let builder = TrainingSetBuilder(definitions: defs) { try sources.readers(for: $0) }
        return try builder.build(
            TrainingSetRequest(
                spine: .entities(entities, name: "entity_df"), selection: .features(["driver_hourly_stats"]),
                threads: threads)
        ).batch
    }

    @Test func sWorkloadMatchesDuckDBRowByRow() async throws { try await runOffPool { try Self.sWorkload() } }

    static func sWorkload() throws {
        let dir = try TemporaryDirectory("oracle-s")
        defer { dir.remove() }
        try TrainingSetOracle.writeWorkload("S", into: dir.path)
        let ours = try DuckDBOracleTests.tessera(dir.path, ttl: .days(2))
        let theirs = try TrainingSetOracle.duckdb(dir.path, ttlSeconds: 2 * 86_400)
        #expect(ours.rowCount == 100_000)
        TrainingSetOracle.compare(ours, theirs, "S")
    }

    @Test func randomTablesWithHeavyTiesMatchDuckDB() async throws { try await runOffPool { try Self.randomTables() } }

    static func randomTables() throws {
        let dir = try TemporaryDirectory("oracle-random")
        defer { dir.remove() }
        // Small key and time ranges make ties on (driver_id, event_timestamp) common; created times are
        // distinct, as rows equal in both times have no defined winner (DuckDB picks any of them).
        let generate = """
            import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
            seed, out = int(sys.argv[1]), sys.argv[2]
            rng = np.random.default_rng(seed)
            n, m = int(rng.integers(0, 300)), int(rng.integers(1, 120))
            base = 1767225600 * 1_000_000
            ts = lambda k, hi: pa.array(base + rng.integers(0, hi, k) * 1_000_000, type=pa.timestamp('us', tz='UTC'))
            def keys(k):
                v = rng.integers(0, 8, k)
                mask = rng.random(k) < 0.05
                return pa.array(v, type=pa.int64(), mask=mask)
            ev = ts(n, 40)
            stats = pa.table({'driver_id': keys(n), 'event_timestamp': ev,
                'created': pa.array(ev.cast(pa.int64()).to_numpy() + rng.permutation(n), type=pa.timestamp('us', tz='UTC')),
                'conv_rate': pa.array(rng.random(n), type=pa.float32()),
                'acc_rate': pa.array(np.arange(n), type=pa.float32()),
                'avg_daily_trips': pa.array(rng.integers(0, 1000, n), type=pa.int32())})
            ent = pa.table({'driver_id': keys(m), 'event_timestamp': ts(m, 50), 'label': pa.array(np.arange(m), type=pa.int64())})
            pq.write_table(stats, out + '/driver_stats.parquet', row_group_size=max(1, n // 3))
            pq.write_table(ent, out + '/entity_df.parquet')
            """
        for seed in 0..<12 {
            let ttl: Int64 = [0, 1, 5, 20][seed % 4]
            try PythonOracle.run(generate, arguments: [String(seed), dir.path])
            let ours = try DuckDBOracleTests.tessera(dir.path, ttl: .seconds(ttl), threads: 1 + seed % 2)
            // DuckDB's query needs a bound; ttl 0 (unbounded) is the same as a bound larger than the data.
            let theirs = try TrainingSetOracle.duckdb(dir.path, ttlSeconds: ttl == 0 ? 1_000_000 : ttl)
            TrainingSetOracle.compare(ours, theirs, "seed \(seed), ttl \(ttl)s")
        }
    }
}
