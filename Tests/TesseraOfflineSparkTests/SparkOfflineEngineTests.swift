import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOffline
import TesseraSQL
import TesseraTesting
import Testing

@testable import TesseraOfflineSpark

/// `offline_store: {type: spark}` on Spark `local[2]` (pyspark from the test venv), one
/// session for the whole suite: random sources split over two Parquet files, with heavy
/// ties across and within files, null keys, times and created times, joined by Spark and
/// compared value by value with the native engine reading the same files.
@Suite(.serialized) struct SparkOfflineEngineTests {
    static let base: Int64 = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z

    /// Random source rows (split into two files) and entity rows over few keys and seconds:
    /// rows equal in key, event and created time are common, within a file and across the two.
    struct Case {
        var rows: RecordBatch
        var split: Int
        var entities: RecordBatch
        var ttlSeconds: Int64
        var hasCreated: Bool

        init(seed: UInt64) throws {
            var rng = SplitMixRNG(seed: seed)
            ttlSeconds = [0, 1, 5, 12][rng.below(4)]
            hasCreated = rng.below(3) != 0
            let strings = rng.below(4) == 0
            func maybe(_ value: ScalarValue, nullOneIn n: Int) -> ScalarValue { rng.below(n) == 0 ? .null : value }
            func key(_ k: Int) -> ScalarValue { strings ? .string("k\(k)") : .int64(Int64(k)) }
            func instant(_ seconds: Int) -> ScalarValue {
                .timestamp(Timestamp(microseconds: base + Int64(seconds) * 1_000_000))
            }
            var columns: [[ScalarValue]] = Array(repeating: [], count: 6)
            let count = rng.below(60) + 1
            for _ in 0..<count {
                columns[0].append(maybe(key(rng.below(6)), nullOneIn: 12))
                columns[1].append(maybe(instant(rng.below(12)), nullOneIn: 15))
                columns[2].append(maybe(instant(rng.below(3)), nullOneIn: 6))
                columns[3].append(maybe(.float32(Float(rng.below(1000)) / 8 - 40), nullOneIn: 5))
                columns[4].append(maybe(.string(["a", "b", "ç", "a b", ""][rng.below(5)]), nullOneIn: 5))
                columns[5].append(maybe(.int32(Int32(rng.below(100)) - 50), nullOneIn: 5))
            }
            let types: [ValueType] = [strings ? .string : .int64, .timestamp, .timestamp, .float32, .string, .int32]
            let names = ["driver_id", "ts", "created", "value", "name", "n"]
            rows = try RecordBatch(
                schema: Schema(zip(names, types).map { Field($0, $1) }),
                columns: try zip(types, columns).map { type, values in
                    try #require(Column(type: type, scalars: values))
                })
            split = rng.below(count + 1)
            var keys: [ScalarValue] = []
            var times: [ScalarValue] = []
            for _ in 0..<rng.below(40) {
                keys.append(maybe(key(rng.below(7)), nullOneIn: 10))
                times.append(maybe(instant(rng.below(16)), nullOneIn: 10))
            }
            entities = try RecordBatch(
                schema: Schema([Field("driver_id", types[0]), Field("event_timestamp", .timestamp)]),
                columns: [
                    try #require(Column(type: types[0], scalars: keys)),
                    try #require(Column(type: .timestamp, scalars: times)),
                ])
        }

        /// Writes the rows as two files of one folder, `part-0` then `part-1`.
        func write(into folder: String) throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (index, range) in [0..<split, split..<rows.rowCount].enumerated() {
                let writer = try ParquetWriter(path: folder + "/part-\(index).parquet", schema: rows.schema)
                try writer.write(rows.slice(range))
                try writer.close()
            }
        }

        func definitions(folder: String) -> Definitions {
            Definitions(
                entities: [
                    Entity(name: "driver", joinKeys: [JoinKey("driver_id", rows.schema.fields[0].type.joinKeyType)])
                ],
                sources: [
                    DataSource(
                        name: "stats", kind: .file(path: folder, format: .parquet), timestampField: "ts",
                        createdTimestampField: hasCreated ? "created" : nil)
                ],
                featureViews: [
                    FeatureView(
                        name: "driver_stats", entities: ["driver"], source: "stats",
                        features: [Feature("value", .float64), Feature("name", .string), Feature("n", .int64)],
                        ttl: .seconds(ttlSeconds))
                ])
        }
    }

    static func engines(root: String) -> (NativeEngine, SparkOfflineEngine) {
        let native = NativeEngine(root: root, threads: 2)
        // One session for the suite, whatever the repository folder.
        let session = SparkSession.shared(
            SparkSession.Settings(
                python: PythonOracle.interpreter, master: "local[2]", connect: nil, sparkHome: nil,
                conf: ["spark.sql.shuffle.partitions": "4"], log: NSTemporaryDirectory() + "/tessera-spark-tests.log"))
        return (native, SparkOfflineEngine(native: native, session: session, workFolder: root + "/.tessera/spark"))
    }

    @Test func randomCasesEqualTheNativeEngine() async throws {
        // Off Swift's cooperative threads: minutes of blocking work would starve the async
        // (HTTP) tests that run beside this suite on a 2-core machine.
        try await runOffPool {
            let dir = try TemporaryDirectory("spark-engine")
            defer { dir.remove() }
            let (native, spark) = Self.engines(root: dir.path)
            var pushed = 0
            for i in 0..<12 {
                let c = try Case(seed: UInt64(i) &* 6007 &+ 11)
                try c.write(into: dir.path + "/stats\(i)")
                let definitions = c.definitions(folder: "stats\(i)")
                for guardCreated in [false, true] {
                    let request = TrainingSetRequest(
                        spine: .entities(c.entities, name: "entities"), selection: .features(["driver_stats"]),
                        createdNotAfterTime: guardCreated, threads: 2)
                    let ours = try spark.trainingSet(request, definitions: definitions) { _ in }
                    let theirs = try native.trainingSet(request, definitions: definitions) { _ in }
                    #expect(ours.batch == theirs.batch, "case \(i), no-future-created \(guardCreated)")
                    if case .success = spark.placement(of: definitions.featureViews[0], definitions: definitions) {
                        pushed += 1
                    }
                }
                // Materialization's latest rows, over the whole range and a part of it.
                let view = definitions.featureViews[0]
                for (start, end) in [(0, 12), (3, 8)] as [(Int64, Int64)] {
                    let request = LatestRowsRequest(
                        view: view, start: Timestamp(microseconds: Self.base + start * 1_000_000),
                        end: Timestamp(microseconds: Self.base + end * 1_000_000), batchRows: 4)
                    func rows(_ engine: any OfflineEngine) throws -> [[ScalarValue]] {
                        var out: [[ScalarValue]] = []
                        _ = try engine.latestRows(request, definitions: definitions, progress: { _ in }) { batch in
                            #expect(batch.rowCount <= 4)
                            let columns = batch.columns.map(\.values)
                            for r in 0..<batch.rowCount { out.append(columns.map { $0[r] }) }
                        }
                        return out.sorted { "\($0[0])" < "\($1[0])" }
                    }
                    #expect(try rows(spark) == rows(native), "case \(i), latest rows \(start)...\(end)")
                }
            }
            #expect(pushed == 24, "every case ran in Spark")
        }
    }

    /// Window aggregations computed by Spark (exact partial states merged by Tessera) equal
    /// the native engine's to the bit, the source split over two files.
    @Test func randomAggregationCasesEqualTheNativeEngineToTheBit() async throws {
        // Off Swift's cooperative threads: minutes of blocking work would starve the async
        // (HTTP) tests that run beside this suite on a 2-core machine.
        try await runOffPool {
            let dir = try TemporaryDirectory("spark-engine-aggs")
            defer { dir.remove() }
            let (native, spark) = Self.engines(root: dir.path)
            for i in 0..<10 {
                let c = try AggregationCase(seed: UInt64(i) &* 7919 &+ 5)
                let folder = dir.path + "/aggs\(i)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let half = c.rows.rowCount / 2
                for (index, range) in [0..<half, half..<c.rows.rowCount].enumerated() {
                    let writer = try ParquetWriter(path: folder + "/part-\(index).parquet", schema: c.rows.schema)
                    try writer.write(c.rows.slice(range))
                    try writer.close()
                }
                let definitions = c.definitions(.file(path: "aggs\(i)", format: .parquet))
                let request = TrainingSetRequest(
                    spine: .entities(c.entities, name: "entities"),
                    selection: .features(["driver_aggs", "driver_sketches", "driver_latest"]),
                    fullFeatureNames: true, threads: 2)
                let ours = try spark.trainingSet(request, definitions: definitions) { _ in }
                let theirs = try native.trainingSet(request, definitions: definitions) { _ in }
                let differences = AggregationCase.differences(ours.batch, theirs.batch)
                #expect(differences.isEmpty, "case \(i): \(differences.prefix(5))")
                #expect(ours.views.map(\.matched) == theirs.views.map(\.matched), "case \(i)")
                let plan = try spark.explain(request, definitions: definitions)
                let pushed = c.filter != AggregationCase.untranslatedFilter
                #expect(AggregationCase.runsNatively("driver_aggs", plan) == !pushed, "case \(i): \(plan)")
                #expect(AggregationCase.runsNatively("driver_latest", plan) == !pushed, "case \(i): \(plan)")
                #expect(!pushed || plan.contains("doubleToRawLongBits"), "\(plan)")
            }
        }
    }

    /// The reference workload S joined by Spark equals DuckDB's exact-rules join, row by row.
    @Test func workloadSEqualsDuckDB() async throws {
        try await runOffPool {
            let dir = try TemporaryDirectory("spark-engine-oracle")
            defer { dir.remove() }
            let (_, spark) = Self.engines(root: dir.path)
            try TrainingSetOracle.writeWorkload("S", into: dir.path)
            let definitions = TrainingSetOracle.definitions(
                ttl: .days(2), source: .file(path: "driver_stats.parquet", format: .parquet))
            #expect(throws: Never.self) {
                try spark.placement(of: definitions.featureViews[0], definitions: definitions).get()
            }
            let request = TrainingSetRequest(
                spine: .entities(try Dataset.open(dir.file("entity_df.parquet")).read(), name: "entity_df"),
                selection: .features(["driver_hourly_stats"]))
            let ours = try spark.trainingSet(request, definitions: definitions) { _ in }
            #expect(ours.rows == 100_000)
            TrainingSetOracle.compare(ours.batch, try TrainingSetOracle.duckdb(dir.path, ttlSeconds: 2 * 86_400), "S")
        }
    }

    @Test func explainShowsTheSparkSQLAndFailuresNameSparksMessage() async throws {
        // Off Swift's cooperative threads: minutes of blocking work would starve the async
        // (HTTP) tests that run beside this suite on a 2-core machine.
        try await runOffPool {
            let dir = try TemporaryDirectory("spark-engine-explain")
            defer { dir.remove() }
            let (_, spark) = Self.engines(root: dir.path)
            let c = try Case(seed: 3)
            try c.write(into: dir.path + "/stats")
            let definitions = c.definitions(folder: "stats")
            let request = TrainingSetRequest(
                spine: .entities(c.entities, name: "entities"), selection: .features(["driver_stats"]))
            let plan = try spark.explain(request, definitions: definitions)
            #expect(plan.contains("driver_stats: as-of join of value, name, n in Spark"), "\(plan)")
            #expect(plan.contains("ROW_NUMBER() OVER (PARTITION BY e.__row"), "\(plan)")
            #expect(plan.contains("_metadata.file_path AS __tb0, _metadata.row_index AS __tb1"), "\(plan)")
            // A source column of the wrong type fails in Spark, naming it, with the SQL kept.
            var message = ""
            do {
                try spark.run(
                    purpose: "a test query", prepare: { _ in "SELECT no_such_column FROM parquet.`/nowhere`" }
                ) {
                    _ in
                }
                Issue.record("the query ran")
            } catch {
                message = "\(error)"
            }
            #expect(message.contains("Spark could not compute a test query"), "\(message)")
            #expect(message.contains("PATH_NOT_FOUND") || message.contains("does not exist"), "\(message)")
            let path = try #require(
                message.components(separatedBy: "the query is in ").last?.trimmingCharacters(
                    in: .whitespacesAndNewlines))
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains("no_such_column"))
        }
    }

    @Test func theSparkJoinHasTheDocumentedShape() {
        let scan = SourceScanSQL(
            source: "parquet.`/data/stats`", keys: ["`driver_id`"], eventColumn: "ts", createdColumn: nil,
            outputs: ["`driver_id`", "`value`"], rowOrder: ["_metadata.file_path", "_metadata.row_index"], lower: nil,
            upper: 5_000_000)
        let sql = PointInTimeSQL(
            entities: "parquet.`/job/entities.parquet`", scan: scan, bounded: false, createdNotAfterTime: false
        )
        .sql(.spark)
        #expect(
            sql == """
                SELECT __row, c0, c1 FROM (
                SELECT e.__row, s.c0, s.c1, ROW_NUMBER() OVER (PARTITION BY e.__row ORDER BY s.__ts DESC, s.__cr DESC NULLS LAST, s.__tb0 DESC, s.__tb1 DESC) AS __rank
                FROM parquet.`/job/entities.parquet` e
                JOIN (SELECT `driver_id` AS __k0, `ts` AS __ts, CAST(NULL AS TIMESTAMP) AS __cr, _metadata.file_path AS __tb0, _metadata.row_index AS __tb1, `driver_id` AS c0, `value` AS c1 FROM parquet.`/data/stats` WHERE `ts` <= TIMESTAMP '1970-01-01T00:00:05Z') s
                  ON s.__k0 = e.__k0 AND s.__ts <= e.__ts
                ) ranked WHERE __rank = 1
                """)
    }
}
