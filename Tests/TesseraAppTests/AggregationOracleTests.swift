import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOffline
import TesseraTesting
import Testing

/// The trips workload's window aggregations, from tessera.yaml through a training set,
/// compared with DuckDB's exact SQL (`benchmarks/aggregation_peers.py --oracle`) row by row.
@Suite(.serialized) struct AggregationOracleTests {
    static let definitions = """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: trips
            path: data/trips.parquet
            timestamp_field: event_timestamp
        feature_views:
          - name: driver_trip_aggs
            entities: [driver]
            source: trips
            online: false
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

    /// Which engine computes the training set: the native one, Spark `local[2]` over the
    /// same Parquet file, or PostgreSQL over the trips loaded into a table.
    enum Engine {
        case native
        case spark
        case postgres
    }

    static func run(_ formulation: String, engine: Engine = .native) throws {
        let dir = try TemporaryDirectory("aggregation-oracle")
        defer { dir.remove() }
        let workload = PythonOracle.packageRoot.appendingPathComponent("benchmarks/workload.py").path
        try PythonOracle.runFile(workload, arguments: ["XS", dir.file("data"), "--trips"])
        var server: PostgresServerProcess?
        defer { server?.stop() }
        var settings = "project: trips\nregistry: {type: memory}\nonline_store: {type: memory}\n"
        var features = definitions
        switch engine {
        case .native: break
        case .spark:
            settings +=
                "offline_store: {type: spark, master: \"local[2]\", python: \(PythonOracle.interpreter), conf: {spark.sql.shuffle.partitions: \"4\"}}\n"
        case .postgres:
            let pg = try PostgresServerProcess()
            server = pg
            _ = try pg.load(parquet: dir.file("data/trips.parquet"), table: "trips", scratch: dir.file("trips.csv"))
            let url = "postgresql://postgres:\(pg.password)@127.0.0.1:\(pg.port)/postgres"
            settings += "offline_store: {type: postgres, url: \"\(url)\"}\n"
            features = features.replacingOccurrences(
                of: "    path: data/trips.parquet\n",
                with: "    type: postgres\n    url: \"\(url)\"\n    table: trips\n")
        }
        try dir.write("tessera.yaml", settings)
        try dir.write("features/trips.yaml", features)
        let peers = PythonOracle.packageRoot.appendingPathComponent("benchmarks/aggregation_peers.py").path
        try PythonOracle.runFile(
            peers,
            arguments: [
                "duckdb", dir.file("data"), dir.file("duckdb.parquet"), "--oracle", "--formulation", formulation,
            ])

        let store = try FeatureStore.open(dir.path, backends: .withMemory)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        let labels = try ParquetFile(path: dir.file("data/trip_labels.parquet")).read()
        let ours = try store.trainingSet(
            TrainingSetRequest(
                spine: .entities(labels, name: "trip_labels"), selection: .features(["driver_trip_aggs"]))
        )
        .batch
        let theirs = try ParquetFile(path: dir.file("duckdb.parquet")).read()
        if engine != .native {
            let request = TrainingSetRequest(
                spine: .entities(labels, name: "trip_labels"), selection: .features(["driver_trip_aggs"]))
            // Counts, sums, means and maxima where the data is; the sketches natively.
            let plan = try store.explainTrainingSet(request)
            #expect(
                plan.contains(engine == .spark ? "in Spark (exact partial sums" : "in PostgreSQL (exact partial sums"),
                "\(plan)")
            #expect(
                plan.contains("by the native engine (approx_count_distinct is not expressed in SQL yet)"), "\(plan)")
        }
        #expect(ours.rowCount == 10_000)
        #expect(ours.rowCount == theirs.rowCount)
        #expect(ours.schema.names.count == 3 + 14, "\(ours.schema.names)")

        var distinctError = 0.0
        var distinctTotal = 0.0
        for name in theirs.schema.names {
            guard let a = ours.column(named: name), let b = theirs.column(named: name) else {
                Issue.record("column \(name) missing from Tessera's output")
                continue
            }
            var mismatches = 0
            var first: String?
            for row in 0..<min(a.count, b.count) {
                let x = a.value(at: row)
                let y = b.value(at: row)
                let agrees: Bool
                switch (x.asDouble, y.asDouble) {
                case (nil, nil): agrees = x == y
                case (let p?, let q?) where name.contains("approx_count_distinct"):
                    // HyperLogLog: a handful of distinct riders per window is in its exact range.
                    agrees = abs(p - q) <= max(1, 0.02 * q)
                    distinctError += abs(p - q)
                    distinctTotal += q
                case (let p?, let q?) where name.hasSuffix("_p90_7d"):
                    // DDSketch: within 1% of the value of rank ⌊0.9·(n − 1)⌋.
                    agrees = abs(p - q) <= 0.01 * abs(q) + 1e-12
                case (let p?, let q?) where name.contains("_sum_") || name.contains("_mean_"):
                    // Tessera's sums are exactly rounded; DuckDB adds in its own order.
                    agrees = abs(p - q) <= 1e-12 * max(1, abs(q))
                case (let p?, let q?): agrees = p == q
                default: agrees = false
                }
                if !agrees {
                    mismatches += 1
                    if first == nil { first = "row \(row): tessera \(x), duckdb \(y)" }
                }
            }
            #expect(mismatches == 0, "\(name): \(mismatches) rows differ; first \(first ?? "")")
        }
        #expect(
            distinctError <= 0.01 * distinctTotal, "distinct counts' total error \(distinctError) of \(distinctTotal)")
        // A label row that is a trip's own label must not count that trip: some windows are empty
        // only because of that rule, and DuckDB agreeing on count_1h checks it.
        let counts = ours.column(named: "count_1h")?.int64Values ?? []
        #expect(counts.contains(0) && counts.contains { $0 > 0 })
    }

    @Test func rangeJoinFormulationAgrees() async throws { try await runOffPool { try Self.run("range-join") } }

    @Test func windowFunctionFormulationAgrees() async throws { try await runOffPool { try Self.run("window") } }

    /// The same oracle, the training set computed by Spark (`local[2]`): exact partial states
    /// for counts, sums, means and maxima, the two sketches natively.
    @Test func sparkEngineAgrees() async throws {
        try await runOffPool { try Self.run("range-join", engine: .spark) }
    }

    /// The same oracle, the trips in a PostgreSQL table and the training set computed there.
    @Test func postgresEngineAgrees() async throws {
        try await runOffPool { try Self.run("range-join", engine: .postgres) }
    }

    /// Without a declared `type`, an aggregation's input type is the source column's, and a
    /// function that cannot take it is an error at the aggregation's line.
    @Test func inputTypesComeFromTheSourceAndAreChecked() throws {
        let dir = try TemporaryDirectory("aggregation-types")
        defer { dir.remove() }
        try dir.write("tessera.yaml", "project: p\nregistry: {type: memory}\nonline_store: {type: memory}\n")
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        var status = BinaryData()
        for text in ["ok", "late", "ok"] { status.append(text) }
        let batch = try RecordBatch([
            "driver_id": .int64([1, 1, 2]), "ts": .timestamp([1_000_000, 2_000_000, 3_000_000]),
            "fare": .float32([1.5, 2.5, 4]), "n": .int32([1, 2, 3]),
            "status": Column(type: .string, data: .binary(status)),
        ])
        let writer = try ParquetWriter(path: dir.file("data/trips.parquet"), schema: batch.schema)
        try writer.write(batch)
        try writer.close()
        func definitions(_ extra: String) -> String {
            """
            entities:
              - name: driver
                join_keys: {driver_id: int64}
            sources:
              - name: trips
                path: data/trips.parquet
                timestamp_field: ts
            feature_views:
              - name: aggs
                entities: [driver]
                source: trips
                online: false
                aggregations:
                  - column: fare
                    functions: [sum, max]
                    windows: [lifetime]
                  - column: n
                    functions: [sum, last_n(2)]
                    windows: [lifetime]
                  - column: status
                    functions: [max, approx_count_distinct]
                    windows: [lifetime]
            \(extra)
            """
        }
        try dir.write("features/trips.yaml", definitions(""))
        let store = try FeatureStore.open(dir.path, backends: .withMemory)
        let view = try store.repository().definitions.featureViews.first
        func type(_ name: String) -> ValueType? { view?.features.first { $0.name == name }?.type }
        #expect(type("fare_sum_lifetime") == .float64)
        #expect(type("fare_max_lifetime") == .float32)
        #expect(type("n_sum_lifetime") == .int64)
        #expect(type("n_last_2_lifetime") == .list(.int32))
        #expect(type("status_max_lifetime") == .string)
        #expect(type("status_approx_count_distinct_lifetime") == .int64)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        let entities = try RecordBatch([
            "driver_id": .int64([1, 2]), "event_timestamp": .timestamp([9_000_000, 9_000_000]),
        ])
        let training = try store.trainingSet(
            TrainingSetRequest(spine: .entities(entities, name: "labels"), selection: .features(["aggs"]))
        ).batch
        #expect(training.column(named: "fare_sum_lifetime")?.values == [.float64(4), .float64(4)])
        #expect(
            training.column(named: "n_last_2_lifetime")?.values == [.list([.int32(2), .int32(1)]), .list([.int32(3)])])
        #expect(training.column(named: "status_max_lifetime")?.values == [.string("ok"), .string("ok")])

        try dir.write(
            "features/trips.yaml",
            definitions(
                """
                      - column: status
                        functions: [mean]
                        windows: [1d]
                      - column: stauts
                        function: count
                        window: 1d
                """))
        do {
            _ = try store.repository()
            Issue.record("a mean over strings was accepted")
        } catch {
            let found = error.diagnostics.map { "\($0.location) \($0.message) | \($0.hint ?? "")" }
            #expect(found.count == 2, "\(found)")
            #expect(
                found.contains {
                    $0.hasPrefix("features/trips.yaml:24:") && $0.contains("mean needs a numeric column, not string")
                },
                "\(found)")
            #expect(
                found.contains {
                    $0.hasPrefix("features/trips.yaml:27:") && $0.contains("reads column 'stauts'")
                        && $0.contains("did you mean 'status'?")
                }, "\(found)")
        }
    }

    /// The worked example of docs/semantics.md, row by row.
    @Test func theWorkedExampleOfTheDocs() throws {
        let dir = try TemporaryDirectory("aggregation-example")
        defer { dir.remove() }
        try dir.write("tessera.yaml", "project: p\nregistry: {type: memory}\nonline_store: {type: memory}\n")
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        let hour: Int64 = 3_600_000_000
        let fare = Column(
            type: .float64, data: .float64([10, 20, 0, 30]), validity: Bitmap([true, true, false, true]))
        let trips = try RecordBatch([
            "driver_id": .int64([1, 1, 1, 1]),
            "ts": .timestamp([9 * hour, 10 * hour, 10 * hour + hour / 2, 11 * hour]),
            "fare": fare,
        ])
        let writer = try ParquetWriter(path: dir.file("data/trips.parquet"), schema: trips.schema)
        try writer.write(trips)
        try writer.close()
        try dir.write(
            "features/trips.yaml",
            """
            entities:
              - name: driver
                join_keys: {driver_id: int64}
            sources:
              - name: trips
                path: data/trips.parquet
                timestamp_field: ts
            feature_views:
              - name: driver_trip_aggs
                entities: [driver]
                source: trips
                online: false
                aggregations:
                  - column: fare
                    functions: [sum]
                    windows: [1h]
                  - function: count
                    windows: [1h, 1d]

            """)
        let store = try FeatureStore.open(dir.path, backends: .withMemory)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        let labels = try RecordBatch([
            "driver_id": .int64([1, 1, 1, 1, 2]),
            "event_timestamp": .timestamp([11 * hour, 11 * hour + 1, 10 * hour, 8 * hour, 11 * hour]),
        ])
        let out = try store.trainingSet(
            TrainingSetRequest(spine: .entities(labels, name: "labels"), selection: .features(["driver_trip_aggs"]))
        ).batch
        #expect(out.column(named: "count_1h")?.values == [2, 2, 1, 0, 0].map { ScalarValue.int64($0) })
        #expect(out.column(named: "fare_sum_1h")?.values == [.float64(20), .float64(30), .float64(10), .null, .null])
        #expect(out.column(named: "count_1d")?.values == [3, 4, 1, 0, 0].map { ScalarValue.int64($0) })
    }
}
