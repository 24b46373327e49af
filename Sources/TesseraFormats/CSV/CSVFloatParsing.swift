#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Exact (correctly rounded) parsing of decimal floating-point text from bytes.
///
/// The common case — at most 19 significant digits whose value fits in 53 bits and a
/// decimal exponent within ±22 — is computed as one IEEE multiplication or division of
/// two exact doubles, which is correctly rounded (Clinger's fast path). Everything else
/// (long mantissas, large exponents) goes to the C library's `strtod`/`strtof`, which are
/// correctly rounded, after this parser has checked the syntax so that `strtod`'s extras
/// (hex floats, leading spaces, partial parses) never get in.
enum CSVFloat {
    private static let powers: [Double] = (0...22).map { p in
        var x = 1.0
        for _ in 0..<p { x *= 10 }
        return x
    }

    /// The parts of a syntactically valid decimal: sign, up to 19 digits, and an exponent.
    struct Decimal {
        var negative = false
        var mantissa: UInt64 = 0
        var exponent = 0
        /// Whether digits beyond the 19th were dropped (then the fast path does not apply).
        var truncated = false
        var special: Double? = nil
    }

    /// `scan` for the common case: at most 19 digits in all and no exponent, so that the
    /// digits accumulate without overflow or bookkeeping. `nil` sends the text to `scan`.
    @inline(__always)
    static func quickScan(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Decimal? {
        var out = Decimal()
        var i = start
        guard i < end else { return nil }
        if base[i] == UInt8(ascii: "-") {
            out.negative = true
            i += 1
        }
        let first = i
        while i < end {
            let d = base[i] &- 48
            if d >= 10 { break }
            out.mantissa = out.mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        var digits = i - first
        if i < end, base[i] == UInt8(ascii: ".") {
            i += 1
            let fraction = i
            while i < end {
                let d = base[i] &- 48
                if d >= 10 { break }
                out.mantissa = out.mantissa &* 10 &+ UInt64(d)
                i += 1
            }
            out.exponent = fraction - i
            digits += i - fraction
        }
        guard i == end, digits > 0, digits <= 19 else { return nil }
        return out
    }

    /// Checks the syntax `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`, or
    /// `nan`, `inf`, `infinity` in any case with an optional sign.
    static func scan(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Decimal? {
        var out = Decimal()
        var i = start
        guard i < end else { return nil }
        if base[i] == UInt8(ascii: "-") {
            out.negative = true
            i += 1
        } else if base[i] == UInt8(ascii: "+") {
            i += 1
        }
        guard i < end else { return nil }
        var digits = 0
        var significant = 0
        var sawDigit = false
        while i < end {
            let d = base[i] &- 48
            if d >= 10 { break }
            sawDigit = true
            if significant < 19 {
                if significant > 0 || d != 0 {
                    out.mantissa = out.mantissa &* 10 &+ UInt64(d)
                    significant += 1
                }
            } else {
                out.exponent += 1
                if d != 0 { out.truncated = true }
            }
            digits += 1
            i += 1
        }
        if i < end, base[i] == UInt8(ascii: ".") {
            i += 1
            while i < end {
                let d = base[i] &- 48
                if d >= 10 { break }
                sawDigit = true
                if significant < 19 {
                    if significant > 0 || d != 0 {
                        out.mantissa = out.mantissa &* 10 &+ UInt64(d)
                        significant += 1
                    }
                    out.exponent -= 1
                } else if d != 0 {
                    out.truncated = true
                }
                i += 1
            }
        }
        if !sawDigit {
            let rest = end - i
            if rest == 3, CSVValue.matches(base, i, "nan") {
                out.special = .nan
            } else if rest == 3, CSVValue.matches(base, i, "inf") {
                out.special = out.negative ? -.infinity : .infinity
            } else if rest == 8, CSVValue.matches(base, i, "infinity") {
                out.special = out.negative ? -.infinity : .infinity
            } else {
                return nil
            }
            return out
        }
        if i < end, base[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < end, base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+") {
                expNegative = base[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < end else { return nil }
            var e = 0
            while i < end {
                let d = base[i] &- 48
                guard d < 10 else { return nil }
                if e < 100_000 { e = e * 10 + Int(d) }
                i += 1
            }
            out.exponent += expNegative ? -e : e
        }
        return i == end ? out : nil
    }

    /// The double nearest to the decimal text, or `nil` when it is not a number.
    @inline(__always)
    static func double(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        var s = start
        var e = end
        if s < e, base[s] == 32 || base[e - 1] == 32 { CSVValue.trim(base, &s, &e) }
        guard let d = quickScan(base, s, e) ?? scan(base, s, e) else { return nil }
        if let special = d.special { return special }
        if let fast = fastPath(d) { return fast }
        return slow(base, s, e) { strtod($0, nil) }
    }

    /// The float nearest to the decimal text, or `nil` when it is not a number.
    @inline(__always)
    static func float(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Float? {
        var s = start
        var e = end
        if s < e, base[s] == 32 || base[e - 1] == 32 { CSVValue.trim(base, &s, &e) }
        guard let d = quickScan(base, s, e) ?? scan(base, s, e) else { return nil }
        if let special = d.special { return Float(special) }
        if let fast = fastPath(d) {
            // Rounding the correctly rounded double to float is exact unless the double sits
            // exactly halfway between two floats (then the first rounding may have decided the
            // tie) or in the float subnormal range (other spacing): those go to strtof.
            let magnitude = abs(fast)
            if magnitude == 0
                || (magnitude >= Double(Float.leastNormalMagnitude)
                    && fast.bitPattern & 0x1FFF_FFFF != 0x1000_0000)
            {
                return Float(fast)
            }
        }
        return slow(base, s, e) { strtof($0, nil) }
    }

    @inline(__always)
    private static func fastPath(_ d: Decimal) -> Double? {
        guard !d.truncated, d.mantissa <= 1 << 53, d.exponent >= -22, d.exponent <= 22 else { return nil }
        let m = Double(d.mantissa)
        let value = d.exponent < 0 ? m / powers[-d.exponent] : m * powers[d.exponent]
        return d.negative ? -value : value
    }

    /// Copies the (already validated) text to a NUL-terminated buffer for the C parser.
    private static func slow<T>(
        _ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ parse: (UnsafePointer<CChar>) -> T
    ) -> T {
        let n = end - start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buffer in
            for k in 0..<n { buffer[k] = CChar(bitPattern: base[start + k]) }
            buffer[n] = 0
            // The buffer is non-empty (capacity n + 1 >= 1), so its base address exists.
            return parse(UnsafePointer(buffer.baseAddress.unsafelyUnwrapped))
        }
    }
}
