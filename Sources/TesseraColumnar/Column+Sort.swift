/// One key of a multi-column sort.
public struct SortKey: Sendable {
    public var column: Column
    public var descending: Bool
    /// Where nulls go; by default first when ascending (as SQL's `NULLS FIRST` for ASC in most engines).
    public var nullsFirst: Bool

    public init(_ column: Column, descending: Bool = false, nullsFirst: Bool = true) {
        self.column = column
        self.descending = descending
        self.nullsFirst = nullsFirst
    }
}

/// Stable multi-key sorting that returns a permutation, to be applied with `take`.
public enum Sorting {
    /// The row order that sorts by `keys` (first key most significant); ties keep input order.
    ///
    /// - Complexity: O(n log n) comparisons, each at most one per key.
    public static func indices(by keys: [SortKey]) -> [Int] {
        let count = keys.first?.column.count ?? 0
        var order = Array(0..<count)
        let comparators = keys.map(comparator)
        order.sort { a, b in
            for compare in comparators {
                let c = compare(a, b)
                if c != 0 { return c < 0 }
            }
            return a < b
        }
        return order
    }

    /// A three-way comparison of two rows of one key.
    static func comparator(_ key: SortKey) -> (Int, Int) -> Int {
        let column = key.column
        let sign = key.descending ? -1 : 1
        let nullSign = key.nullsFirst ? -1 : 1
        func values<T: Comparable>(_ v: [T]) -> (Int, Int) -> Int {
            { a, b in v[a] < v[b] ? -sign : (v[b] < v[a] ? sign : 0) }
        }
        // NaN compares false with everything, which is no ordering at all: sort it after
        // every number (as DuckDB and PostgreSQL do), all NaNs equal.
        func floats<T: BinaryFloatingPoint>(_ v: [T]) -> (Int, Int) -> Int {
            { a, b in
                let x = v[a]
                let y = v[b]
                if x < y { return -sign }
                if y < x { return sign }
                let xNaN = x.isNaN
                if xNaN == y.isNaN { return 0 }
                return xNaN ? sign : -sign
            }
        }
        let base: (Int, Int) -> Int
        switch column.data {
        case .bool(let v): base = { a, b in v[a] == v[b] ? 0 : (!v[a] ? -sign : sign) }
        case .int32(let v): base = values(v)
        case .int64(let v): base = values(v)
        case .float32(let v): base = floats(v)
        case .float64(let v): base = floats(v)
        case .binary(let v):
            base = { a, b in
                let x = v.bytes(at: a)
                let y = v.bytes(at: b)
                if x.lexicographicallyPrecedes(y) { return -sign }
                if y.lexicographicallyPrecedes(x) { return sign }
                return 0
            }
        case .list:
            base = { a, b in
                let x = column.value(at: a).description
                let y = column.value(at: b).description
                return x < y ? -sign : (y < x ? sign : 0)
            }
        }
        guard column.validity != nil else { return base }
        return { a, b in
            let va = column.isValid(a)
            let vb = column.isValid(b)
            if va && vb { return base(a, b) }
            if va == vb { return 0 }
            return va ? -nullSign : nullSign
        }
    }
}
