import Foundation
import TesseraApp
import TesseraColumnar
import TesseraOnline
import TesseraServer

/// Why the server has its own JSON parser: a 100-entity request parsed into a lookup
/// request, by `JSONParser` (no `Any`) and by Foundation's `JSONSerialization` (every value
/// boxed as `Any`, then unboxed), medians over many runs.
enum JSONParseBenchmark {
    static func run(report: inout BenchmarkReport) throws {
        let ids = (0..<100).map { String(1_000_000 + $0 * 7919) }.joined(separator: ",")
        let body = Array(
            (#"{"features":["driver_hourly_stats:conv_rate","driver_hourly_stats:acc_rate","driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":["#
                + ids + "]}}").utf8)
        let data = Data(body)
        let ours = try median(iterations: 20_000) {
            let value = try body.withUnsafeBytes { bytes in
                try Result { () throws(JSONParseError) -> JSONValue in try JSONParser.parse(bytes) }.get()
            }
            let request = try FeastJSON.lookupRequest(value)
            return request.entities.first?.values.count ?? 0
        }
        let foundation = try median(iterations: 20_000) {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                let entities = object["entities"] as? [String: Any], let column = entities["driver_id"] as? [Any]
            else { return 0 }
            let values: [ScalarValue] = column.map { ($0 as? NSNumber).map { .int64($0.int64Value) } ?? .null }
            _ = object["features"] as? [String]
            return values.count
        }
        report.figures.append(
            BenchmarkFigure(
                task: "parse a 100-entity request body", metric: "median µs", tessera: ours, peer: foundation,
                peerName: "JSONSerialization (Any-boxed)"))
    }

    static func median(iterations: Int, _ body: () throws -> Int) throws -> Double {
        var times: [Double] = []
        times.reserveCapacity(iterations)
        var sink = 0
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            sink &+= try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        }
        guard sink > 0 else { throw PeerError(description: "the JSON benchmark parsed nothing") }
        times.sort()
        return times[times.count / 2]
    }
}
