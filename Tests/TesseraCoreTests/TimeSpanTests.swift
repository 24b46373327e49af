import PropertyBased
import TesseraCore
import Testing

@Suite("TimeSpan")
struct TimeSpanTests {
    @Test(arguments: [
        ("30s", Int64(30_000_000)), ("15m", 900_000_000), ("2h", 7_200_000_000), ("7d", 604_800_000_000),
        ("1w", 604_800_000_000), ("250ms", 250_000), ("1h30m", 5_400_000_000), ("0", 0), ("10us", 10),
        (" 2H ", 7_200_000_000), ("1m5s", 65_000_000), ("1d2h3m4s5ms6us", 93_784_005_006),
        ("15250000w", 9_223_200_000_000_000_000),
    ])
    func parses(_ text: String, _ micros: Int64) {
        #expect(TimeSpan(parsing: text)?.microseconds == micros)
    }

    @Test(arguments: [
        "-1h", "1x", "h", "", "1", "1h-", "1.5h", "h1", "00", "1 h", "99999999999999999999s", "9223372036854775807w",
        "15251000w", "15250000w300000w", "1e3s",
    ])
    func rejects(_ text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test func formatsInTheLargestExactUnit() {
        #expect(TimeSpan.days(2).formatted == "2d")
        #expect(TimeSpan.minutes(90).formatted == "90m")
        #expect(TimeSpan(microseconds: 1_500_000).formatted == "1500ms")
        #expect(TimeSpan(microseconds: 7).formatted == "7us")
        #expect(TimeSpan.days(14).formatted == "2w")
        #expect(TimeSpan.zero.formatted == "0" && TimeSpan.zero.isZero)
        #expect(TimeSpan.hours(2).description == "2h")
    }

    @Test func formattingParsesBackForAnyLength() async {
        await propertyCheck(count: 1000, input: Gen.int64(in: 0...Int64.max)) { micros in
            let span = TimeSpan(microseconds: micros)
            #expect(TimeSpan(parsing: span.formatted) == span)
        }
        await propertyCheck(count: 500, input: Gen.int64(in: 0...100_000), Gen.int(in: 0...5)) { n, unit in
            let scale: [Int64] = [1, 1_000, 1_000_000, 60_000_000, 3_600_000_000, 86_400_000_000]
            let span = TimeSpan(microseconds: n * scale[unit])
            #expect(TimeSpan(parsing: span.formatted) == span)
        }
    }

    @Test func ordersByLength() {
        #expect(TimeSpan.hours(3) < TimeSpan.days(1))
        #expect(TimeSpan.seconds(90) == TimeSpan(parsing: "1m30s"))
    }
}
