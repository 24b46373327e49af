import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

/// `offline_store: {type: spark}` through the command line, on Spark `local[2]` from the
/// test venv: the example repository's training sets and materialization equal the native
/// engine's, and `--explain` shows the Spark SQL.
@Suite(.serialized) struct SparkEndToEndTests {
    @Test func theSparkEngineGivesTheNativeEnginesResults() throws {
        let dir = try TemporaryDirectory("spark-e2e")
        defer { dir.remove() }
        let native = try MaterializeTests.repo(dir, name: "native")
        let spark = try MaterializeTests.repo(dir, name: "spark")
        let config = try String(contentsOfFile: spark + "/tessera.yaml", encoding: .utf8)
        let sparkConfig = config.replacingOccurrences(
            of: "offline_store:\n  type: native",
            with: """
                offline_store:
                  type: spark
                  master: "local[2]"
                  python: \(PythonOracle.interpreter)
                  conf: {spark.sql.shuffle.partitions: "4"}
                """)
        #expect(sparkConfig != config)
        try sparkConfig.write(toFile: spark + "/tessera.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["apply", "--repo", spark]).status == 0)

        // The plain view runs in Spark, the window aggregations natively; both equal the native engine's.
        try PostgresEndToEndTests.sameTrainingSets(
            [
                ("rides", ["--features", "driver_hourly_stats", "--no-future-created"]),
                ("trip_labels", ["--service", "driver_activity_v1"]),
            ], embedded: native, repo: spark, dir: dir, label: "spark")
        let explained = try CommandRunner.run(
            [
                "training-set", "--repo", spark, "--entities", native + "/data/rides.parquet", "--features",
                "driver_hourly_stats", "--explain",
            ])
        #expect(explained.status == 0, "\(explained)")
        #expect(explained.stdout.contains("driver_hourly_stats: as-of join"), "\(explained.stdout)")
        #expect(explained.stdout.contains("ROW_NUMBER() OVER (PARTITION BY e.__row"), "\(explained.stdout)")

        // Materialization: each driver's latest row chosen by Spark, the same store.
        let args = ["materialize", "2026-01-01", "2026-01-20T12:00:00Z"]
        #expect(try CommandRunner.run(args + ["--repo", native]).status == 0)
        let materialized = try CommandRunner.run(args + ["--repo", spark])
        #expect(materialized.status == 0, "\(materialized)")
        let expected = try MaterializeTests.records(native)
        #expect(expected.compactMap { $0 }.count > 100)
        #expect(try MaterializeTests.records(spark) == expected)
    }
}
