extension Timestamp {
    /// The first instant Tessera accepts from users: 0001-01-01T00:00:00Z.
    public static let earliestSupported = Timestamp(
        microseconds: Timestamp.daysFromCivil(year: 1, month: 1, day: 1) * 86_400_000_000)
    /// The last instant Tessera accepts from users: 9999-12-31T23:59:59.999999Z.
    public static let latestSupported = Timestamp(
        microseconds: Timestamp.daysFromCivil(year: 10_000, month: 1, day: 1) * 86_400_000_000 - 1)

    /// Whether the instant lies in years 1 to 9999, the range ISO 8601 text (and Python's
    /// `datetime`, and so Feast's clients) can represent. Requests outside it are refused.
    public var isSupported: Bool { self >= Timestamp.earliestSupported && self <= Timestamp.latestSupported }

    /// Whole seconds since the epoch, rounded toward negative infinity (never overflows).
    public var floorSeconds: Int64 {
        let quotient = microseconds / 1_000_000
        return microseconds % 1_000_000 < 0 ? quotient - 1 : quotient
    }

    /// Parses a time given on a command line: ISO 8601 (as `init(parsing:)`), `now`, or `now`
    /// plus or minus a duration — `now-1h`, `now+30m` — with `-1h` and `+2d` short for them.
    ///
    /// - Parameter now: the instant `now` means (injectable for tests).
    public init?(argument text: String, now: Timestamp = .now) {
        let trimmed = text.trimmingSpaces().lowercased()
        if trimmed == "now" {
            self = now
            return
        }
        var rest = Substring(trimmed)
        if rest.hasPrefix("now") { rest = rest.dropFirst(3) }
        if let sign = rest.first, sign == "-" || sign == "+", rest.count > 1,
            let span = TimeSpan(parsing: String(rest.dropFirst()))
        {
            let (moved, overflow) =
                sign == "-"
                ? now.microseconds.subtractingReportingOverflow(span.microseconds)
                : now.microseconds.addingReportingOverflow(span.microseconds)
            guard !overflow else { return nil }
            self.init(microseconds: moved)
            return
        }
        guard let parsed = Timestamp(parsing: text) else { return nil }
        self = parsed
    }

    /// What `init(argument:)` accepts, for error messages.
    public static let argumentForms = "an ISO 8601 time (2026-01-10 or 2026-01-10T08:00:00Z), now, or now-1h"
}
