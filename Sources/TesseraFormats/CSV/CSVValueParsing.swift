import TesseraCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Parsers for one field's bytes, straight from the file's buffer: no `String` per value.
///
/// Each takes the field as `base[start ..< end]` and returns `nil` when the text is
/// not a value of the type. Numbers and booleans may have spaces around them.
enum CSVValue {
    @inline(__always)
    static func trim(_ base: UnsafePointer<UInt8>, _ start: inout Int, _ end: inout Int) {
        while start < end, base[start] == 32 { start += 1 }
        while end > start, base[end - 1] == 32 { end -= 1 }
    }

    /// A decimal integer with an optional sign; `nil` when it is not one or does not fit in 64 bits.
    @inline(__always)
    static func int64(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        var i = start
        var e = end
        if i < e, base[i] == 32 || base[e - 1] == 32 { trim(base, &i, &e) }
        guard i < e else { return nil }
        var negative = false
        if base[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        } else if base[i] == UInt8(ascii: "+") {
            i += 1
        }
        let digits = e - i
        guard digits > 0 else { return nil }
        var value: UInt64 = 0
        if digits <= 18 {
            // 18 digits cannot overflow: no checks in the common case.
            while i < e {
                let d = base[i] &- 48
                guard d < 10 else { return nil }
                value = value &* 10 &+ UInt64(d)
                i += 1
            }
            return negative ? -Int64(value) : Int64(value)
        }
        while i < e {
            let d = base[i] &- 48
            guard d < 10 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            value = plus
            i += 1
        }
        if negative {
            guard value <= UInt64(Int64.max) + 1 else { return nil }
            return value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
        }
        guard value <= UInt64(Int64.max) else { return nil }
        return Int64(value)
    }

    /// `true` / `false` in any letter case, and `1` / `0`.
    @inline(__always)
    static func bool(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool? {
        var i = start
        var e = end
        trim(base, &i, &e)
        switch e - i {
        case 1:
            if base[i] == UInt8(ascii: "1") { return true }
            if base[i] == UInt8(ascii: "0") { return false }
            return nil
        case 4:
            return matches(base, i, "true") ? true : nil
        case 5:
            return matches(base, i, "false") ? false : nil
        default:
            return nil
        }
    }

    /// Whether the field is the word `true` or `false` in any case (the inference rule for bool).
    static func isBoolWord(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        var e = end
        trim(base, &i, &e)
        return (e - i == 4 && matches(base, i, "true")) || (e - i == 5 && matches(base, i, "false"))
    }

    /// Case-insensitive comparison with an ASCII lowercase word.
    @inline(__always)
    static func matches(_ base: UnsafePointer<UInt8>, _ start: Int, _ word: StaticString) -> Bool {
        let w = word.utf8Start
        for k in 0..<word.utf8CodeUnitCount where base[start + k] | 0x20 != w[k] { return false }
        return true
    }

    /// A timestamp in the forms `Timestamp.parseMicros` accepts, with a fast path for the
    /// commonest one, `YYYY-MM-DDTHH:MM:SS` with an optional `Z` (what Tessera writes).
    @inline(__always)
    static func timestamp(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        let n = end - start
        if n == 20 || n == 19, n == 19 || base[start + 19] == UInt8(ascii: "Z") {
            if let micros = fastTimestamp(base + start) { return micros }
        }
        return Timestamp.parseMicros(UnsafeBufferPointer(start: base + start, count: n))
    }

    @inline(__always)
    private static func fastTimestamp(_ p: UnsafePointer<UInt8>) -> Int64? {
        @inline(__always) func d(_ k: Int) -> Int64 { Int64(p[k] &- 48) }
        // Every digit position must hold a digit; separators must be exact.
        @inline(__always) func digit(_ k: Int) -> Bool { p[k] &- 48 < 10 }
        guard digit(0), digit(1), digit(2), digit(3), digit(5), digit(6), digit(8), digit(9), digit(11),
            digit(12), digit(14), digit(15), digit(17), digit(18), p[4] == 45, p[7] == 45, p[10] == 84 || p[10] == 32,
            p[13] == 58, p[16] == 58
        else {
            return nil
        }
        let year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3)
        let month = d(5) * 10 + d(6)
        let day = d(8) * 10 + d(9)
        let hour = d(11) * 10 + d(12)
        let minute = d(14) * 10 + d(15)
        let second = d(17) * 10 + d(18)
        guard month >= 1, month <= 12, day >= 1, day <= 28 || day <= daysIn(month, year), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let days = daysFromCivil(year, month, day)
        return (days * 86_400 + hour * 3600 + minute * 60 + second) * 1_000_000
    }

    /// `Timestamp.daysFromCivil`, here so that it inlines into the per-value loop.
    @inline(__always)
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func daysIn(_ month: Int64, _ year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
