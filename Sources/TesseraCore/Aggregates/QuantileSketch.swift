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
        Int32(clamping: Int64((log(magnitude) / logGamma).rounded(.up)))
    }

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

    /// The value at quantile `q` (0 < q < 1): the representative of the bucket holding the
    /// value of rank `q·(n − 1)`; `nil` for an empty sketch.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = q * Double(count - 1)
        var seen: Int64 = 0
        func value(_ index: Int32) -> Double {
            2 * pow(QuantileSketch.gamma, Double(index)) / (QuantileSketch.gamma + 1)
        }
        for index in negative.keys.sorted(by: >) {
            seen += negative[index] ?? 0
            if Double(seen) > rank { return -value(index) }
        }
        seen += zeros
        if Double(seen) > rank { return 0 }
        for index in positive.keys.sorted() {
            seen += positive[index] ?? 0
            if Double(seen) > rank { return value(index) }
        }
        return positive.keys.max().map(value) ?? 0
    }
}
