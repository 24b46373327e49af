import Foundation
import TesseraCore
import Testing

/// What `tessera serve` must do on any shared online store: serve pushes, plain and
/// window-aggregated lookups and concurrent traffic; and ride out an outage of the store.
enum ServingScenario {
    /// A push of drivers 5 and 6 (77 and 78 trips) at the current time.
    static var push: String {
        let now = Timestamp.now.iso8601
        return """
            {"push_source_name": "driver_stats_push", "to": "online",
             "df": {"driver_id": [5, 6], "event_timestamp": ["\(now)", "\(now)"],
                    "conv_rate": [0.125, 0.25], "acc_rate": [0.5, 0.5], "avg_daily_trips": [77, 78]}}
            """
    }

    static let lookup =
        #"{"features": ["driver_hourly_stats:avg_daily_trips"], "entities": {"driver_id": [5, 6, 99999]}}"#

    /// A push of drivers 5 and 6, then lookups of it (plain, and beside a window-aggregated
    /// view in one request), then pushes and lookups at once: every lookup sees a whole push
    /// where the store writes a push atomically (`atomicPushes`; a Redis Cluster writes per
    /// slot, so drivers 5 and 6 may be seen from different pushes there).
    static func pushesAndLookups(_ port: Int, atomicPushes: Bool = true) async throws {
        let (pushed, pushBody) = try await ServeAndPushTests.post(port, "/push", push)
        #expect(pushed == 200, "\(pushBody)")
        let (status, body) = try await ServeAndPushTests.post(port, "/get-online-features", lookup)
        #expect(status == 200 && body.contains("[77,78,null]"), "\(body)")
        #expect(body.contains(#""statuses":["PRESENT","PRESENT","NOT_FOUND"]"#), "\(body)")
        let mixed =
            #"{"features": ["driver_trip_aggs:count_7d", "driver_hourly_stats:avg_daily_trips"], "entities": {"driver_id": [5]}}"#
        let (mixedStatus, mixedBody) = try await ServeAndPushTests.post(port, "/get-online-features", mixed)
        #expect(mixedStatus == 200, "\(mixedBody)")
        #expect(mixedBody.contains(#""values":[0]"#) && mixedBody.contains(#""values":[77]"#), "\(mixedBody)")

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for value in 100..<130 {
                    let body = push.replacingOccurrences(of: "[77, 78]", with: "[\(value), \(value)]")
                    let (status, answer) = try await ServeAndPushTests.post(port, "/push", body)
                    #expect(status == 200, "\(answer)")
                }
            }
            group.addTask {
                for _ in 0..<30 {
                    let (status, answer) = try await ServeAndPushTests.post(port, "/get-online-features", lookup)
                    #expect(status == 200, "\(answer)")
                    if atomicPushes,
                        let range = answer.range(of: #"\[(\d+),(\d+),null\]"#, options: .regularExpression)
                    {
                        let numbers = answer[range].dropFirst().split(separator: ",").prefix(2)
                        // Before the first concurrent push: 77 and 78; after each: equal values.
                        #expect(
                            numbers == ["77", "78"] || numbers.first == numbers.last, "a torn push: \(answer[range])")
                    }
                }
            }
            try await group.waitForAll()
        }
        // The last push wins: both drivers hold its value.
        let (_, last) = try await ServeAndPushTests.post(port, "/get-online-features", lookup)
        #expect(last.contains("[129,129,null]"), "\(last)")

        // Trips pushed online update driver 5's window aggregations, kept in the store.
        let minute: Int64 = 60_000_000
        let now = Timestamp.now.microseconds
        let times = [now - 3 * minute, now - 2 * minute].map { Timestamp(microseconds: $0).iso8601 }
        let trips = """
            {"push_source_name": "trips_push", "to": "online",
             "df": {"trip_id": [1, 2], "driver_id": [5, 5], "rider_id": [1, 2],
                    "event_timestamp": ["\(times[0])", "\(times[1])"],
                    "fare": [30.0, 12.5], "distance_km": [10.0, 3.0], "status": ["completed", "completed"]}}
            """
        let (tripStatus, tripBody) = try await ServeAndPushTests.post(port, "/push", trips)
        #expect(tripStatus == 200, "\(tripBody)")
        let aggregates =
            #"{"features": ["driver_trip_aggs:count_7d", "driver_trip_aggs:fare_sum_1h"], "entities": {"driver_id": [5]}}"#
        let (aggStatus, aggBody) = try await ServeAndPushTests.post(port, "/get-online-features", aggregates)
        #expect(
            aggStatus == 200 && aggBody.contains(#""values":[2]"#) && aggBody.contains(#""values":[42.5]"#),
            "\(aggBody)")
    }

    /// While the store is down (`halt`), lookups and pushes answer 503 naming it (`place`,
    /// and the word `store`), never `secret`, and the server keeps running; once it is back
    /// (`resume`) the server recovers by itself.
    static func ridesOutAnOutage(
        port: Int, server process: Process, place: String, store: String, secret: String?,
        halt: () -> Void, resume: () throws -> Void
    ) async throws {
        halt()
        let (down, downBody) = try await ServeAndPushTests.post(port, "/get-online-features", lookup)
        #expect(down == 503, "\(downBody)")
        #expect(downBody.contains(place) && downBody.lowercased().contains(store.lowercased()), "\(downBody)")
        if let secret { #expect(!downBody.contains(secret), "\(downBody)") }
        let (pushDown, pushDownBody) = try await ServeAndPushTests.post(port, "/push", push)
        #expect(pushDown == 503, "\(pushDownBody)")
        #expect(process.isRunning, "the server keeps running while its store is down")

        try resume()
        var recovered = false
        for _ in 0..<100 where !recovered {
            let (status, _) = try await ServeAndPushTests.post(port, "/push", push)
            recovered = status == 200
            if !recovered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recovered, "the server recovers by itself once \(store) is back")
        let (after, afterBody) = try await ServeAndPushTests.post(port, "/get-online-features", lookup)
        #expect(after == 200 && afterBody.contains("[77,78,null]"), "\(afterBody)")
    }
}
