import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOnline
import TesseraServer
import TesseraTesting
import Testing

@Suite struct FeatureServerTests {
    /// Sends each request and returns (status, parsed body).
    static func answers(_ fixture: ServerFixture, _ requests: [(String, String)]) async throws -> [(Int, JSONValue)] {
        try await fixture.live { client in
            var out: [(Int, JSONValue)] = []
            for (uri, body) in requests {
                let (status, text) = try await client.post(uri, body)
                out.append((status, text.isEmpty ? .null : try parsed(text)))
            }
            return out
        }
    }

    @Test func badRequestsAnswer4xxNamingTheFieldAndReason() async throws {
        let fixture = try ServerFixture(label: "errors")
        defer { fixture.directory.remove() }
        let cases: [(body: String, status: Int, field: String, contains: String)] = [
            (
                #"{"features":["driver_hourly_stats:conv_rat"],"entities":{"driver_id":[1]}}"#, 404, "features[0]",
                "did you mean 'conv_rate'?"
            ),
            (
                #"{"features":["driver_hourly_stat:conv_rate"],"entities":{"driver_id":[1]}}"#, 404, "features[0]",
                "did you mean 'driver_hourly_stats'?"
            ),
            (
                #"{"feature_service":"driver_qualty","entities":{"driver_id":[1]}}"#, 404, "feature_service",
                "driver_quality"
            ),
            (
                #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":["abc"]}}"#, 400,
                "entities.driver_id[0]", "int64"
            ),
            (
                #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driverid":[1]}}"#, 400, "entities",
                "missing entity column 'driver_id'"
            ),
            (
                #"{"features":["driver_customer:trips_together"],"entities":{"driver_id":[1,2],"customer_id":["a"]}}"#,
                400, "entities.customer_id", "has 1 values"
            ),
            (
                #"{"features":["driver_hourly_stats:avg_daily_trips","customer_profile:avg_daily_trips"],"entities":{"driver_id":[1],"customer_id":["a"]}}"#,
                400, "features[1]", "full_feature_names"
            ),
            (#"{"features":"driver_hourly_stats:conv_rate","entities":{"driver_id":[1]}}"#, 400, "features", "array"),
            (#"{"features":["driver_hourly_stats:conv_rate"]}"#, 400, "entities", "missing"),
            (
                #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[{"a":1}]}}"#, 400,
                "entities.driver_id[0]", "objects"
            ),
            (
                #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[1,]}}"#, 400, "body",
                "line 1, column 74"
            ),
            (
                "{\"features\": [\n  \"driver_hourly_stats:conv_rate\"\n  \"x\"]}", 400, "body",
                "line 3, column 3: expected ',' or ']'"
            ),
            (#"[1, 2]"#, 400, "body", "expected a JSON object"),
            (String(repeating: "[", count: 100_000), 400, "body", "nested deeper than 64"),
            ("", 400, "body", "unexpected end of input"),
        ]
        let answers = try await Self.answers(fixture, cases.map { ("/get-online-features", $0.body) })
        for (expected, (status, body)) in zip(cases, answers) {
            #expect(status == expected.status, "\(expected.body.prefix(80))")
            #expect(body["field"] == .string(expected.field), "\(expected.body.prefix(80))")
            let text: String = {
                var writer = JSONWriter()
                writer.value(body)
                return String(decoding: writer.bytes, as: UTF8.self)
            }()
            #expect(text.contains(expected.contains), "\(text)")
        }
    }

    @Test func bodiesOverTheLimitAre413AndTheServerKeepsServing() async throws {
        let fixture = try ServerFixture(label: "huge", maxBodyBytes: 64 * 1024)
        defer { fixture.directory.remove() }
        let ids = (0..<20_000).map(String.init).joined(separator: ",")
        let huge = #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":["# + ids + "]}}"
        let small = #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[1001]}}"#
        let answers = try await Self.answers(
            fixture, [("/get-online-features", huge), ("/push", huge), ("/get-online-features", small)])
        #expect(answers[0].0 == 413)
        #expect(answers[0].1["error"] == .string("payload_too_large"))
        #expect(answers[1].0 == 413)
        #expect(answers[2].0 == 200)
    }

    /// Offline pushes land in the repository's push log, typed, and not online; a bad push
    /// writes nothing anywhere.
    @Test func offlinePushesReachThePushLogTyped() async throws {
        let fixture = try ServerFixture(label: "offline-push")
        defer { fixture.directory.remove() }
        let push =
            #"{"push_source_name":"driver_push","to":"offline","df":{"driver_id":[7,8],"event_timestamp":["2026-01-09T23:00:00Z","2026-01-09T23:00:01Z"],"conv_rate":[0.5,null],"acc_rate":[1,2],"avg_daily_trips":[3,4]}}"#
        let bad =
            #"{"push_source_name":"driver_push","to":"offline","df":{"driver_id":[7],"event_timestamp":["2026-01-09T23:00:00Z"],"conv_rate":["high"],"acc_rate":[1],"avg_daily_trips":[3]}}"#
        let get = #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[7]}}"#
        let answers = try await Self.answers(
            fixture, [("/push", push), ("/push", bad), ("/push", push), ("/get-online-features", get)])
        #expect(answers[0].0 == 200)
        #expect(answers[1].0 == 400)
        #expect(answers[1].1["field"] == .string("df.conv_rate[0]"))
        #expect(answers[2].0 == 200)
        let files = ServerFixture.pushLogFiles(fixture.directory.path, source: "driver_push")
        #expect(files.count == 1, "the same push sent twice is logged once: \(files)")
        let logged = try #require(try files.first.map { try ParquetFile(path: $0).read() })
        #expect(logged.column(named: "conv_rate")?.values == [.float32(0.5), .null])
        #expect(logged.column(named: "event_timestamp")?.type == .timestamp)
        guard case .array(let results)? = answers[3].1["results"] else { return }
        #expect(results[1]["statuses"] == .array([.string("NOT_FOUND")]), "an offline push does not write online")
    }

    @Test func healthMetricsAndRegistryEndpoints() async throws {
        let fixture = try ServerFixture(label: "endpoints")
        defer { fixture.directory.remove() }
        let get = #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[1001,1002]}}"#
        let texts = try await fixture.live { client in
            _ = try await client.post("/get-online-features", get)
            _ = try await client.post("/get-online-features", "{")
            var out: [(Int, String)] = []
            for uri in [
                "/health", "/metrics", "/registry/feature-views", "/registry/entities/driver",
                "/registry/feature-services/driver_qualty", "/registry/views", "/registry/sources/driver_push",
            ] {
                out.append(try await client.get(uri))
            }
            return out
        }
        #expect(texts[0].0 == 200)
        #expect(
            try parsed(texts[0].1)
                == .object([("status", .string("ok")), ("project", .string("fixture")), ("registry_version", .int(1))]))
        #expect(texts[1].0 == 200)
        #expect(texts[1].1.contains(#"tessera_http_requests_total{endpoint="/get-online-features",status="200"} 1"#))
        #expect(texts[1].1.contains(#"tessera_http_requests_total{endpoint="/get-online-features",status="400"} 1"#))
        #expect(
            texts[1].1.contains(#"tessera_http_errors_total{endpoint="/get-online-features",error="malformed_json"} 1"#)
        )
        #expect(texts[1].1.contains("tessera_http_request_duration_seconds_bucket"))
        #expect(texts[1].1.contains("tessera_online_store_keys_read_total 4"))
        let views = try parsed(texts[2].1)
        #expect(views["registry_version"] == .int(1))
        guard case .array(let items)? = views["items"] else {
            Issue.record("no items")
            return
        }
        #expect(items.count == 3)
        #expect(try parsed(texts[3].1)["join_keys"] != nil || texts[3].1.contains("driver_id"))
        #expect(texts[4].0 == 404)
        #expect(try parsed(texts[4].1)["hint"] == .string("did you mean 'driver_quality'?"))
        #expect(texts[5].0 == 404)
        #expect(texts[6].0 == 200)
        #expect(texts[6].1.contains("driver_stats"))
    }

    @Test func aNewApplyIsServedWithoutARestart() async throws {
        let fixture = try ServerFixture(label: "apply", registryCheckInterval: .milliseconds(50))
        defer { fixture.directory.remove() }
        let get = #"{"features":["driver_hourly_stats:rating"],"entities":{"driver_id":[1001]}}"#
        let (before, after) = try await fixture.live { client in
            let before = try await client.post("/get-online-features", get)
            var next = OnlineFixture.definitions
            next.featureViews[0].features.append(Feature("rating", .float64))
            try OnlineFixture.apply(next, root: fixture.directory.path)
            try await Task.sleep(for: .milliseconds(120))
            let after = try await client.post("/get-online-features", get)
            return (before, after)
        }
        #expect(before.0 == 404)
        #expect(after.0 == 200)
        #expect(try parsed(after.1)["metadata"]?["feature_names"] == .array([.string("driver_id"), .string("rating")]))
    }
}
