import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOnline
import TesseraRegistry
import TesseraServer
import TesseraTesting
import Testing

/// Feast's write, materialize and push endpoints, in the shapes Feast's SDK sends
/// (`feast/infra/online_stores/remote.py`, `feast/feature_server.py` 0.67).
@Suite struct FeastEndpointTests {
    /// Writes the fixture's `data/driver_stats.parquet`: drivers 1 and 2, two rows each.
    static func writeDriverStats(_ fixture: ServerFixture) throws {
        let t = { (text: String) in Timestamp(parsing: text)?.microseconds ?? 0 }
        let batch = try RecordBatch([
            "driver_id": .int64([1, 1, 2, 2]),
            "event_timestamp": .timestamp([
                t("2026-01-09T01:00:00Z"), t("2026-01-09T05:00:00Z"), t("2026-01-09T02:00:00Z"),
                t("2026-01-12T02:00:00Z"),
            ]),
            "created": .timestamp([
                t("2026-01-09T01:00:01Z"), t("2026-01-09T05:00:01Z"), t("2026-01-09T02:00:01Z"),
                t("2026-01-12T02:00:01Z"),
            ]),
            "conv_rate": .float32([0.1, 0.2, 0.3, 0.4]), "acc_rate": .float32([0.5, 0.6, 0.7, 0.8]),
            "avg_daily_trips": .int32([1, 2, 3, 4]),
        ])
        try FileManager.default.createDirectory(
            atPath: fixture.directory.file("data"), withIntermediateDirectories: true)
        let writer = try ParquetWriter(path: fixture.directory.file("data/driver_stats.parquet"), schema: batch.schema)
        try writer.write(batch)
        try writer.close()
    }

    static let read = #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[1,2,3]}}"#

    static func values(_ answer: (Int, JSONValue)) -> JSONValue? {
        guard case .array(let results)? = answer.1["results"], results.count > 1 else { return nil }
        return results[1]["values"]
    }

    /// The body Feast's `write_to_online_store` sends: `event_timestamp` and `created` as naive
    /// ISO strings, whatever the source calls its columns; the answer is 200 `null`.
    @Test func writeToOnlineStoreTakesFeastsBody() async throws {
        let fixture = try ServerFixture(label: "write")
        defer { fixture.directory.remove() }
        let write =
            #"{"feature_view_name":"driver_hourly_stats","df":{"driver_id":[1,2],"conv_rate":[0.5,0.25],"acc_rate":[0.75,0.125],"avg_daily_trips":[7,8],"event_timestamp":["2026-01-09T09:11:00","2026-01-09T09:11:00"],"created":["2026-01-09T09:16:00",null]},"allow_registry_cache":false}"#
        let unknown = #"{"feature_view_name":"driver_hourly_stat","df":{"driver_id":[1]}}"#
        let missing =
            #"{"feature_view_name":"driver_hourly_stats","df":{"driver_id":[1],"event_timestamp":["2026-01-09T09:11:00"]}}"#
        let texts = try await fixture.live { client in
            [
                try await client.post("/write-to-online-store", write),
                try await client.post("/write-to-online-store", unknown),
                try await client.post("/write-to-online-store", missing),
                try await client.post("/get-online-features", FeastEndpointTests.read),
            ]
        }
        #expect(texts[0].0 == 200)
        #expect(texts[0].1 == "null")
        #expect(texts[1].0 == 404)
        #expect(try parsed(texts[1].1)["hint"] == .string("did you mean 'driver_hourly_stats'?"))
        #expect(texts[2].0 == 400)
        #expect(try parsed(texts[2].1)["message"]?.text.contains("missing column 'conv_rate'") == true)
        #expect(Self.values((texts[3].0, try parsed(texts[3].1))) == .array([.int(7), .int(8), .null]))
    }

    /// `/materialize` and `/materialize-incremental` load the sources as the CLI does and
    /// answer 200 `null`; bad requests get 4xx naming the field.
    @Test func materializeEndpointsLoadTheOnlineStore() async throws {
        let fixture = try ServerFixture(label: "materialize")
        defer { fixture.directory.remove() }
        try Self.writeDriverStats(fixture)
        let range =
            #"{"start_ts":"2026-01-08T00:00:00+00:00","end_ts":"2026-01-10T00:00:00+00:00","feature_views":["driver_hourly_stats"],"disable_event_timestamp":false,"full_feature_names":false}"#
        let incremental =
            #"{"end_ts":"2026-01-13T00:00:00Z","feature_views":["driver_hourly_stats"],"full_feature_names":false}"#
        let answers = try await FeatureServerTests.answers(
            fixture,
            [
                ("/materialize", #"{"start_ts":"2026-01-08","end_ts":"yesterday"}"#),
                ("/materialize", #"{"start_ts":"2026-01-09","end_ts":"2026-01-08"}"#),
                ("/materialize", #"{"start_ts":"2026-01-08","end_ts":"2026-01-09","feature_views":["nope"]}"#),
                ("/materialize-incremental", #"{"feature_views":["driver_hourly_stats"]}"#),
                ("/materialize", range), ("/get-online-features", Self.read),
                ("/materialize-incremental", incremental), ("/get-online-features", Self.read),
            ])
        #expect(answers[0].0 == 400)
        #expect(answers[0].1["field"] == .string("end_ts"))
        #expect(answers[1].0 == 400)
        #expect(answers[2].0 == 404)
        #expect(answers[3].0 == 400)
        #expect(answers[3].1["field"] == .string("end_ts"))
        #expect(answers[4].0 == 200)
        #expect(answers[4].1 == .null)
        // Driver 1's 05:00 row; driver 2's only row before the end; the fixture's 1001 and 1002 untouched.
        #expect(Self.values(answers[5]) == .array([.int(2), .int(3), .null]))
        #expect(answers[6].0 == 200)
        #expect(Self.values(answers[7]) == .array([.int(2), .int(4), .null]))
        let watermark = try fixture.store.registry.with { (registry) throws(RegistryError) in try registry.watermarks()
        }["driver_hourly_stats"]
        #expect(watermark?.end == Timestamp(parsing: "2026-01-13T00:00:00Z"))
    }

    /// Feast's `/push` shape, including members Tessera ignores (`allow_registry_cache`,
    /// `transform_on_write`); `to` must be one of Feast's three modes.
    @Test func pushTakesFeastsMembers() async throws {
        let fixture = try ServerFixture(label: "push-shape")
        defer { fixture.directory.remove() }
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[3],"event_timestamp":["2026-01-09T12:00:00+00:00"],"created":["2026-01-09T12:00:01+00:00"],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[33]},"allow_registry_cache":true,"to":"online","transform_on_write":true}"#
        let sideways = #"{"push_source_name":"driver_push","df":{"driver_id":[3]},"to":"sideways"}"#
        let texts = try await fixture.live { client in
            [
                try await client.post("/push", push), try await client.post("/push", sideways),
                try await client.post("/get-online-features", FeastEndpointTests.read),
            ]
        }
        #expect(texts[0].0 == 200)
        #expect(texts[0].1.isEmpty)
        #expect(texts[1].0 == 400)
        #expect(Self.values((texts[2].0, try parsed(texts[2].1))) == .array([.null, .null, .int(33)]))
    }

    @Test func openAPIIsServedAndMatchesTheDocs() async throws {
        let fixture = try ServerFixture(label: "openapi")
        defer { fixture.directory.remove() }
        let (status, text) = try await fixture.live { client in try await client.get("/openapi.json") }
        #expect(status == 200)
        let served = try parsed(text)
        #expect(served["openapi"] == .string("3.1.0"))
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/openapi.json")
        let committed = try parsed(try String(contentsOf: docs, encoding: .utf8))
        #expect(served == committed, "docs/openapi.json changed: run scripts/generate-openapi")
        guard case .object(let paths)? = served["paths"] else {
            Issue.record("no paths")
            return
        }
        for path in [
            "/get-online-features", "/push", "/write-to-online-store", "/materialize", "/materialize-incremental",
            "/health", "/metrics", "/openapi.json", "/registry/{kind}", "/registry/{kind}/{name}",
        ] {
            #expect(paths.contains { $0.key == path }, "\(path) is not described")
        }
    }
}
