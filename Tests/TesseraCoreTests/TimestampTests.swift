import PropertyBased
import TesseraCore
import Testing

@Suite("Timestamp")
struct TimestampTests {
    /// Epoch seconds of known instants (from `date -u -d ... +%s`).
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)), ("2026-01-01T00:00:00Z", 1_767_225_600),
        ("2000-02-29T12:00:00Z", 951_825_600), ("1969-12-31T23:59:59Z", -1), ("1900-01-01T00:00:00Z", -2_208_988_800),
        ("0001-01-01T00:00:00Z", -62_135_596_800), ("9999-12-31T23:59:59Z", 253_402_300_799),
        ("2038-01-19T03:14:08Z", 2_147_483_648), ("1600-03-01T00:00:00Z", -11_670_912_000),
    ])
    func knownInstants(_ text: String, _ seconds: Int64) {
        #expect(Timestamp(parsing: text)?.microseconds == seconds * 1_000_000)
        #expect(Timestamp(seconds: seconds).iso8601 == text)
    }

    @Test(arguments: [
        ("2026-01-01", "2026-01-01T00:00:00Z"), ("2026-01-01 10:00:00", "2026-01-01T10:00:00Z"),
        ("2026-01-01T10:00:00+02:00", "2026-01-01T08:00:00Z"), ("2026-01-01T10:00:00-0130", "2026-01-01T11:30:00Z"),
        ("2026-01-01T10:00:00+02", "2026-01-01T08:00:00Z"), ("2026-01-01 10:00:00 +00:00", "2026-01-01T10:00:00Z"),
        ("2026-01-01 10:00:00 UTC", "2026-01-01T10:00:00Z"), ("2026-01-01t10:00z", "2026-01-01T10:00:00Z"),
        ("2026-01-01T10:00:00.5Z", "2026-01-01T10:00:00.5Z"), ("2026-01-01T10:00:00,25", "2026-01-01T10:00:00.25Z"),
        ("2026-01-01T10:00:00.1234567Z", "2026-01-01T10:00:00.123456Z"), ("  2026-01-01  ", "2026-01-01T00:00:00Z"),
        ("2026-12-31T23:59:60Z", "2027-01-01T00:00:00Z"), ("2024-02-29", "2024-02-29T00:00:00Z"),
        ("2026-01-01 00:00:00.000000Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01 00:00:00.500+00", "2026-01-01T00:00:00.5Z"),
    ])
    func acceptedForms(_ text: String, _ canonical: String) {
        #expect(Timestamp(parsing: text)?.iso8601 == canonical)
    }

    @Test(arguments: [
        "", "abc", "2026-13-01", "2026-00-10", "2026-01-32", "2026-02-29", "1900-02-29", "2023-02-29", "2026-04-31",
        "2026-01-01T24:00:00", "2026-01-01T10:60", "2026-1-1", "2026-01-01T10", "2026-01-01Z", "2026-01-01T10:00:00.",
        "2026-01-01T10:00:00+2", "2026-01-01T10:00:00+02:00:00", "2026-01-01T10:00:00Zx", "1767225600", "+2026-01-01",
        "2026-01-01T10:00:00+24:00",
    ])
    func rejected(_ text: String) {
        #expect(Timestamp(parsing: text) == nil)
    }

    @Test func leapYears() {
        for year in [1600, 2000, 2004, 2024, 2400] { #expect(Timestamp(parsing: "\(year)-02-29") != nil) }
        for year in [1700, 1800, 1900, 2023, 2100] { #expect(Timestamp(parsing: "\(year)-02-29") == nil) }
        // 2000 is a leap year: 366 days to 2001.
        let a = Timestamp(parsing: "2000-01-01")?.microseconds ?? 0
        let b = Timestamp(parsing: "2001-01-01")?.microseconds ?? 0
        #expect(b - a == 366 * 86_400_000_000)
    }

    /// Every instant with a four-digit year formats and parses back to itself.
    @Test func formatThenParseIsTheIdentity() async {
        let range: ClosedRange<Int64> = -62_167_219_200_000_000...253_402_300_799_999_999
        await propertyCheck(count: 3000, input: Gen.int64(in: range)) { micros in
            let t = Timestamp(microseconds: micros)
            #expect(Timestamp(parsing: t.iso8601) == t, "\(t.iso8601)")
        }
        // Whole seconds near the epoch, where negative remainders are easy to get wrong.
        await propertyCheck(count: 1000, input: Gen.int64(in: -200_000...200_000)) { seconds in
            let t = Timestamp(seconds: seconds)
            #expect(Timestamp(parsing: t.iso8601) == t)
            #expect(!t.iso8601.contains("."))
        }
    }

    @Test func civilDaysRoundTrip() async {
        await propertyCheck(count: 2000, input: Gen.int64(in: -3_000_000...3_000_000)) { days in
            let (y, m, d) = Timestamp.civilFromDays(days)
            #expect(Timestamp.daysFromCivil(year: y, month: m, day: d) == days)
            #expect((1...12).contains(m) && (1...31).contains(d))
        }
        #expect(Timestamp.civilFromDays(0) == (1970, 1, 1))
        #expect(Timestamp.civilFromDays(-1) == (1969, 12, 31))
    }

    @Test func fractionsAreTrimmedAndArithmeticWorks() {
        #expect(Timestamp(microseconds: 1_767_225_600_120_000).iso8601 == "2026-01-01T00:00:00.12Z")
        #expect(Timestamp(microseconds: -1).iso8601 == "1969-12-31T23:59:59.999999Z")
        let t = Timestamp(seconds: 100)
        #expect(t + .seconds(5) == Timestamp(seconds: 105) && t - .minutes(1) == Timestamp(seconds: 40))
        #expect(Timestamp(seconds: 1) < Timestamp(seconds: 2))
        #expect(Timestamp(seconds: 0).description == "1970-01-01T00:00:00Z")
    }
}

@Suite struct TimeArgumentTests {
    let now = Timestamp(seconds: 1_768_003_200)  // 2026-01-10T00:00:00Z

    @Test func nowAndRelativeTimes() {
        #expect(Timestamp(argument: "now", now: now) == now)
        #expect(Timestamp(argument: " NOW ", now: now) == now)
        #expect(Timestamp(argument: "now-1h", now: now) == Timestamp(seconds: 1_768_003_200 - 3600))
        #expect(Timestamp(argument: "-1h", now: now) == Timestamp(seconds: 1_768_003_200 - 3600))
        #expect(Timestamp(argument: "now+2d", now: now) == Timestamp(seconds: 1_768_003_200 + 2 * 86_400))
        #expect(Timestamp(argument: "2026-01-09", now: now) == Timestamp(seconds: 1_767_916_800))
        #expect(Timestamp(argument: "yesterday", now: now) == nil)
        #expect(Timestamp(argument: "now-", now: now) == nil)
        #expect(Timestamp(argument: "now-1x", now: now) == nil)
    }

    @Test func supportedRangeAndFloorSeconds() {
        #expect(Timestamp.earliestSupported.iso8601 == "0001-01-01T00:00:00Z")
        #expect(Timestamp.latestSupported.iso8601 == "9999-12-31T23:59:59.999999Z")
        #expect(!Timestamp(microseconds: Int64.min).isSupported)
        #expect(Timestamp(microseconds: -1).floorSeconds == -1)
        #expect(Timestamp(microseconds: -1_000_000).floorSeconds == -1)
        #expect(Timestamp(microseconds: Int64.min).floorSeconds == -9_223_372_036_855)
        #expect(Timestamp(microseconds: 1_999_999).floorSeconds == 1)
    }
}
