import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `tessera serve` as a user runs it: a push to the offline store reaches training sets.
@Suite(.serialized) struct ServeAndPushTests {
    /// `tessera init`'s repository, applied and served, in a temporary folder.
    struct Served {
        let dir: TemporaryDirectory
        let repo: String
        let server: Process
        let port: Int

        func stop() {
            server.terminate()
            server.waitUntilExit()
            dir.remove()
        }
    }

    static func applyAndServe(_ label: String) throws -> Served {
        let dir = try TemporaryDirectory(label)
        let repo = try CLIWorkflowTests.initRepo(dir)
        #expect(try CommandRunner.run(["apply", "--repo", repo]).status == 0)
        let (server, port) = try ServeAndPushTests.serve(repo)
        return Served(dir: dir, repo: repo, server: server, port: port)
    }

    /// Starts `tessera serve` on a free port; returns the process and the port.
    static func serve(_ repo: String) throws -> (Process, Int) {
        let (process, out, _) = try CommandRunner.start(["serve", "--repo", repo, "--port", "0"])
        var seen = ""
        for _ in 0..<200 {
            seen += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
            if let range = seen.range(of: "http://127.0.0.1:") {
                let digits = seen[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return (process, port) }
            }
        }
        process.terminate()
        throw CocoaError(.fileReadUnknown)
    }

    static func post(_ port: Int, _ path: String, _ body: String) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func offlinePushReachesTrainingSetsAndOnlinePushIsServed() async throws {
        let serving = try ServeAndPushTests.applyAndServe("push")
        defer { serving.stop() }
        let (dir, repo, port) = (serving.dir, serving.repo, serving.port)
        // Driver 5 gets a value at 2026-03-01 (after all generated data), online and offline.
        let push = """
            {"push_source_name": "driver_stats_push", "to": "online_and_offline",
             "df": {"driver_id": [5], "event_timestamp": ["2026-03-01T00:00:00Z"], "created": ["2026-03-01T00:00:01Z"],
                    "conv_rate": [0.125], "acc_rate": [0.5], "avg_daily_trips": [77]}}
            """
        let (status, body) = try await ServeAndPushTests.post(port, "/push", push)
        #expect(status == 200, "\(body)")
        let (_, served) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": ["driver_hourly_stats:avg_daily_trips"], "entities": {"driver_id": [5]}}"#)
        // Stored (its event time is served) but older than the 2-day ttl today: not served as fresh.
        #expect(
            served.contains(#""statuses":["OUTSIDE_MAX_AGE"],"event_timestamps":["2026-03-01T00:00:00Z"]"#), "\(served)"
        )
        let now = Timestamp.now.iso8601
        let fresh = """
            {"push_source_name": "driver_stats_push", "to": "online",
             "df": {"driver_id": [5], "event_timestamp": ["\(now)"], "conv_rate": [0.75], "acc_rate": [0.5],
                    "avg_daily_trips": [88]}}
            """
        #expect(try await ServeAndPushTests.post(port, "/push", fresh).0 == 200)
        let (_, again) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": ["driver_hourly_stats:avg_daily_trips"], "entities": {"driver_id": [5]}}"#)
        #expect(again.contains(#""values":[88],"statuses":["PRESENT"]"#), "\(again)")

        // A training set at 2026-03-01T12:00 sees the pushed row; one at 2026-02-28 does not.
        let entities = dir.file("entities.csv")
        try "driver_id,event_timestamp\n5,2026-03-01T12:00:00Z\n5,2026-02-28T00:00:00Z\n"
            .write(toFile: entities, atomically: true, encoding: .utf8)
        let out = dir.file("out.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--features", "driver_hourly_stats",
            "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let batch = try ParquetFile(path: out).read()
        #expect(batch.column(named: "avg_daily_trips")?.values == [.int32(77), .null])
        #expect(batch.column(named: "conv_rate")?.values == [.float32(0.125), .null])

        // A push source that feeds no view is refused with a reason.
        let (badStatus, badBody) = try await ServeAndPushTests.post(
            port, "/push", #"{"push_source_name": "driver_stats", "df": {"driver_id": [1]}}"#)
        #expect(badStatus == 400 || badStatus == 422, "\(badBody)")
    }

    /// Derived features and filters online = offline: pushed trips go through the view's
    /// filter and expressions before they are served, and the training set computes the same
    /// values from the same rows (read back from the push log).
    @Test func derivedFeaturesOfPushedRowsAreServedAsTrainingSetsComputeThem() async throws {
        let serving = try ServeAndPushTests.applyAndServe("push-derived")
        defer { serving.stop() }
        let (dir, repo, port) = (serving.dir, serving.repo, serving.port)
        // Driver 7: a completed trip, then a cancelled one and one of no distance (both filtered out).
        let now = Timestamp.now.microseconds / 1_000_000 * 1_000_000
        let times = [now - 1_800_000_000, now - 600_000_000, now - 300_000_000].map {
            Timestamp(microseconds: $0).iso8601
        }
        let push = """
            {"push_source_name": "trips_push", "to": "online_and_offline",
             "df": {"trip_id": [1, 2, 3], "driver_id": [7, 7, 7], "rider_id": [1, 2, 3],
                    "event_timestamp": ["\(times[0])", "\(times[1])", "\(times[2])"],
                    "fare": [31.7, 12.0, 9.0], "distance_km": [12.9, 3.0, 0.0],
                    "status": ["completed", "cancelled", "completed"]}}
            """
        let (status, body) = try await ServeAndPushTests.post(port, "/push", push)
        #expect(status == 200, "\(body)")
        let features = ["fare", "fare_per_km", "long_trip", "pickup_hour"]
        let (_, served) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": [\#(features.map { "\"driver_last_trip:\($0)\"" }.joined(separator: ", "))], "entities": {"driver_id": [7]}}"#
        )
        let json = try JSONSerialization.jsonObject(with: Data(served.utf8)) as? [String: Any]
        let results = json?["results"] as? [[String: Any]] ?? []
        #expect(results.count == 5, "\(served)")
        func online(_ i: Int) -> Any? {
            (results.indices.contains(i + 1) ? results[i + 1]["values"] as? [Any] : nil)?.first
        }
        let hour = Int((now - 1_800_000_000) / 1_000_000 % 86_400 / 3_600)
        #expect(online(0) as? Double == 31.7, "\(served)")
        // distance_km is float32 in the trips files: the expression reads it widened, exactly.
        let perKm = 31.7 / Double(Float(12.9))
        #expect(served.contains("{\"values\":[\(perKm)]"), "\(served)")
        #expect(online(2) as? Bool == false, "\(served)")
        #expect(online(3) as? Int == hour, "\(served)")

        let entities = dir.file("entities.csv")
        try "driver_id,event_timestamp\n7,\(Timestamp(microseconds: now).iso8601)\n".write(
            toFile: entities, atomically: true, encoding: .utf8)
        let out = dir.file("out.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--features",
            features.map { "driver_last_trip:\($0)" }.joined(separator: ","), "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let batch = try ParquetFile(path: out).read()
        #expect(batch.column(named: "fare")?.values == [.float64(31.7)])
        #expect(batch.column(named: "fare_per_km")?.values == [.float64(perKm)])
        #expect(batch.column(named: "long_trip")?.values == [.bool(false)])
        #expect(batch.column(named: "pickup_hour")?.values == [.int32(Int32(hour))])
    }

    /// On-demand features computed per request (request data in `entities` and in
    /// `request_context`) equal the training set's, computed on its joined rows, to the bit;
    /// the source features they read are not in the answer unless requested; a missing or
    /// mistyped request field is a 400 that names it.
    @Test func onDemandFeaturesServedPerRequestEqualTheTrainingSets() async throws {
        let serving = try ServeAndPushTests.applyAndServe("serve-on-demand")
        defer { serving.stop() }
        let (dir, repo, port) = (serving.dir, serving.repo, serving.port)
        let now = Timestamp.now.microseconds / 1_000_000 * 1_000_000
        let pushed = Timestamp(microseconds: now - 600_000_000).iso8601
        let push = """
            {"push_source_name": "driver_stats_push", "to": "online_and_offline",
             "df": {"driver_id": [7], "event_timestamp": ["\(pushed)"], "created": ["\(pushed)"],
                    "conv_rate": [0.37], "acc_rate": [0.5], "avg_daily_trips": [12]}}
            """
        #expect(try await ServeAndPushTests.post(port, "/push", push).0 == 200)
        // Driver 7 has the pushed row; driver 8000000 has none (its inputs are null).
        let features = ["expected_value", "fare_band", "is_premium_rider"]
        let list = features.map { "\"ride_scoring:\($0)\"" }.joined(separator: ", ")
        let fares = [23.45, 71.0]
        let customers = [99_999_999, 99_999_998]  // no profile: segment is null
        let (status, served) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": [\#(list)], "entities": {"driver_id": [7, 8000000], "customer_id": [\#(customers[0]), \#(customers[1])], "fare_estimate": [\#(fares[0]), \#(fares[1])]}}"#
        )
        #expect(status == 200, "\(served)")
        let json = try JSONSerialization.jsonObject(with: Data(served.utf8)) as? [String: Any]
        let names = (json?["metadata"] as? [String: Any])?["feature_names"] as? [String]
        // Join keys, then the on-demand features: conv_rate and segment were only inputs.
        #expect(names == ["driver_id", "customer_id"] + features, "\(served)")
        let expected = Double(Float(0.37)) * fares[0]
        #expect(served.contains("{\"values\":[\(expected),null]"), "\(served)")
        #expect(served.contains(#"{"values":["medium","long"],"statuses":["PRESENT","PRESENT"]"#), "\(served)")
        #expect(served.contains(#"{"values":[null,null],"statuses":["NULL_VALUE","NULL_VALUE"]"#), "\(served)")
        // The same request data through request_context.
        let (_, context) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": ["ride_scoring:expected_value"], "entities": {"driver_id": [7]}, "request_context": {"fare_estimate": [\#(fares[0])]}}"#
        )
        #expect(context.contains("{\"values\":[\(expected)]"), "\(context)")

        // The training set at the same time computes the same bits from its joined rows.
        let entities = dir.file("rides.csv")
        try """
        driver_id,customer_id,event_timestamp,fare_estimate
        7,\(customers[0]),\(Timestamp(microseconds: now).iso8601),\(fares[0])
        8000000,\(customers[1]),\(Timestamp(microseconds: now).iso8601),\(fares[1])

        """.write(toFile: entities, atomically: true, encoding: .utf8)
        let out = dir.file("out.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--features",
            features.map { "ride_scoring:\($0)" }.joined(separator: ","), "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let batch = try ParquetFile(path: out).read()
        #expect(batch.schema.names == ["driver_id", "customer_id", "event_timestamp", "fare_estimate"] + features)
        #expect(batch.column(named: "expected_value")?.values == [.float64(expected), .null])
        #expect(batch.column(named: "fare_band")?.values == [.string("medium"), .string("long")])
        #expect(batch.column(named: "is_premium_rider")?.values == [.null, .null])

        // Bad request data: a 400 naming the field, nothing computed.
        let (missing, missingBody) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": [\#(list)], "entities": {"driver_id": [7], "customer_id": [1]}}"#)
        #expect(missing == 400, "\(missingBody)")
        #expect(missingBody.contains("missing request field 'fare_estimate'"), "\(missingBody)")
        let (mistyped, mistypedBody) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": [\#(list)], "entities": {"driver_id": [7], "customer_id": [1], "fare_estimate": ["cheap"]}}"#
        )
        #expect(mistyped == 400, "\(mistypedBody)")
        #expect(mistypedBody.contains(#""field":"entities.fare_estimate[0]""#), "\(mistypedBody)")

        // Training sets name a missing request column too.
        try "driver_id,customer_id,event_timestamp\n7,1,\(Timestamp(microseconds: now).iso8601)\n".write(
            toFile: entities, atomically: true, encoding: .utf8)
        let failed = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--features", "ride_scoring:expected_value",
            "--output", out,
        ])
        #expect(failed.status != 0)
        #expect(
            failed.stderr.contains("has no column 'fare_estimate', a field of request source 'ride_request'"),
            "\(failed)")
    }

    /// Pushes into a filtered view whose aggregations read an expression: a cancelled trip is
    /// not counted, a trip of no distance counts but has no fare per km, and the served
    /// values equal the training set's at the same instant.
    @Test func pushesAreFilteredAndTransformedBeforeTheyAreAggregated() async throws {
        let serving = try ServeAndPushTests.applyAndServe("push-filtered-aggregations")
        defer { serving.stop() }
        let (dir, repo, port) = (serving.dir, serving.repo, serving.port)
        let driver = 7_654_321  // no trips in the files
        let now = Timestamp.now.microseconds / 1_000_000 * 1_000_000
        let times = [now - 3_600_000_000, now - 1_800_000_000, now - 600_000_000].map {
            Timestamp(microseconds: $0).iso8601
        }
        let push = """
            {"push_source_name": "trips_push", "to": "online_and_offline",
             "df": {"trip_id": [1, 2, 3], "driver_id": [\(driver), \(driver), \(driver)], "rider_id": [1, 2, 3],
                    "event_timestamp": ["\(times[0])", "\(times[1])", "\(times[2])"],
                    "fare": [30.0, 100.0, 20.0], "distance_km": [12.5, 10.0, 0.0],
                    "status": ["completed", "cancelled", "completed"]}}
            """
        let (status, body) = try await ServeAndPushTests.post(port, "/push", push)
        #expect(status == 200, "\(body)")
        let features = ["completed_count_1d", "fare_per_km_max_1d", "fare_per_km_mean_7d"]
        let (_, served) = try await ServeAndPushTests.post(
            port, "/get-online-features",
            #"{"features": [\#(features.map { "\"driver_completed_trips:\($0)\"" }.joined(separator: ", "))], "entities": {"driver_id": [\#(driver)]}}"#
        )
        let perKm = 30.0 / Double(Float(12.5))
        #expect(served.contains(#"{"values":[2],"statuses":["PRESENT"]"#), "\(served)")
        #expect(served.contains("{\"values\":[\(perKm)],"), "\(served)")

        let entities = dir.file("entities.csv")
        try "driver_id,event_timestamp\n\(driver),\(Timestamp(microseconds: now).iso8601)\n".write(
            toFile: entities, atomically: true, encoding: .utf8)
        let out = dir.file("out.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--features",
            features.map { "driver_completed_trips:\($0)" }.joined(separator: ","), "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let batch = try ParquetFile(path: out).read()
        #expect(batch.column(named: "completed_count_1d")?.values == [.int64(2)])
        #expect(batch.column(named: "fare_per_km_max_1d")?.values == [.float64(perKm)])
        #expect(batch.column(named: "fare_per_km_mean_7d")?.values == [.float64(perKm)])
    }
}
