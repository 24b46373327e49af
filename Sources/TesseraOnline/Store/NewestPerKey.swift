import TesseraCore

/// Picks, per entity key of a batch, the row that wins by the store's rule.
package enum NewestPerKey {
    /// Row indices, one per distinct key, sorted by key: for each key the row with the
    /// greatest (event, created), the later row on a tie.
    ///
    /// Sorting by key also makes the inserts that follow append-mostly in the B-tree.
    /// - Complexity: O(n log n); O(n) when the rows are already in key order.
    package static func select(keys: EncodedKeys, events: [Int64], created: [Int64]?) -> [Int] {
        let n = keys.count
        if n == 1 { return [0] }
        var order = Array(0..<n)
        if keys.isInteger {
            // Every key is 8 bytes (an integer key): compare them as big-endian words.
            var words = [UInt64](repeating: 0, count: n)
            keys.bytes.withUnsafeBytes { raw in
                for i in 0..<n {
                    words[i] = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                }
            }
            var entries = (0..<n).map {
                Entry(key: words[$0], event: events[$0], created: created?[$0] ?? .min, row: $0)
            }
            entries.sort()
            var result: [Int] = []
            result.reserveCapacity(n)
            for i in 0..<n where i == n - 1 || entries[i + 1].key != entries[i].key { result.append(entries[i].row) }
            return result
        }
        keys.bytes.withUnsafeBufferPointer { bytes in
            func key(_ row: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: bytes[keys.offsets[row]..<keys.offsets[row + 1]])
            }
            order.sort { a, b in
                let ka = key(a)
                let kb = key(b)
                if !ka.elementsEqual(kb) { return ka.lexicographicallyPrecedes(kb) }
                let ca = created?[a] ?? .min
                let cb = created?[b] ?? .min
                return LatestWins.precedes((events[a], ca, a), (events[b], cb, b))
            }
        }
        var result: [Int] = []
        result.reserveCapacity(n)
        for i in 0..<n {
            let row = order[i]
            if i == n - 1 {
                result.append(row)
                break
            }
            let next = order[i + 1]
            if keys.bytes[keys.offsets[row]..<keys.offsets[row + 1]]
                != keys.bytes[keys.offsets[next]..<keys.offsets[next + 1]]
            {
                result.append(row)
            }
        }
        return result
    }

    struct Entry: Comparable {
        var key: UInt64
        var event: Int64
        var created: Int64
        var row: Int

        static func < (a: Entry, b: Entry) -> Bool {
            a.key != b.key
                ? a.key < b.key : LatestWins.precedes((a.event, a.created, a.row), (b.event, b.created, b.row))
        }
    }
}
