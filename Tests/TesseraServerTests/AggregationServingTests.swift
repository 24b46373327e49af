import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraServer
import TesseraTesting
import Testing

/// Window aggregations over HTTP: `/push` updates them, `/get-online-features` serves them
/// beside plain features of the same push source, a retried push counts once.
@Suite struct AggregationServingTests {
    static var definitions: Definitions {
        var definitions = OnlineFixture.definitions
        definitions.featureViews.append(
            FeatureView(
                name: "driver_activity", entities: ["driver"], source: "driver_push",
                features: [
                    Feature(
                        "count_1h", .int64,
                        aggregation: Aggregation(column: nil, function: .count, window: .length(.hours(1)))),
                    Feature(
                        "trips_sum_1d", .int64,
                        aggregation: Aggregation(
                            column: "avg_daily_trips", inputType: .int32, function: .sum, window: .length(.days(1)))),
                    Feature(
                        "conv_max_1d", .float32,
                        aggregation: Aggregation(
                            column: "conv_rate", inputType: .float32, function: .max, window: .length(.days(1)))),
                ]))
        return definitions
    }

    @Test func pushesUpdateServedAggregations() async throws {
        let fixture = try ServerFixture(label: "aggregations", definitions: Self.definitions)
        defer { fixture.directory.remove() }
        // The server's clock is 2026-01-10T00:00Z: one row 30 minutes before, one 2 hours before,
        // one 2 days before (outside every window), one in the future (not yet counted).
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[1001,1001,1001,1001,1002],"event_timestamp":["2026-01-09T23:30:00Z","2026-01-09T22:00:00Z","2026-01-08T00:00:00Z","2026-01-10T00:00:01Z","2026-01-09T23:59:59Z"],"conv_rate":[0.5,0.75,0.9,1,0.25],"acc_rate":[1,1,1,1,1],"avg_daily_trips":[10,20,400,800,7]}}"#
        let get =
            #"{"features":["driver_activity:count_1h","driver_activity:trips_sum_1d","driver_hourly_stats:avg_daily_trips","driver_activity:conv_max_1d"],"entities":{"driver_id":[1001,1002,1003]}}"#
        let answers = try await FeatureServerTests.answers(
            fixture, [("/push", push), ("/get-online-features", get), ("/push", push), ("/get-online-features", get)])
        #expect(answers.map(\.0) == [200, 200, 200, 200])
        for answer in [answers[1], answers[3]] {
            guard case .array(let results)? = answer.1["results"] else {
                Issue.record("no results: \(answer.1)")
                continue
            }
            #expect(results.count == 5)
            #expect(results[1]["values"] == .array([.int(1), .int(1), .int(0)]), "count_1h")
            #expect(results[1]["statuses"] == .array([.string("PRESENT"), .string("PRESENT"), .string("PRESENT")]))
            #expect(results[2]["values"] == .array([.int(30), .int(7), .null]), "trips_sum_1d, pushed twice")
            #expect(results[3]["values"] == .array([.double(0.75), .double(0.25), .null]), "conv_max_1d")
            // Features come grouped by view, as Feast groups them; the plain view fed by the same
            // push keeps the newest row per driver (the future one).
            #expect(results[4]["values"] == .array([.int(800), .int(7), .null]), "avg_daily_trips")
        }
    }

    @Test func aggregationsOfAnOfflineViewAreRefusedClearly() async throws {
        var definitions = Self.definitions
        definitions.featureViews[definitions.featureViews.count - 1].online = false
        let fixture = try ServerFixture(label: "aggregations-offline", definitions: definitions)
        defer { fixture.directory.remove() }
        let get = #"{"features":["driver_activity:count_1h"],"entities":{"driver_id":[1001]}}"#
        let answers = try await FeatureServerTests.answers(fixture, [("/get-online-features", get)])
        #expect(answers[0].0 == 400)
        #expect(answers[0].1["field"] == .string("features[0]"))
        guard case .string(let message)? = answers[0].1["message"] else { return }
        #expect(message.contains("online: false"), "\(message)")
    }
}
