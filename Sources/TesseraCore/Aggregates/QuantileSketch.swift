#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Approximate quantiles with relative accuracy 1% (a DDSketch): each value falls in the
/// logarithmic bucket `⌈log_γ |x|⌉`, γ = 1.01/0.99, kept apart for negatives and zero.
///
/// Buckets merge by adding counts, and a quantile is read by walking the buckets in value
/// order, so a sketch built from raw events or from merged tiles, online or offline, gives
/// the same value to the bit.
public struct QuantileSketch: Sendable, Hashable {
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)

    /// Bucket index → count, for positive values and (by magnitude) negative ones.
    public private(set) var positive: [Int32: Int64] = [:]
    public private(set) var negative: [Int32: Int64] = [:]
    public private(set) var zeros: Int64 = 0
    public private(set) var count: Int64 = 0

    public init() {}

    @inline(__always)
    static func bucket(_ magnitude: Double) -> Int32 {
        // An infinity gets the bucket past the largest double's (about 35,500), whose
        // representative is infinite too; converting log(∞) to an integer would trap.
        guard magnitude.isFinite else { return infiniteBucket }
        return Int32(clamping: Int64((log(magnitude) / logGamma).rounded(.up)))
    }

    static let infiniteBucket: Int32 = 40_000

    /// Adds a value (NaN is ignored: it has no place in an order).
    public mutating func add(_ value: Double) {
        guard !value.isNaN else { return }
        count += 1
        if value == 0 || abs(value) < 1e-300 {
            zeros += 1
        } else if value > 0 {
            positive[QuantileSketch.bucket(value), default: 0] += 1
        } else {
            negative[QuantileSketch.bucket(-value), default: 0] += 1
        }
    }

    public mutating func add(_ other: QuantileSketch) {
        count += other.count
        zeros += other.zeros
        for (index, n) in other.positive { positive[index, default: 0] += n }
        for (index, n) in other.negative { negative[index, default: 0] += n }
    }

    public mutating func removeAll() {
        positive.removeAll(keepingCapacity: true)
        negative.removeAll(keepingCapacity: true)
        zeros = 0
        count = 0
    }

    /// The bucket of a value as one order key: negatives (by magnitude, reversed), zero,
    /// positives, so that sorting keys sorts the values' buckets; `nil` for NaN.
    @inline(__always)
    public static func key(_ value: Double) -> Int32? {
        if value.isNaN { return nil }
        if value == 0 || abs(value) < 1e-300 { return 0 }
        // |log_γ x| stays below 40,000 for every double, far inside the offset.
        return value > 0 ? 1_000_000 + bucket(value) : -1_000_000 - bucket(-value)
    }

    /// The value a bucket's key stands for: `±2γ^i/(γ+1)`, within 1% of every value in it.
    public static func representative(key: Int32) -> Double {
        if key == 0 { return 0 }
        let index = key > 0 ? key - 1_000_000 : -1_000_000 - key
        let value = 2 * pow(gamma, Double(index)) / (gamma + 1)
        return key > 0 ? value : -value
    }

    /// The 0-based rank of the value at quantile `q` among `count` values: ⌊q·(n − 1)⌋.
    @inline(__always)
    public static func rank(_ q: Double, count: Int) -> Int {
        min(count - 1, max(0, Int((q * Double(count - 1)).rounded(.down))))
    }

    /// The value at quantile `q` (0 < q < 1): the representative of the bucket holding the
    /// value of rank ⌊q·(n − 1)⌋; `nil` for an empty sketch.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = QuantileSketch.rank(q, count: Int(count))
        var seen: Int64 = 0
        for index in negative.keys.sorted(by: >) {
            seen += negative[index] ?? 0
            if seen > rank { return QuantileSketch.representative(key: -1_000_000 - index) }
        }
        seen += zeros
        if seen > rank { return 0 }
        for index in positive.keys.sorted() {
            seen += positive[index] ?? 0
            if seen > rank { return QuantileSketch.representative(key: 1_000_000 + index) }
        }
        return positive.keys.max().map { QuantileSketch.representative(key: 1_000_000 + $0) } ?? 0
    }

    /// The value at quantile `q` of the values whose keys are `keys` (any order; sorted in
    /// place): the same as a sketch of those values would answer, without building one.
    public static func quantile(_ q: Double, keys: UnsafeMutableBufferPointer<Int32>) -> Double? {
        guard !keys.isEmpty else { return nil }
        return representative(key: SmallSort.select(keys, rank: rank(q, count: keys.count)))
    }
}
