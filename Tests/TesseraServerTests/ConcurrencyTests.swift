import Foundation
import FoundationNetworking
import TesseraApp
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraServer
import TesseraTesting
import Testing

@Suite struct ConcurrencyTests {
    /// Pushes and reads at once over many connections: no request fails, no push is lost,
    /// and every driver ends with its newest pushed value.
    @Test func concurrentPushAndGetLoseNothing() async throws {
        let fixture = try ServerFixture(label: "load")
        defer { fixture.directory.remove() }
        let drivers = 20
        let pushesPerDriver = 15
        try await fixture.live { client in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for driver in 0..<drivers {
                    group.addTask {
                        var failures = 0
                        // Pushes in increasing event time; the last must win.
                        for step in 0..<pushesPerDriver {
                            let body =
                                #"{"push_source_name":"driver_push","df":{"driver_id":[\#(5000 + driver)],"event_timestamp":["2026-01-09T12:00:\#(String(format: "%02d", step))Z"],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[\#(step)]}}"#
                            // A failed request counts, never throws: a throwing child would cancel
                            // the group, and cancelling URLSession tasks from a task group can
                            // deadlock FoundationNetworking (seen in CI).
                            let status = (try? await client.post("/push", body))?.0 ?? 0
                            if status != 200 { failures += 1 }
                        }
                        return failures
                    }
                }
                for reader in 0..<4 {
                    group.addTask {
                        var failures = 0
                        for i in 0..<40 {
                            let ids = (0..<10).map { String(5000 + ($0 + i + reader) % drivers) }.joined(separator: ",")
                            let body =
                                #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[\#(ids)]}}"#
                            let (status, text) = (try? await client.post("/get-online-features", body)) ?? (0, "")
                            if status != 200 || !text.hasPrefix(#"{"results":"#) { failures += 1 }
                        }
                        return failures
                    }
                }
                var failures = 0
                for try await count in group { failures += count }
                #expect(failures == 0)
            }
            let ids = (0..<drivers).map { String(5000 + $0) }.joined(separator: ",")
            let (status, text) = try await client.post(
                "/get-online-features",
                #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[\#(ids)]}}"#)
            #expect(status == 200)
            let values = try parsed(text)["results"].flatMap { results -> JSONValue? in
                if case .array(let items) = results { return items[1]["values"] }
                return nil
            }
            #expect(values == .array(Array(repeating: .int(Int64(pushesPerDriver - 1)), count: drivers)))
        }
    }
}

/// `tessera serve` as a user runs it: the built binary on a free port.
@Suite struct ServeCommandTests {
    @Test func serveAnswersAndFollowsApplies() async throws {
        let dir = try TemporaryDirectory("serve-cli")
        defer { dir.remove() }
        try OnlineFixture.repository(in: dir)
        let (process, out, _) = try CommandRunner.start(
            ["serve", "--repo", dir.path, "--port", "0", "--registry-check-interval", "50ms"])
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        // The first line names the bound port.
        var line = ""
        let handle = out.fileHandleForReading
        while !line.contains("\n") {
            let data = handle.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        #expect(line.hasPrefix("Serving fixture (registry version 1) on http://127.0.0.1:"))
        let port = Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(port > 0)
        func post(_ body: String) async throws -> (Int, String) {
            var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/get-online-features")))
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        let get = #"{"features":["driver_hourly_stats:rating"],"entities":{"driver_id":[1]}}"#
        #expect(try await post(get).0 == 404)
        var next = OnlineFixture.definitions
        next.featureViews[0].features.append(.init("rating", .float64))
        try OnlineFixture.apply(next, root: dir.path)
        try await Task.sleep(for: .milliseconds(150))
        let (status, text) = try await post(get)
        #expect(status == 200)
        #expect(text.contains(#""statuses":["NOT_FOUND"]"#))
    }
}
