import Foundation

/// An instant in time: microseconds since 1970-01-01T00:00:00Z.
///
/// This is the internal unit of every timestamp in Tessera (event times,
/// created times, watermarks). Parsing and formatting use the proleptic
/// Gregorian calendar in UTC, without Foundation, so they are cheap enough
/// for per-row use in CSV parsing.
public struct Timestamp: Hashable, Comparable, Sendable {
    public var microseconds: Int64

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    public init(seconds: Int64) {
        self.microseconds = seconds * 1_000_000
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    public static func + (lhs: Timestamp, rhs: TimeSpan) -> Timestamp {
        Timestamp(microseconds: lhs.microseconds &+ rhs.microseconds)
    }

    public static func - (lhs: Timestamp, rhs: TimeSpan) -> Timestamp {
        Timestamp(microseconds: lhs.microseconds &- rhs.microseconds)
    }

    /// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number (inverse of `daysFromCivil`).
    public static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Formats as ISO 8601 in UTC: `2026-01-01T00:00:00Z`, with a fraction only when needed.
    public var iso8601: String {
        let micros = microseconds
        var days = micros / 86_400_000_000
        var rem = micros % 86_400_000_000
        if rem < 0 {
            rem += 86_400_000_000
            days -= 1
        }
        let (y, mo, d) = Timestamp.civilFromDays(days)
        let secs = rem / 1_000_000
        let frac = rem % 1_000_000
        var out = ""
        out.reserveCapacity(27)
        func pad(_ value: Int64, _ width: Int) {
            let s = String(value)
            if s.count < width { out += String(repeating: "0", count: width - s.count) }
            out += s
        }
        if y < 0 {
            out += "-"
            pad(-y, 4)
        } else {
            pad(y, 4)
        }
        out += "-"
        pad(mo, 2)
        out += "-"
        pad(d, 2)
        out += "T"
        pad(secs / 3600, 2)
        out += ":"
        pad(secs / 60 % 60, 2)
        out += ":"
        pad(secs % 60, 2)
        if frac != 0 {
            var digits = frac
            var width = 6
            while digits % 10 == 0 {
                digits /= 10
                width -= 1
            }
            out += "."
            pad(digits, width)
        }
        out += "Z"
        return out
    }

    /// Parses ISO 8601 / RFC 3339 and the forms pandas and SQL print:
    /// `2026-01-01`, `2026-01-01T10:00:00Z`, `2026-01-01 10:00:00.123456`,
    /// `2026-01-01T10:00:00+02:00`. A time without an offset is taken as UTC.
    public init?(parsing text: String) {
        var copy = text
        let parsed: Int64? = copy.withUTF8 { Timestamp.parseMicros($0) }
        guard let micros = parsed else { return nil }
        self.microseconds = micros
    }

    /// The parser behind `init(parsing:)`, over raw UTF-8 bytes (used by the CSV reader).
    public static func parseMicros(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = bytes.count
        // Skip surrounding spaces.
        var end = n
        while i < end, bytes[i] == 32 { i += 1 }
        while end > i, bytes[end - 1] == 32 { end -= 1 }
        func digits(_ count: Int) -> Int64? {
            guard i + count <= end else { return nil }
            var value: Int64 = 0
            for k in 0..<count {
                let c = bytes[i + k]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int64(c - 48)
            }
            i += count
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < end, bytes[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2) else {
            return nil
        }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var micros = daysFromCivil(year: year, month: month, day: day) * 86_400_000_000
        if i == end { return micros }
        guard bytes[i] == 84 || bytes[i] == 116 || bytes[i] == 32 else { return nil }  // 'T', 't', ' '
        i += 1
        guard let hour = digits(2), expect(58), let minute = digits(2) else { return nil }
        var second: Int64 = 0
        if i < end, bytes[i] == 58 {
            i += 1
            guard let s = digits(2) else { return nil }
            second = s
        }
        guard hour < 24, minute < 60, second < 61 else { return nil }
        micros += (hour * 3600 + minute * 60 + second) * 1_000_000
        if i < end, bytes[i] == 46 || bytes[i] == 44 {  // fraction
            i += 1
            var fraction: Int64 = 0
            var places = 0
            while i < end, bytes[i] >= 48, bytes[i] <= 57 {
                if places < 6 {
                    fraction = fraction * 10 + Int64(bytes[i] - 48)
                }
                places += 1
                i += 1
            }
            guard places > 0 else { return nil }
            for _ in places..<max(places, 6) { fraction *= 10 }
            micros += fraction
        }
        if i == end { return micros }
        if bytes[i] == 90 || bytes[i] == 122 {  // 'Z'
            i += 1
            return i == end ? micros : nil
        }
        if i < end, bytes[i] == 32 { i += 1 }  // "... +00:00"
        guard i < end, bytes[i] == 43 || bytes[i] == 45 else {
            // "UTC" suffix as pandas sometimes prints it.
            if end - i == 3, bytes[i] == 85, bytes[i + 1] == 84, bytes[i + 2] == 67 { return micros }
            return nil
        }
        let sign: Int64 = bytes[i] == 45 ? -1 : 1
        i += 1
        guard let offH = digits(2) else { return nil }
        var offM: Int64 = 0
        if i < end {
            _ = expect(58)
            guard let m = digits(2) else { return nil }
            offM = m
        }
        guard i == end, offH < 24, offM < 60 else { return nil }
        return micros - sign * (offH * 3600 + offM * 60) * 1_000_000
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Timestamp: CustomStringConvertible {
    public var description: String { iso8601 }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Timestamp(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "bad timestamp '\(text)'")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}

extension Timestamp {
    /// The current time.
    public static var now: Timestamp {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
