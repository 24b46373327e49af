import TesseraColumnar
import TesseraOnline
import TesseraTesting
import Testing

/// Grouping rows by key (what materializing aggregation state does first) against a
/// dictionary: keys in order of first appearance, each key's rows ascending, every row once.
@Suite struct EncodedKeysTests {
    @Test(arguments: [1, 7, 600, 5_000, 70_000])
    func groupedRowsEqualADictionaryGrouping(distinct: Int) throws {
        var rng = SplitMixRNG(seed: UInt64(distinct))
        let rows = 3 * distinct + 11
        // Keys spread over the whole int64 range and near each other, negatives included.
        let pool = (0..<distinct).map { i -> Int64 in
            i % 2 == 0 ? Int64(bitPattern: rng.next()) : Int64(i) - Int64(distinct / 2)
        }
        let values = (0..<rows).map { _ in pool[rng.below(distinct)] }
        let (keys, grouped, starts) = try EncodedKeys(columns: [.int64(values)], rows: rows).grouped()
        var firstSeen: [Int64] = []
        var byKey: [Int64: [Int]] = [:]
        for (row, value) in values.enumerated() {
            if byKey[value] == nil { firstSeen.append(value) }
            byKey[value, default: []].append(row)
        }
        #expect(keys == firstSeen.map { EntityKey(int64: $0) })
        #expect(starts.count == keys.count + 1)
        for (i, value) in firstSeen.enumerated() {
            #expect(Array(grouped[starts[i]..<starts[i + 1]]) == byKey[value])
        }
    }
}
