#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The exact sum of doubles, rounded once at the end (Shewchuk's algorithm, as Python's
/// `math.fsum`): the result does not depend on the order the values were added in, nor on
/// how they were grouped, so window sums computed from raw events, from partial sums of
/// time tiles, offline or online, are the same to the bit.
public struct ExactSum: Sendable, Hashable {
    /// Non-overlapping partial sums, by increasing magnitude; their exact sum is the total.
    public private(set) var partials: [Double] = []
    /// Infinities and NaNs are kept apart (their IEEE sum), so partials stay finite.
    private var special: Double = 0

    public init() {}

    public init(partials: [Double]) {
        for value in partials { add(value) }
    }

    /// A sum restored from what `partials` and `specialPart` held (a stored running sum):
    /// the partials are taken as they are, so restoring and adding go on where they left off.
    public init(restoring partials: [Double], special: Double) {
        self.partials = partials
        self.special = special
    }

    /// The IEEE sum of the infinities and NaNs added (0 when every value was finite).
    public var specialPart: Double { special }

    /// Adds `value` exactly.
    public mutating func add(_ value: Double) {
        guard value.isFinite else {
            special += value
            return
        }
        // Zeros change no sum; skipping them also makes the sum of -0.0s +0.0, as a
        // fixed-point accumulation of the same values gives.
        if value == 0 { return }
        var x = value
        var kept = 0
        for index in partials.indices {
            var y = partials[index]
            if abs(x) < abs(y) { swap(&x, &y) }
            let hi = x + y
            let lo = y - (hi - x)
            if lo != 0 {
                partials[kept] = lo
                kept += 1
            }
            x = hi
        }
        partials.removeSubrange(kept...)
        if x.isFinite {
            partials.append(x)
        } else {
            // The finite partials overflowed: no double holds the total.
            special += x
        }
    }

    /// Adds another exact sum, exactly.
    public mutating func add(_ other: ExactSum) {
        for value in other.partials { add(value) }
        special += other.special
    }

    /// Adds the exact product `a × b` (as its two halves: a rounded product and its error).
    public mutating func addProduct(_ a: Double, _ b: Double) {
        let product = a * b
        guard product.isFinite else {
            add(product)
            return
        }
        add(product)
        add(fma(a, b, -product))
    }

    /// Adds `value × 2^exponent` exactly (a remote engine's exact integer sum at a binary
    /// scale): as 32-bit pieces, each of which a double holds exactly at any exponent from
    /// −1074 up (above the largest double the piece is infinite, as the total then is).
    public mutating func add(_ value: Int128, exponent: Int) {
        var rest = value.magnitude
        var scale = exponent
        let sign: FloatingPointSign = value < 0 ? .minus : .plus
        while rest != 0 {
            let piece = Double(UInt32(truncatingIfNeeded: rest))
            if piece != 0 { add(Double(sign: sign, exponent: scale, significand: piece)) }
            rest >>= 32
            scale += 32
        }
    }

    public mutating func removeAll() {
        partials.removeAll(keepingCapacity: true)
        special = 0
    }

    /// Whether every value added was finite (and the finite total did not overflow).
    public var isFinite: Bool { special == 0 }

    /// The exact total rounded to the nearest double (ties to even).
    public var value: Double {
        if special != 0 || special.isNaN { return special + (partials.last ?? 0) }
        var n = partials.count
        guard n > 0 else { return 0 }
        n -= 1
        var hi = partials[n]
        var lo = 0.0
        while n > 0 {
            let x = hi
            let y = partials[n - 1]
            n -= 1
            hi = x + y
            let yr = hi - x
            lo = y - yr
            if lo != 0 { break }
        }
        // Round half-even across more than two partials.
        if n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0)) {
            let y = lo * 2
            let x = hi + y
            let yr = x - hi
            if y == yr { hi = x }
        }
        return hi
    }
}

/// The running statistics of a set of doubles — count, exact Σx and exact Σx² — from which
/// mean, sample variance and standard deviation follow the same way whatever order or
/// grouping built them (so tiles merged online equal a scan offline, to the bit).
public struct ExactMoments: Sendable, Hashable {
    public private(set) var count: Int = 0
    public private(set) var sum = ExactSum()
    public private(set) var squares = ExactSum()

    public init() {}

    /// The statistics of `count` values whose exact sums are `sum` and `squares`.
    public init(count: Int, sum: ExactSum, squares: ExactSum) {
        self.count = count
        self.sum = sum
        self.squares = squares
    }

    public mutating func add(_ value: Double) {
        count += 1
        sum.add(value)
        squares.addProduct(value, value)
    }

    public mutating func add(_ other: ExactMoments) {
        count += other.count
        sum.add(other.sum)
        squares.add(other.squares)
    }

    public mutating func removeAll() {
        count = 0
        sum.removeAll()
        squares.removeAll()
    }

    /// Σx / n, or `nil` for no values.
    public var mean: Double? { count == 0 ? nil : sum.value / Double(count) }

    /// The sample variance (n − 1), or `nil` for fewer than two values: `(nΣx² − (Σx)²)`
    /// computed exactly, rounded once, divided by `n(n − 1)`.
    public var variance: Double? {
        guard count >= 2 else { return nil }
        // An infinity or NaN among the values makes the variance NaN (IEEE: ∞ − ∞), as SQL
        // engines give it; the partials alone would ignore them.
        guard sum.isFinite else { return .nan }
        var numerator = ExactSum()
        let n = Double(count)
        for part in squares.partials { numerator.addProduct(part, n) }
        let s = sum.partials
        for i in s.indices {
            for j in s.indices { numerator.addProduct(-s[i], s[j]) }
        }
        let exact = numerator.value
        // Rounding can leave a tiny negative for equal values; a variance is never negative.
        return max(0, exact) / (n * (n - 1))
    }

    public var standardDeviation: Double? { variance.map { $0.squareRoot() } }
}
