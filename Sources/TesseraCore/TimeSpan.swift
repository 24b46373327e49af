/// A length of time with microsecond resolution, as used for `ttl`, windows and lateness.
///
/// Written in definition files and on the command line as a number with a
/// unit — `30s`, `15m`, `2h`, `7d`, `1w`, `250ms` — or several of them in a row
/// (`1h30m`). `0` means "unbounded" where a field says so (a `ttl` of `0`).
public struct TimeSpan: Hashable, Comparable, Sendable {
    /// The length in microseconds.
    public var microseconds: Int64

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    public static func seconds(_ value: Int64) -> TimeSpan { TimeSpan(microseconds: value * 1_000_000) }
    public static func minutes(_ value: Int64) -> TimeSpan { .seconds(value * 60) }
    public static func hours(_ value: Int64) -> TimeSpan { .seconds(value * 3600) }
    public static func days(_ value: Int64) -> TimeSpan { .seconds(value * 86_400) }
    public static let zero = TimeSpan(microseconds: 0)

    public var isZero: Bool { microseconds == 0 }

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.microseconds < rhs.microseconds }

    private static let units: [(suffix: String, micros: Int64)] = [
        ("ms", 1_000), ("us", 1), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000),
        ("d", 86_400_000_000), ("w", 604_800_000_000),
    ]

    /// Parses `30s`, `15m`, `2h`, `7d`, `1w`, `250ms`, `1h30m` or `0`.
    /// Returns `nil` for anything else, including negative lengths.
    public init?(parsing text: String) {
        let source = Array(text.trimmingSpaces().lowercased().utf8)
        if source == Array("0".utf8) {
            self = .zero
            return
        }
        var total: Int64 = 0
        var index = 0
        guard !source.isEmpty else { return nil }
        while index < source.count {
            var number: Int64 = 0
            let start = index
            while index < source.count, source[index] >= 48, source[index] <= 57 {
                let (times, o1) = number.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int64(source[index] - 48))
                if o1 || o2 { return nil }
                number = plus
                index += 1
            }
            guard index > start else { return nil }
            var matched: Int64?
            for unit in TimeSpan.units {
                let suffix = Array(unit.suffix.utf8)
                if index + suffix.count <= source.count, Array(source[index..<(index + suffix.count)]) == suffix {
                    // "m" must not swallow the "m" of "ms".
                    if unit.suffix == "m", index + 1 < source.count, source[index + 1] == UInt8(ascii: "s") {
                        continue
                    }
                    matched = unit.micros
                    index += suffix.count
                    break
                }
            }
            guard let micros = matched else { return nil }
            let (part, o1) = number.multipliedReportingOverflow(by: micros)
            let (sum, o2) = total.addingReportingOverflow(part)
            if o1 || o2 { return nil }
            total = sum
        }
        self.microseconds = total
    }

    /// The shortest spelling that parses back to the same length: `2d`, `90m`, `1500ms`.
    public var formatted: String {
        if microseconds == 0 { return "0" }
        for unit in [
            ("w", Int64(604_800_000_000)), ("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000),
            ("s", 1_000_000), ("ms", 1_000),
        ]
        where microseconds % unit.1 == 0 {
            return "\(microseconds / unit.1)\(unit.0)"
        }
        return "\(microseconds)us"
    }
}

extension TimeSpan: CustomStringConvertible {
    public var description: String { formatted }
}

extension TimeSpan: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = TimeSpan(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "bad duration '\(text)'")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(formatted)
    }
}
