import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// One aggregate function evaluated over a window's rows: the source rows of one key with
/// event time in the window, in the order `(event, created, arrival)`.
///
/// Every function's result depends only on the window's set of rows, never on the order
/// they were read in: sums are exact (`ExactSum`, rounded once), sketches merge
/// commutatively, and `first`/`last`/`last_n` break full ties of (event, created) by value.
/// That is what lets the online tiles, when they come, give the same bits.
struct WindowFunction: Sendable {
    let function: AggregateFunction
    /// The input column (`nil` for a bare `count`).
    let input: Column?

    /// The value over the rows at positions `range` of the input column (in window order),
    /// with their event and created times (for ties).
    func evaluate(event: UnsafeBufferPointer<Int64>, created: UnsafeBufferPointer<Int64>, range: Range<Int>)
        -> ScalarValue
    {
        guard let input else {
            // A bare count: every row.
            return .int64(Int64(range.count))
        }
        switch function {
        case .count:
            var n: Int64 = 0
            for p in range where input.isValid(p) { n += 1 }
            return .int64(n)
        case .sum: return sum(range)
        case .mean, .stddev, .variance:
            var moments = ExactMoments()
            forEachDouble(range) { moments.add($0) }
            switch function {
            case .mean: return moments.mean.map(ScalarValue.float64) ?? .null
            case .stddev: return moments.standardDeviation.map(ScalarValue.float64) ?? .null
            default: return moments.variance.map(ScalarValue.float64) ?? .null
            }
        case .min, .max:
            var best: ScalarValue?
            for p in range where input.isValid(p) {
                let value = input.value(at: p)
                if let held = best {
                    let order = WindowFunction.compare(value, held)
                    if function == .min ? order < 0 : order > 0 { best = value }
                } else {
                    best = value
                }
            }
            return best ?? .null
        case .first, .last:
            return pick(event: event, created: created, range: range, newest: function == .last, count: 1).first
                ?? .null
        case .lastN(let k):
            let values = pick(event: event, created: created, range: range, newest: true, count: k)
            return values.isEmpty ? .null : .list(values)
        case .approxCountDistinct:
            var sketch = HyperLogLog()
            var any = false
            for p in range where input.isValid(p) {
                sketch.add(hash: WindowFunction.hash(input, p))
                any = true
            }
            return any ? .int64(sketch.estimate) : .null
        case .approxPercentile(let q):
            var sketch = QuantileSketch()
            forEachDouble(range) { sketch.add($0) }
            return sketch.quantile(q).map(ScalarValue.float64) ?? .null
        }
    }

    /// Exact sums: integers in 128 bits (null if the total leaves int64), floats with `ExactSum`.
    private func sum(_ range: Range<Int>) -> ScalarValue {
        guard let input else { return .null }
        var any = false
        switch input.data {
        case .int64(let values):
            var total: Int128 = 0
            for p in range where input.isValid(p) {
                total += Int128(values[p])
                any = true
            }
            return any ? (Int64(exactly: total).map(ScalarValue.int64) ?? .null) : .null
        case .int32(let values):
            var total: Int128 = 0
            for p in range where input.isValid(p) {
                total += Int128(values[p])
                any = true
            }
            return any ? (Int64(exactly: total).map(ScalarValue.int64) ?? .null) : .null
        default:
            var total = ExactSum()
            forEachDouble(range) {
                total.add($0)
                any = true
            }
            return any ? .float64(total.value) : .null
        }
    }

    /// Calls `body` with each non-null value of a numeric input as a double.
    private func forEachDouble(_ range: Range<Int>, _ body: (Double) -> Void) {
        guard let input else { return }
        switch input.data {
        case .float64(let values): for p in range where input.isValid(p) { body(values[p]) }
        case .float32(let values): for p in range where input.isValid(p) { body(Double(values[p])) }
        case .int64(let values): for p in range where input.isValid(p) { body(Double(values[p])) }
        case .int32(let values): for p in range where input.isValid(p) { body(Double(values[p])) }
        default: break
        }
    }

    /// The `count` oldest (or newest) non-null values in window order, rows equal in event
    /// and created time ordered by value, so arrival order never decides.
    private func pick(
        event: UnsafeBufferPointer<Int64>, created: UnsafeBufferPointer<Int64>, range: Range<Int>, newest: Bool,
        count: Int
    ) -> [ScalarValue] {
        guard let input else { return [] }
        var out: [ScalarValue] = []
        var p = newest ? range.upperBound - 1 : range.lowerBound
        while out.count < count, range.contains(p) {
            // The group of rows tied with `p` on (event, created).
            var q = p
            while newest ? q - 1 >= range.lowerBound : q + 1 < range.upperBound {
                let next = newest ? q - 1 : q + 1
                // No created times (an empty buffer): ties are on the event time alone.
                guard event[next] == event[p], created.isEmpty || created[next] == created[p] else { break }
                q = next
            }
            let group = newest ? q...p : p...q
            var values = group.filter { input.isValid($0) }.map { input.value(at: $0) }
            if values.count > 1 {
                values.sort { WindowFunction.compare($0, $1) < 0 }
                if newest { values.reverse() }
            }
            for value in values where out.count < count { out.append(value) }
            p = newest ? q - 1 : q + 1
        }
        return out
    }

    /// The total order of floats for windows: NaN largest (as in SQL engines), -0.0 just
    /// below +0.0 (so min and max never depend on which came first), else by value.
    @inline(__always)
    static func compareDoubles(_ x: Double, _ y: Double) -> Int {
        if x.isNaN || y.isNaN { return x.isNaN ? (y.isNaN ? 0 : 1) : -1 }
        if x < y { return -1 }
        if x > y { return 1 }
        if x == 0 && x.sign != y.sign { return x.sign == .minus ? -1 : 1 }
        return 0
    }

    /// A total order on values of one type: numbers by value (floats by `compareDoubles`),
    /// strings and bytes by their bytes, false before true.
    static func compare(_ a: ScalarValue, _ b: ScalarValue) -> Int {
        func order<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        func doubles(_ x: Double, _ y: Double) -> Int { compareDoubles(x, y) }
        switch (a, b) {
        case (.int32(let x), .int32(let y)): return order(x, y)
        case (.int64(let x), .int64(let y)): return order(x, y)
        case (.float32(let x), .float32(let y)): return doubles(Double(x), Double(y))
        case (.float64(let x), .float64(let y)): return doubles(x, y)
        case (.timestamp(let x), .timestamp(let y)): return order(x.microseconds, y.microseconds)
        case (.bool(let x), .bool(let y)): return order(x ? 1 : 0, y ? 1 : 0)
        case (.string(let x), .string(let y)):
            return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8)) ? -1 : (x == y ? 0 : 1)
        case (.bytes(let x), .bytes(let y)):
            return x.lexicographicallyPrecedes(y) ? -1 : (x == y ? 0 : 1)
        default: return 0
        }
    }

    /// The sketch hash of one value (`ValueHash`).
    static func hash(_ column: Column, _ row: Int) -> UInt64 {
        switch column.data {
        case .int64(let v): return ValueHash.hash(int: v[row])
        case .int32(let v): return ValueHash.hash(int: Int64(v[row]))
        case .float64(let v): return ValueHash.hash(double: v[row])
        case .float32(let v): return ValueHash.hash(double: Double(v[row]))
        case .bool(let v): return ValueHash.hash(int: v[row] ? 1 : 0)
        case .binary(let data):
            let slice = data.bytes(at: row)
            return slice.withUnsafeBytes { ValueHash.hash(bytes: $0) }
        case .list: return 0
        }
    }
}
