#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Doubles as integer multiples of one power of two, `x = n · 2^exponent`, so that the sum
/// of any subset is an integer sum: exact, independent of order and grouping, and rounded
/// once when read, to the same double as `ExactSum` gives for the same values.
///
/// A scale exists when the values' binary exponents span few enough bits that every value
/// fits the integer with room for 2^40 terms; data of similar magnitudes (prices, counts,
/// rates) always fit, and the callers fall back to `ExactSum` when they do not.
public struct FixedPointScale: Sendable, Hashable {
    /// value = integer × 2^exponent.
    public let exponent: Int
    /// Whether every integer fits 64 bits (else 128).
    public let fitsInt64: Bool

    /// The two halves of a finite double: a signed integer significand and its exponent.
    @inlinable
    static func parts(_ x: Double) -> (significand: Int64, exponent: Int) {
        let biased = Int(x.exponentBitPattern)
        let bits = Int64(x.significandBitPattern)
        let m = biased == 0 ? bits : bits | (1 << 52)
        return (x.sign == .minus ? -m : m, biased == 0 ? -1074 : biased - 1075)
    }

    /// The scale for the values `valid` marks in `values`, or `nil` when some value is not
    /// finite or the exponents span too wide a range.
    public static func fitting(_ values: UnsafeBufferPointer<Double>, valid: UnsafeBufferPointer<Bool>) -> Self? {
        var fitter = Fitter()
        for i in values.indices where valid[i] { fitter.add(values[i]) }
        return fitter.scale
    }

    /// Finds the scale of values seen one at a time: `fitting`'s rule, for callers that
    /// read values in place (a state's bytes) rather than from a buffer.
    public struct Fitter {
        @usableFromInline var low = Int.max
        @usableFromInline var high = Int.min
        @usableFromInline var finite = true

        public init() {}

        @inlinable
        public mutating func add(_ x: Double) {
            guard x.isFinite else {
                finite = false
                return
            }
            if x == 0 { return }
            // Trailing zeros of the significand widen no sum: drop them from the span.
            let (m, e) = FixedPointScale.parts(x)
            low = Swift.min(low, e + m.trailingZeroBitCount)
            high = Swift.max(high, e + 53)
        }

        /// The scale, or `nil` when a value was not finite or the exponents span too wide.
        public var scale: FixedPointScale? {
            guard finite else { return nil }
            if low == Int.max { return FixedPointScale(exponent: 0, fitsInt64: true) }
            // Subnormal results would round twice on the way back: leave those to ExactSum.
            guard low > -1000, high - low <= 86 else { return nil }
            return FixedPointScale(exponent: low, fitsInt64: high - low <= 62)
        }
    }

    /// `x` as an integer of this scale (x must be one of the values the scale was fitted to).
    @inlinable
    public func integer(_ x: Double) -> Int128 {
        if x == 0 { return 0 }
        let (m, e) = FixedPointScale.parts(x)
        return Int128(m) << (e - exponent)
    }

    /// `x` as a 64-bit integer of this scale (when `fitsInt64`).
    @inline(__always)
    public func integer64(_ x: Double) -> Int64 {
        if x == 0 { return 0 }
        let (m, e) = FixedPointScale.parts(x)
        return m << (e - exponent)
    }

    /// A 64-bit sum of integers of this scale as the nearest double.
    @inline(__always)
    public func double(_ sum: Int64) -> Double { scalbn(Double(sum), exponent) }

    /// A sum of integers of this scale as the nearest double (ties to even).
    @inline(__always)
    public func double(_ sum: Int128) -> Double {
        // Rounded once to nearest; the power of two is then exact.
        scalbn(FixedPointScale.nearest(sum), exponent)
    }

    /// `value` rounded once to the nearest double (ties to even). Values that fit 64 bits
    /// take the hardware conversion (the same rounding): the standard library's 128-bit
    /// conversion is generic and an order of magnitude slower (9% of a lookup).
    @inline(__always)
    public static func nearest(_ value: Int128) -> Double {
        if let small = Int64(exactly: value) { return Double(small) }
        return Double(value)
    }
}
