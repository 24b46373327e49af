import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraPostgres
import TesseraSQL
import TesseraTesting
import Testing

@testable import TesseraOfflinePostgres

/// Window aggregations computed by PostgreSQL (exact partial states merged by Tessera)
/// against the native engine reading the same tables: every value to the bit, including
/// sums over values no float addition gets right, signed zeros, NaN and int64 overflow.
@Suite(.serialized) struct PostgresAggregationTests {
    @Test func randomCasesEqualTheNativeEngineToTheBit() async throws {
        try await PostgresOfflineEngineTests.withEngines("pg-engine-aggs") { setup in
            let (server, url, native, engine) = (setup.server, setup.url, setup.native, setup.engine)
            let cases = try (0..<30).map { try AggregationCase(seed: UInt64($0) &* 6007 &+ 11) }
            try server.psql(cases.enumerated().map { $1.sql(table: "a\($0)") }.joined())
            for (i, c) in cases.enumerated() {
                let definitions = c.definitions(.postgres(PostgresRelation(url: url, table: "a\(i)")))
                for views in [["driver_aggs", "driver_latest"], ["driver_aggs", "driver_sketches"]] {
                    let request = TrainingSetRequest(
                        spine: .entities(c.entities, name: "entities"), selection: .features(views),
                        fullFeatureNames: true, threads: 2)
                    let ours = try engine.trainingSet(request, definitions: definitions) { _ in }
                    let theirs = try native.trainingSet(request, definitions: definitions) { _ in }
                    let differences = AggregationCase.differences(ours.batch, theirs.batch)
                    #expect(differences.isEmpty, "case \(i) \(views): \(differences.prefix(5))")
                    #expect(ours.rowsWithAllFeatures == theirs.rowsWithAllFeatures, "case \(i)")
                    #expect(ours.views.map(\.matched) == theirs.views.map(\.matched), "case \(i)")
                    let plan = try engine.explain(request, definitions: definitions)
                    let pushed = c.filter != AggregationCase.untranslatedFilter
                    #expect(AggregationCase.runsNatively("driver_aggs", plan) == !pushed, "case \(i): \(plan)")
                    if views.contains("driver_latest") {
                        #expect(AggregationCase.runsNatively("driver_latest", plan) == !pushed, "case \(i): \(plan)")
                    }
                }
            }
        }
    }

    @Test func explainShowsTheAggregationQueryAndWhatStaysNative() async throws {
        try await PostgresOfflineEngineTests.withEngines("pg-engine-aggs-explain") { setup in
            let (server, url, engine) = (setup.server, setup.url, setup.engine)
            let c = try AggregationCase(seed: 3)
            try server.psql(c.sql(table: "stats"))
            let definitions = c.definitions(.postgres(PostgresRelation(url: url, table: "stats")))
            let request = TrainingSetRequest(
                spine: .entities(c.entities, name: "entities"),
                selection: .features(["driver_aggs", "driver_sketches"]))
            let plan = try engine.explain(request, definitions: definitions)
            #expect(plan.contains("driver_aggs: window aggregations rows_count_2s"), "\(plan)")
            #expect(plan.contains("in PostgreSQL (exact partial sums"), "\(plan)")
            #expect(plan.contains("float8send") && plan.contains("GROUP BY e.__row, s.__b0"), "\(plan)")
            #expect(plan.contains(#"COLLATE "C""#), "\(plan)")
            // A view's functions the SQL does not express stay native; the others are still pushed.
            #expect(plan.contains("driver_sketches: window aggregations value_sum_3s in PostgreSQL"), "\(plan)")
            #expect(
                plan.contains(
                    "driver_sketches: window aggregations value_last over source 'stats' by the native engine (last is not expressed in SQL yet)"
                ), "\(plan)")
            // `aggregations: native` keeps them all in the native engine, with the same values.
            var nativeAggregations = engine
            nativeAggregations.aggregationsInSQL = false
            let kept = try nativeAggregations.explain(request, definitions: definitions)
            #expect(
                kept.contains("by the native engine (offline_store sets aggregations: native)")
                    && !kept.contains("float8send"), "\(kept)")
            let ours = try engine.trainingSet(request, definitions: definitions) { _ in }
            let theirs = try nativeAggregations.trainingSet(request, definitions: definitions) { _ in }
            #expect(AggregationCase.differences(ours.batch, theirs.batch).isEmpty)
        }
    }

    @Test func theAggregationQueryHasTheDocumentedShape() throws {
        let features = [
            Feature(
                "trips_1h", .int64, aggregation: Aggregation(column: nil, function: .count, window: .length(.hours(1)))),
            Feature(
                "fare_sum_1d", .float64,
                aggregation: Aggregation(column: "fare", inputType: .float64, function: .sum, window: .length(.days(1)))
            ),
        ]
        let partials = try AggregationPartials(features: features)
        #expect(partials.windows == [3_600_000_000, 86_400_000_000])
        #expect(partials.banded == [0])
        let scan = SourceScanSQL(
            source: #""trips""#, keys: [#""driver_id""#], eventColumn: "ts", createdColumn: nil,
            outputs: [#""fare""#], rowOrder: [], lower: 0, upper: 1_000_000)
        let sql = WindowAggregationSQL(entities: "tessera_entities_0", scan: scan, partials: partials).sql(.postgres)
        #expect(sql.hasPrefix("SELECT e.__row, s.__b0, COUNT(CASE WHEN s.__ts >= e.__lo0 THEN 1 END) AS p0"), "\(sql)")
        #expect(sql.contains("CAST(SUM(CASE WHEN s.__ts >= e.__lo1 THEN s.__m0 END) AS text) AS p1"), "\(sql)")
        #expect(sql.contains("ON s.__k0 = e.__k0 AND s.__ts < e.__ts AND s.__ts >= e.__lo1"), "\(sql)")
        #expect(sql.hasSuffix("GROUP BY e.__row, s.__b0"), "\(sql)")
        let spark = WindowAggregationSQL(entities: "e", scan: scan, partials: partials).sql(.spark)
        #expect(spark.contains("doubleToRawLongBits") && spark.contains("DECIMAL(20,0)"), "\(spark)")
        #expect(
            throws: NativeReason.self,
            performing: {
                try AggregationPartials(features: [
                    Feature(
                        "p90", .float64,
                        aggregation: Aggregation(
                            column: "fare", inputType: .float64, function: .approxPercentile(0.9), window: .lifetime))
                ])
            })
    }
}
