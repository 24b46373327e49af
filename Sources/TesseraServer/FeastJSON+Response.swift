import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraOnline

extension FeastJSON {
    /// Writes a response as `feast serve` does (`convert_response_to_dict`):
    /// `{"results":[{"values":[…],"statuses":[…],"event_timestamps":[…]},…],"metadata":{"feature_names":[…]}}`.
    ///
    /// Values follow Feast's protobuf-to-JSON rules: float32 widened to a double (Python
    /// prints `0.5` as `0.5` and `0.1f` as `0.10000000149011612`), bytes as base64, timestamp
    /// feature values as Unix seconds, null for missing; `event_timestamps` are RFC 3339 in
    /// UTC with 0, 3 or 6 fraction digits, the epoch for join keys and misses.
    public static func write(_ response: OnlineFeaturesResponse) -> [UInt8] {
        let rows = response.results.first?.values.count ?? 0
        var writer = JSONWriter(capacity: 96 + response.results.count * (48 + rows * 40))
        writer.raw("{\"results\":[")
        var lastStatuses: ([FeatureStatus], Range<Int>)?
        var lastTimes: ([Timestamp?], Range<Int>)?
        for (i, vector) in response.results.enumerated() {
            if i > 0 { writer.byte(0x2C) }
            writer.raw("{\"values\":[")
            for (k, value) in vector.values.enumerated() {
                if k > 0 { writer.byte(0x2C) }
                write(value, into: &writer)
            }
            writer.raw("],\"statuses\":[")
            // A view's features mostly share one statuses and one timestamps array (the
            // lookup builds them once): equal to the previous vector's, their text is copied.
            writeOnce(vector.statuses, last: &lastStatuses, into: &writer) { status, writer in
                switch status {
                case .present: writer.raw("\"PRESENT\"")
                case .nullValue: writer.raw("\"NULL_VALUE\"")
                case .notFound: writer.raw("\"NOT_FOUND\"")
                case .outsideMaxAge: writer.raw("\"OUTSIDE_MAX_AGE\"")
                }
            }
            writer.byte(0x5D)
            // Feast leaves the member out when the vector has no timestamps (no entity rows).
            if !vector.eventTimestamps.isEmpty {
                writer.raw(",\"event_timestamps\":[")
                writeOnce(vector.eventTimestamps, last: &lastTimes, into: &writer) { time, writer in
                    timestamp(time, into: &writer)
                }
                writer.byte(0x5D)
            }
            writer.byte(0x7D)
        }
        writer.raw("],\"metadata\":{\"feature_names\":[")
        for (i, name) in response.featureNames.enumerated() {
            if i > 0 { writer.byte(0x2C) }
            writer.string(name)
        }
        writer.raw("]}}")
        return writer.bytes
    }

    /// `items` comma-separated through `item`, or — equal to the `last` array written — a
    /// copy of that text; `last` becomes what was written.
    @inline(__always)
    static func writeOnce<T: Equatable>(
        _ items: [T], last: inout ([T], Range<Int>)?, into writer: inout JSONWriter,
        _ item: (T, inout JSONWriter) -> Void
    ) {
        if let (previous, range) = last, previous == items {
            writer.repeatBytes(range)
            return
        }
        let start = writer.bytes.count
        for (k, element) in items.enumerated() {
            if k > 0 { writer.byte(0x2C) }
            item(element, &writer)
        }
        last = (items, start..<writer.bytes.count)
    }

    /// One value as Feast's `_value_to_native` would give it to `json.dumps`.
    static func write(_ value: ScalarValue, into writer: inout JSONWriter) {
        switch value {
        case .null: writer.null()
        case .bool(let v): writer.bool(v)
        case .int32(let v): writer.int(Int64(v))
        case .int64(let v): writer.int(v)
        case .float32(let v): writer.double(Double(v))
        case .float64(let v): writer.double(v)
        case .string(let v): writer.string(v)
        case .bytes(let v): writer.string(Data(v).base64EncodedString())
        case .timestamp(let v):
            // Feast keeps UNIX_TIMESTAMP values as whole seconds (`unix_timestamp_val`), rounded down.
            writer.int(v.floorSeconds)
        case .list(let items):
            writer.byte(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { writer.byte(0x2C) }
                write(item, into: &writer)
            }
            writer.byte(0x5D)
        }
    }

    /// `_timestamp_to_str`: `2026-01-01T10:00:00Z`, `….123Z` or `….123456Z`; the epoch for `nil`.
    static func timestamp(_ time: Timestamp?, into writer: inout JSONWriter) {
        guard let time, time.microseconds != 0 else {
            writer.raw("\"1970-01-01T00:00:00Z\"")
            return
        }
        var micros = time.microseconds
        var days = micros / 86_400_000_000
        micros %= 86_400_000_000
        if micros < 0 {
            micros += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = Timestamp.civilFromDays(days)
        let seconds = micros / 1_000_000
        let fraction = micros % 1_000_000
        writer.byte(0x22)
        // ISO 8601's expanded form beyond 0000–9999 (only stored data can hold such a time:
        // requests are refused outside years 1–9999).
        if year > 9999 { writer.byte(0x2B) }
        writer.digits(year, 4)
        writer.byte(0x2D)
        writer.digits(month, 2)
        writer.byte(0x2D)
        writer.digits(day, 2)
        writer.byte(0x54)
        writer.digits(seconds / 3600, 2)
        writer.byte(0x3A)
        writer.digits(seconds / 60 % 60, 2)
        writer.byte(0x3A)
        writer.digits(seconds % 60, 2)
        if fraction != 0 {
            writer.byte(0x2E)
            if fraction % 1000 == 0 { writer.digits(fraction / 1000, 3) } else { writer.digits(fraction, 6) }
        }
        writer.byte(0x5A)
        writer.byte(0x22)
    }
}
