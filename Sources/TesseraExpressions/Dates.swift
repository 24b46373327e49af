import TesseraCore

/// The units of `date_trunc`, `date_diff` and interval literals, with DuckDB's spellings.
enum TimeUnit: String, CaseIterable, Sendable {
    case microsecond, millisecond, second, minute, hour, day, week, month, quarter, year

    static let aliases: [String: TimeUnit] = [
        "us": .microsecond, "ms": .millisecond, "s": .second, "sec": .second, "min": .minute, "h": .hour,
        "hr": .hour, "d": .day, "w": .week, "y": .year, "yr": .year,
    ]

    /// `hour`, `hours`, `HOUR`, `h`; `nil` for anything else.
    init?(spelling: String) {
        let text = spelling.lowercased()
        if let unit = TimeUnit(rawValue: text) ?? TimeUnit.aliases[text] {
            self = unit
        } else if text.hasSuffix("s"), let unit = TimeUnit(rawValue: String(text.dropLast())) {
            self = unit
        } else {
            return nil
        }
    }

    static var spellings: [String] { allCases.map(\.rawValue) }

    /// The unit's length for units of fixed length (up to a week).
    var microseconds: Int64? {
        switch self {
        case .microsecond: 1
        case .millisecond: 1_000
        case .second: 1_000_000
        case .minute: 60_000_000
        case .hour: 3_600_000_000
        case .day: Dates.day
        case .week: 7 * Dates.day
        case .month, .quarter, .year: nil
        }
    }

    /// Calendar units as months.
    var months: Int64? {
        switch self {
        case .month: 1
        case .quarter: 3
        case .year: 12
        default: nil
        }
    }
}

/// Calendar arithmetic on UTC microseconds since the epoch, as DuckDB does it for
/// `TIMESTAMP` (floors for times before 1970, weeks starting on Monday, month ends clamped).
enum Dates {
    static let day: Int64 = 86_400_000_000

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// `date_trunc(unit, t)`: the start of the unit that holds `t`.
    static func trunc(_ unit: TimeUnit, _ t: Int64) -> Int64 {
        let days = floorDiv(t, day)
        switch unit {
        case .week:
            // 1970-01-01 was a Thursday: days + 3 counts from a Monday.
            let monday = days - ((days + 3) % 7 + 7) % 7
            return monday * day
        case .month, .quarter, .year:
            let (y, m, _) = Timestamp.civilFromDays(days)
            let month = unit == .year ? 1 : unit == .quarter ? (m - 1) / 3 * 3 + 1 : m
            return Timestamp.daysFromCivil(year: y, month: month, day: 1) * day
        default:
            let size = unit.microseconds ?? 1
            return floorDiv(t, size) * size
        }
    }

    /// `date_diff(unit, a, b)`: unit boundaries from `a` to `b` (DuckDB's rule: weeks are whole
    /// 7-day spans of days, truncated toward zero; calendar units count months, quarters or
    /// years by their numbers). `nil` on overflow.
    static func diff(_ unit: TimeUnit, _ a: Int64, _ b: Int64) -> Int64? {
        switch unit {
        case .microsecond:
            let (r, overflow) = b.subtractingReportingOverflow(a)
            return overflow ? nil : r
        case .week:
            return (floorDiv(b, day) - floorDiv(a, day)) / 7
        case .month, .quarter, .year:
            let (y1, m1, _) = Timestamp.civilFromDays(floorDiv(a, day))
            let (y2, m2, _) = Timestamp.civilFromDays(floorDiv(b, day))
            switch unit {
            case .year: return y2 - y1
            case .quarter: return (y2 * 4 + (m2 - 1) / 3) - (y1 * 4 + (m1 - 1) / 3)
            default: return (y2 * 12 + m2) - (y1 * 12 + m1)
            }
        default:
            let size = unit.microseconds ?? 1
            return floorDiv(b, size) - floorDiv(a, size)
        }
    }

    /// `t` moved by `months` calendar months (the day clamped to the month's last), then by
    /// `micros`; `nil` when the result leaves years 1–9999 or overflows.
    static func shift(_ t: Int64, months: Int64, micros: Int64) -> Int64? {
        var moved = t
        if months != 0 {
            guard abs(months) <= 12 * 10_000 else { return nil }
            let days = floorDiv(t, day)
            let inDay = t - days * day
            let (y, m, d) = Timestamp.civilFromDays(days)
            let total = y * 12 + (m - 1) + months
            let year = floorDiv(total, 12)
            let month = total - year * 12 + 1
            let last = daysIn(year: year, month: month)
            moved = Timestamp.daysFromCivil(year: year, month: month, day: min(d, last)) * day + inDay
        }
        let (r, overflow) = moved.addingReportingOverflow(micros)
        guard !overflow, r >= Timestamp.earliestSupported.microseconds, r <= Timestamp.latestSupported.microseconds
        else { return nil }
        return r
    }

    /// Days in `month` of `year`.
    static func daysIn(year: Int64, month: Int64) -> Int64 {
        let next = month == 12 ? (year + 1, Int64(1)) : (year, month + 1)
        return Timestamp.daysFromCivil(year: next.0, month: next.1, day: 1)
            - Timestamp.daysFromCivil(year: year, month: month, day: 1)
    }

    /// An interval literal's text, `'1 hour 30 minutes'`, `'-2 days'`, `'1 month'`: months
    /// and microseconds; `nil` with the reason when it does not read.
    static func interval(_ text: String) -> Result<(months: Int64, micros: Int64), IntervalProblem> {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !words.isEmpty, words.count % 2 == 0 else {
            return .failure(IntervalProblem("write an amount and a unit, e.g. '90 minutes' or '1 day 2 hours'"))
        }
        var months: Int64 = 0
        var micros: Int64 = 0
        for k in stride(from: 0, to: words.count, by: 2) {
            guard let amount = Int64(words[k]) else {
                return .failure(IntervalProblem("'\(words[k])' is not a whole number"))
            }
            guard let unit = TimeUnit(spelling: words[k + 1]) else {
                return .failure(
                    IntervalProblem(
                        "'\(words[k + 1])' is not a unit",
                        hint: Suggestions.hint(for: words[k + 1], in: TimeUnit.spellings)))
            }
            if let size = unit.months {
                let (m, o) = amount.multipliedReportingOverflow(by: size)
                guard !o, abs(m) <= 12 * 10_000 else { return .failure(IntervalProblem("the interval is too long")) }
                months += m
            } else {
                let (m, o1) = amount.multipliedReportingOverflow(by: unit.microseconds ?? 1)
                let (sum, o2) = micros.addingReportingOverflow(m)
                guard !o1, !o2 else { return .failure(IntervalProblem("the interval is too long")) }
                micros = sum
            }
        }
        return .success((months, micros))
    }

    struct IntervalProblem: Error {
        var message: String
        var hint: String?
        init(_ message: String, hint: String? = nil) {
            self.message = message
            self.hint = hint
        }
    }
}
