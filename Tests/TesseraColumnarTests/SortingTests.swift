import PropertyBased
import TesseraColumnar
import TesseraCore
import Testing

@Suite("Sorting.indices")
struct SortingTests {
    /// The reference order of two values of one key, as `SortKey` documents it: nulls first or
    /// last regardless of direction; NaN after every number; direction flips the rest.
    static func compare(_ x: ScalarValue, _ y: ScalarValue, _ key: SortKey) -> Int {
        switch (x.isNull, y.isNull) {
        case (true, true): return 0
        case (true, false): return key.nullsFirst ? -1 : 1
        case (false, true): return key.nullsFirst ? 1 : -1
        default: break
        }
        let sign = key.descending ? -1 : 1
        switch (x, y) {
        case (.int64(let a), .int64(let b)): return a < b ? -sign : (a > b ? sign : 0)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (!a ? -sign : sign)
        case (.string(let a), .string(let b)):
            return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) ? -sign : (a == b ? 0 : sign)
        case (.float64(let a), .float64(let b)):
            if a.isNaN || b.isNaN { return a.isNaN == b.isNaN ? 0 : (a.isNaN ? sign : -sign) }
            return a < b ? -sign : (a > b ? sign : 0)
        default: return 0
        }
    }

    /// A plain stable insertion sort of row numbers: the oracle.
    static func naive(_ keys: [SortKey]) -> [Int] {
        let rows = keys.first?.column.count ?? 0
        let values = keys.map(\.column.values)
        var order: [Int] = []
        for row in 0..<rows {
            var position = order.count
            while position > 0 {
                let other = order[position - 1]
                var c = 0
                for (k, key) in keys.enumerated() where c == 0 { c = compare(values[k][other], values[k][row], key) }
                if c <= 0 { break }
                position -= 1
            }
            order.insert(row, at: position)
        }
        return order
    }

    @Test func multiKeyOrderMatchesAStableInsertionSort() async {
        let keyGen = Gen.int(in: 0...3)
        await propertyCheck(
            count: 400, input: Gen.int(in: 0...40), Gen.int(in: 1...3), keyGen.array(of: 3), Gen.bool.array(of: 6)
        ) {
            rows, keyCount, kinds, flags in
            var rng = Sample.rng(Int(UInt64(rows * 7 + keyCount)))
            let keys: [SortKey] = (0..<keyCount).map { k in
                let values: [ScalarValue] = (0..<rows).map { _ in
                    if Int.random(in: 0..<5, using: &rng) == 0 { return .null }
                    switch kinds[k] {
                    case 0: return .int64(Int64.random(in: -2...2, using: &rng))
                    case 1: return .string(["", "a", "ab", "b", "é"].randomElement(using: &rng) ?? "")
                    case 2: return .float64([.nan, -1, 0, 2.5, .infinity, -.infinity].randomElement(using: &rng) ?? 0)
                    default: return .bool(Bool.random(using: &rng))
                    }
                }
                let type: ValueType = [.int64, .string, .float64, .bool][kinds[k]]
                return SortKey(Sample.column(type, values), descending: flags[k * 2], nullsFirst: flags[k * 2 + 1])
            }
            #expect(Sorting.indices(by: keys) == Self.naive(keys))
        }
    }

    @Test func equalKeysKeepInputOrder() {
        let key = SortKey(.int64([2, 1, 2, 1, 2]))
        #expect(Sorting.indices(by: [key]) == [1, 3, 0, 2, 4])
        #expect(Sorting.indices(by: [SortKey(.int64([2, 1, 2, 1, 2]), descending: true)]) == [0, 2, 4, 1, 3])
    }

    @Test func nullsAndNaN() {
        let column = Column.float64([1, .nan, 0, 5], validity: Bitmap([true, true, false, true]))
        #expect(Sorting.indices(by: [SortKey(column)]) == [2, 0, 3, 1])
        #expect(Sorting.indices(by: [SortKey(column, nullsFirst: false)]) == [0, 3, 1, 2])
        #expect(Sorting.indices(by: [SortKey(column, descending: true, nullsFirst: false)]) == [1, 3, 0, 2])
    }

    @Test func timestampsThenCreatedDescending() {
        // The point-in-time join's order: by entity, event time, then greatest `created` first.
        let ids = Column.int64([7, 7, 3, 7])
        let events = Column.timestamp([10, 10, 50, 5])
        let created = Column.timestamp([1, 3, 0, 9])
        let order = Sorting.indices(by: [SortKey(ids), SortKey(events), SortKey(created, descending: true)])
        #expect(order == [2, 3, 1, 0])
    }
}
