import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraServer
import TesseraTesting
import Testing

/// Replays requests recorded against real `feast serve` 0.67 (`Golden/`, made by
/// `benchmarks/online_feast_golden.py` on the same rows) and compares the answers.
@Suite struct FeastCompatibilityTests {
    @Test(arguments: ["single_feature"])
    func responsesMatchFeastByteForByte(_ name: String) async throws {
        let fixture = try ServerFixture(label: "golden")
        defer { fixture.directory.remove() }
        let request = try ServerFixture.golden("\(name).request.json")
        let expected = try ServerFixture.golden("\(name).response.json")
        let (status, body) = try await fixture.live { client in try await client.post("/get-online-features", request) }
        #expect(status == 200)
        #expect(body == expected)
    }

    @Test func featureServicesMatchFeastUpToFeastsUnorderedFeatureSet() async throws {
        let fixture = try ServerFixture(label: "golden-service")
        defer { fixture.directory.remove() }
        let request = try ServerFixture.golden("feature_service.request.json")
        let expected = try parsed(ServerFixture.golden("feature_service.response.json"))
        let (status, body) = try await fixture.live { client in try await client.post("/get-online-features", request) }
        #expect(status == 200)
        let ours = try parsed(body)
        #expect(vectorsByName(ours) == vectorsByName(expected))
        #expect(vectorsByName(ours).count == 3)
        // Tessera keeps the service's order: conv_rate, acc_rate.
        #expect(
            ours["metadata"]?["feature_names"] == .array(["driver_id", "conv_rate", "acc_rate"].map(JSONValue.string)))
    }

    @Test func fullFeatureNamesMatchFeastUpToFeastsUnorderedFeatureSet() async throws {
        // Feast groups a view's features through a Python set, so their order is arbitrary;
        // join keys come first in both, and every named vector must be identical.
        let fixture = try ServerFixture(label: "golden-full")
        defer { fixture.directory.remove() }
        let request = try ServerFixture.golden("all_features_full_names.request.json")
        let expected = try parsed(ServerFixture.golden("all_features_full_names.response.json"))
        let (status, body) = try await fixture.live { client in try await client.post("/get-online-features", request) }
        #expect(status == 200)
        let ours = try parsed(body)
        #expect(vectorsByName(ours) == vectorsByName(expected))
        // Tessera keeps request order within a view.
        #expect(
            ours["metadata"]?["feature_names"]
                == .array(
                    [
                        "driver_id", "driver_hourly_stats__conv_rate", "driver_hourly_stats__acc_rate",
                        "driver_hourly_stats__avg_daily_trips",
                    ].map(JSONValue.string)))
    }

    @Test func pushThenGetMatchesFeast() async throws {
        let fixture = try ServerFixture(label: "golden-push")
        defer { fixture.directory.remove() }
        let push = try ServerFixture.golden("push.request.json")
        let pushAnswer = try parsed(ServerFixture.golden("push.response.json"))
        let request = try ServerFixture.golden("after_push.request.json")
        let expected = try ServerFixture.golden("after_push.response.json")
        let (pushStatus, pushBody, status, body) = try await fixture.live { client in
            let (pushStatus, pushBody) = try await client.post("/push", push)
            let (status, body) = try await client.post("/get-online-features", request)
            return (pushStatus, pushBody, status, body)
        }
        #expect(pushAnswer == .object([("status", .int(Int64(pushStatus))), ("body", .string(pushBody))]))
        #expect(status == 200)
        #expect(body == expected)
    }

    @Test func valuesAndTimestampsUseFeastsJSONRules() throws {
        let response = OnlineFeaturesResponse(
            featureNames: ["id", "f"],
            results: [
                .init(values: [.string("k\"\n\u{1}é")], statuses: [.present], eventTimestamps: [nil]),
                .init(
                    values: [
                        .list([.float32(0.1), .null, .float64(1e-5), .float64(100), .float64(.nan)])
                    ], statuses: [.outsideMaxAge],
                    eventTimestamps: [Timestamp(parsing: "2026-01-09T10:00:00.123Z")]),
                .init(
                    values: [.bytes([0, 1, 255])], statuses: [.nullValue],
                    eventTimestamps: [Timestamp(parsing: "1969-12-31T23:59:59.000001Z")]),
                .init(
                    values: [.timestamp(Timestamp(microseconds: 1_767_225_600_900_000))], statuses: [.notFound],
                    eventTimestamps: [Timestamp(parsing: "2026-01-09T10:00:00.5Z")]),
            ])
        let text = String(decoding: FeastJSON.write(response), as: UTF8.self)
        #expect(
            text
                == #"{"results":[{"values":["k\"\n\u0001é"],"statuses":["PRESENT"],"event_timestamps":["1970-01-01T00:00:00Z"]},"#
                + #"{"values":[[0.10000000149011612,null,1e-05,100.0,null]],"statuses":["OUTSIDE_MAX_AGE"],"event_timestamps":["2026-01-09T10:00:00.123Z"]},"#
                + #"{"values":["AAH/"],"statuses":["NULL_VALUE"],"event_timestamps":["1969-12-31T23:59:59.000001Z"]},"#
                + #"{"values":[1767225600],"statuses":["NOT_FOUND"],"event_timestamps":["2026-01-09T10:00:00.500Z"]}],"#
                + #""metadata":{"feature_names":["id","f"]}}"#)
    }
}
