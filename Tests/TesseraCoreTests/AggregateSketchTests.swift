import Foundation
import PropertyBased
import TesseraCore
import Testing

/// The pieces window aggregations are built from: sums that are exact whatever the order,
/// and sketches whose answers depend only on the set of values, however it was assembled.
@Suite struct AggregateSketchTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
        /// Doubles of varied signs and magnitudes, some with few significant bits, some zeros.
        mutating func double(span: Int) -> Double {
            switch below(8) {
            case 0: return 0
            case 1: return -0.0
            case 2: return Double(below(1000)) / 100
            default:
                let mantissa = Double(next() >> 11) / Double(1 << 53)
                let value = (1 + mantissa) * pow(2, Double(below(2 * span + 1) - span))
                return next() & 1 == 0 ? value : -value
            }
        }
    }

    /// A variance over a window holding an infinity or NaN is NaN, as DuckDB's `var_samp` gives.
    @Test func varianceOfNonFiniteValuesIsNaN() {
        for values in [[1, Double.infinity], [1, 2, -.infinity], [.nan, 3], [.infinity, -.infinity]] {
            var moments = ExactMoments()
            for value in values { moments.add(value) }
            #expect(moments.variance?.isNaN == true, "\(values)")
            #expect(moments.standardDeviation?.isNaN == true, "\(values)")
        }
        var finite = ExactMoments()
        for value in [1.0, 2, 4] { finite.add(value) }
        #expect(finite.variance == 7.0 / 3.0)
        var one = ExactMoments()
        one.add(.infinity)
        #expect(one.variance == nil, "below two values there is no variance")
    }

    /// ExactSum is the correctly rounded sum, whatever the order: checked against sums of
    /// integers scaled by a power of two, and across shuffles and groupings.
    @Test func exactSumDoesNotDependOnOrderOrGrouping() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = Rng(state: UInt64(seed))
            let span = [2, 20, 300][rng.below(3)]
            let values = (0..<rng.below(60)).map { _ in rng.double(span: span) }
            var forward = ExactSum()
            for v in values { forward.add(v) }
            var shuffled = values
            for i in shuffled.indices.reversed() { shuffled.swapAt(i, rng.below(i + 1)) }
            var backward = ExactSum()
            var left = ExactSum()
            var right = ExactSum()
            let cut = rng.below(values.count + 1)
            for (i, v) in shuffled.enumerated() {
                backward.add(v)
                if i < cut { left.add(v) } else { right.add(v) }
            }
            left.add(right)
            #expect(forward.value.bitPattern == backward.value.bitPattern, "seed \(seed)")
            #expect(forward.value.bitPattern == left.value.bitPattern, "seed \(seed)")
            // Removing what was added gives exactly zero.
            var undone = forward
            for v in values { undone.add(-v) }
            #expect(undone.value == 0)
        }
    }

    /// The fixed-point sum rounds to the same double as ExactSum, for every subset.
    @Test func fixedPointSumsEqualExactSums() async {
        await propertyCheck(count: 400, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = Rng(state: UInt64(seed))
            let span = [1, 4, 10, 15][rng.below(4)]
            let values = (0..<(1 + rng.below(80))).map { _ in rng.double(span: span) }
            let valid = values.map { _ in rng.below(10) != 0 }
            let scale = values.withUnsafeBufferPointer { v in
                valid.withUnsafeBufferPointer { FixedPointScale.fitting(v, valid: $0) }
            }
            guard let scale else {
                Issue.record("seed \(seed): no scale for exponents within \(span) of each other")
                return
            }
            for _ in 0..<5 {
                let lo = rng.below(values.count)
                let hi = lo + rng.below(values.count - lo + 1)
                var exact = ExactSum()
                var fixed: Int128 = 0
                for i in lo..<hi where valid[i] {
                    exact.add(values[i])
                    fixed += scale.integer(values[i])
                }
                #expect(scale.double(fixed).bitPattern == exact.value.bitPattern, "seed \(seed) \(lo)..<\(hi)")
            }
        }
        // Magnitudes too far apart for 128 bits: no scale, callers use ExactSum.
        let wide = [1e-200, 1e200]
        let none = wide.withUnsafeBufferPointer { v in
            [true, true].withUnsafeBufferPointer { FixedPointScale.fitting(v, valid: $0) }
        }
        #expect(none == nil)
    }

    /// A percentile from value keys equals the sketch's, and a sketch merged from parts
    /// equals one built at once; both are within 1% of the value of rank ⌊q·(n − 1)⌋.
    @Test func quantilesDependOnlyOnTheValues() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = Rng(state: UInt64(seed))
            let values = (0..<(1 + rng.below(200))).map { _ in rng.double(span: 12) }
            let q = [0.01, 0.5, 0.9, 0.99][rng.below(4)]
            var whole = QuantileSketch()
            var a = QuantileSketch()
            var b = QuantileSketch()
            for (i, v) in values.enumerated() {
                whole.add(v)
                if i % 3 == 0 { a.add(v) } else { b.add(v) }
            }
            a.add(b)
            var keys = values.compactMap(QuantileSketch.key)
            let fromKeys = keys.withUnsafeMutableBufferPointer { QuantileSketch.quantile(q, keys: $0) }
            #expect(whole.quantile(q)?.bitPattern == a.quantile(q)?.bitPattern)
            #expect(whole.quantile(q)?.bitPattern == fromKeys?.bitPattern, "seed \(seed)")
            let sorted = values.sorted()
            let truth = sorted[QuantileSketch.rank(q, count: sorted.count)]
            if let estimate = whole.quantile(q) {
                #expect(abs(estimate - truth) <= 0.01 * abs(truth) + 1e-300, "seed \(seed): \(estimate) vs \(truth)")
            }
        }
    }

    /// Infinities have buckets past every finite value's, read back as infinities: a
    /// percentile over them neither traps nor mixes them with the largest finite values.
    @Test func infinitiesHaveTheirOwnBuckets() {
        var sketch = QuantileSketch()
        for value in [1.0, .greatestFiniteMagnitude, .infinity, -.infinity, .infinity] { sketch.add(value) }
        #expect(sketch.quantile(0.01) == -.infinity)
        #expect(sketch.quantile(0.99) == .infinity)
        let largest = QuantileSketch.key(.greatestFiniteMagnitude) ?? 0
        #expect(QuantileSketch.key(.infinity).map { $0 > largest } == true)
        var keys = [1.0, .infinity, .infinity].compactMap(QuantileSketch.key)
        #expect(keys.withUnsafeMutableBufferPointer { QuantileSketch.quantile(0.5, keys: $0) } == .infinity)
    }

    /// The distinct-count estimate depends only on the registers, whatever order set them,
    /// is exact for small sets, and within 3 standard errors (2.4%) for large ones.
    @Test func distinctCountsDependOnlyOnTheSet() {
        var rng = Rng(state: 7)
        for n in [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] {
            let values = (0..<n).map { _ in Int64(bitPattern: rng.next()) }
            var forward = HyperLogLog()
            var backward = HyperLogLog()
            for v in values { forward.add(hash: ValueHash.hash(int: v)) }
            for v in values.reversed() { backward.add(hash: ValueHash.hash(int: v)) }
            // Duplicates change nothing.
            for v in values.prefix(100) { backward.add(hash: ValueHash.hash(int: v)) }
            #expect(forward.estimate == backward.estimate)
            var best: [UInt16: UInt8] = [:]
            for v in values {
                let (index, rank) = HyperLogLog.register(ValueHash.hash(int: v))
                best[index] = max(best[index] ?? 0, rank)
            }
            #expect(HyperLogLog.estimate(ranks: best.values.shuffled()) == forward.estimate)
            let error = abs(Double(forward.estimate) - Double(n)) / Double(n)
            if n <= 100 {
                #expect(abs(forward.estimate - Int64(n)) <= 1, "n \(n): \(forward.estimate)")
            } else {
                #expect(error <= 0.024, "n \(n): \(forward.estimate)")
            }
        }
        // Equal values of different widths hash alike; -0.0 and 0.0 too.
        #expect(ValueHash.hash(double: -0.0) == ValueHash.hash(double: 0.0))
        #expect(ValueHash.hash(double: .nan) == ValueHash.hash(double: -.nan))
    }
}

@Suite struct SmallSortTests {
    /// Selecting a rank gives the element a sort puts there, for any size, duplicates and rank.
    @Test func selectGivesTheSortedElementAtTheRank() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = AggregateSketchTests.Rng(state: UInt64(seed))
            let n = 1 + rng.below(rng.below(2) == 0 ? 32 : 300)
            let spread = [2, 10, 1_000_000][rng.below(3)]
            var values = (0..<n).map { _ in Int32(rng.below(spread)) - Int32(spread / 2) }
            let sorted = values.sorted()
            let rank = rng.below(n)
            let selected = values.withUnsafeMutableBufferPointer { SmallSort.select($0, rank: rank) }
            #expect(selected == sorted[rank], "seed \(seed)")
            #expect(values.sorted() == sorted, "select must only reorder: seed \(seed)")
        }
    }
}
