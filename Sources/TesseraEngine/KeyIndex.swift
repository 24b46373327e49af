import TesseraColumnar
import TesseraCore

/// Dense ids for the distinct join-key tuples of one side of a join, and lookups from the other side.
///
/// Built over the entity rows (the smaller, "build" side); feature rows probe it.
/// A row whose key has a null gets no group (`-1`): a null key matches nothing.
public struct KeyIndex: Sendable {
    /// The group of each build row, or -1 when its key has a null.
    public let groupOfRow: [Int32]
    /// The number of distinct non-null key tuples.
    public let groupCount: Int

    private let keys: [Column]
    private let slots: [Int32]
    private let mask: Int
    /// Per group: the key hash and one build row holding that key.
    private let groupHash: [UInt64]
    private let groupRow: [Int]
    /// Interleaved (key, group + 1) slots for a single int64 key; 0 marks an empty slot.
    private let int64Table: [Int64]?
    /// For a single int64 key over a dense range: the group of key `perfectBase + i` at `i` (-1: none).
    /// Probing it is one access to a small array instead of a hash and a wide table.
    private let perfect: [Int32]?
    private let perfectBase: Int64

    /// Indexes the key tuples of `keys` (equal-length columns, one per join key).
    ///
    /// - Complexity: O(rows), one hash and at most a few comparisons per row.
    public init(keys: [Column]) {
        self.keys = keys
        let rows = keys.first?.count ?? 0
        var capacity = 16
        while capacity < rows * 2 { capacity <<= 1 }
        // The generic path's slot table; the int64 paths keep their own tables.
        var slots: [Int32] = []
        let mask = capacity - 1
        var groupOfRow = [Int32](repeating: -1, count: rows)
        var groupHash: [UInt64] = []
        var groupRow: [Int] = []
        let nullable = keys.contains { $0.validity != nil }

        if keys.count == 1, case .int64(let values) = keys[0].data,
            let range = KeyIndex.denseRange(values, column: keys[0], rows: rows)
        {
            var table = [Int32](repeating: -1, count: Int(range.upperBound - range.lowerBound) + 1)
            var count: Int32 = 0
            values.withUnsafeBufferPointer { v in
                table.withUnsafeMutableBufferPointer { t in
                    for row in 0..<rows {
                        if nullable && !keys[0].isValid(row) { continue }
                        let slot = Int(v[row] &- range.lowerBound)
                        if t[slot] < 0 {
                            t[slot] = count
                            groupRow.append(row)
                            count += 1
                        }
                        groupOfRow[row] = t[slot]
                    }
                }
            }
            self.perfect = table
            self.perfectBase = range.lowerBound
            self.int64Table = nil
            self.groupHash = []
        } else if keys.count == 1, case .int64(let values) = keys[0].data {
            // Keys live in the slot table itself (key, group) so a probe touches one cache line.
            var table = [Int64](repeating: 0, count: capacity * 2)
            var count: Int32 = 0
            values.withUnsafeBufferPointer { v in
                table.withUnsafeMutableBufferPointer { t in
                    for row in 0..<rows {
                        if nullable && !keys[0].isValid(row) { continue }
                        let key = v[row]
                        var slot = Int(truncatingIfNeeded: KeyHash.mix(UInt64(bitPattern: key))) & mask
                        while true {
                            let group = t[slot * 2 + 1]
                            if group == 0 {
                                count += 1
                                t[slot * 2] = key
                                t[slot * 2 + 1] = Int64(count)  // groups are stored +1 so 0 means empty
                                groupRow.append(row)
                                groupOfRow[row] = count - 1
                                break
                            }
                            if t[slot * 2] == key {
                                groupOfRow[row] = Int32(group - 1)
                                break
                            }
                            slot = (slot + 1) & mask
                        }
                    }
                }
            }
            self.int64Table = table
            self.perfect = nil
            self.perfectBase = 0
            self.groupHash = []
        } else {
            slots = [Int32](repeating: -1, count: capacity)
            let hashes = KeyHash.rows(keys)
            let equal = RowEquality(keys, keys)
            for row in 0..<rows {
                if nullable && keys.contains(where: { !$0.isValid(row) }) { continue }
                let hash = hashes[row]
                var slot = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let group = slots[slot]
                    if group < 0 {
                        let id = Int32(groupRow.count)
                        slots[slot] = id
                        groupHash.append(hash)
                        groupRow.append(row)
                        groupOfRow[row] = id
                        break
                    }
                    if groupHash[Int(group)] == hash, equal(groupRow[Int(group)], row) {
                        groupOfRow[row] = group
                        break
                    }
                    slot = (slot + 1) & mask
                }
            }
            self.int64Table = nil
            self.perfect = nil
            self.perfectBase = 0
            self.groupHash = groupHash
        }
        self.slots = slots
        self.mask = mask
        self.groupOfRow = groupOfRow
        self.groupRow = groupRow
        self.groupCount = groupRow.count
    }

    /// The group of each row of `probe` (columns of the same types, in the same order), or -1
    /// when its key is not indexed or has a null.
    public func lookup(_ probe: [Column], threads: Int = 1) -> [Int32] {
        let rows = probe.first?.count ?? 0
        var out = [Int32](repeating: -1, count: rows)
        guard groupCount > 0 else { return out }
        let nullable = probe.contains { $0.validity != nil }
        if let perfect, probe.count == 1, case .int64(let values) = probe[0].data {
            let column = probe[0]
            let base = perfectBase
            let width = UInt64(perfect.count)
            let chunks = Parallel.chunks(count: rows, threads: threads, minimum: 131_072)
            out.withUnsafeMutableBufferPointer { o in
                let po = UnsafeSendable(o)
                Parallel.forEach(chunks) { range in
                    values.withUnsafeBufferPointer { v in
                        perfect.withUnsafeBufferPointer { t in
                            for row in range {
                                // One unsigned compare covers keys below and above the range.
                                let offset = UInt64(bitPattern: v[row] &- base)
                                if offset < width && (!nullable || column.isValid(row)) {
                                    po.value[row] = t[Int(offset)]
                                }
                            }
                        }
                    }
                }
            }
            return out
        }
        if let table = int64Table, probe.count == 1, case .int64(let values) = probe[0].data {
            let column = probe[0]
            let chunks = Parallel.chunks(count: rows, threads: threads, minimum: 131_072)
            out.withUnsafeMutableBufferPointer { o in
                let po = UnsafeSendable(o)
                Parallel.forEach(chunks) { range in
                    values.withUnsafeBufferPointer { v in
                        table.withUnsafeBufferPointer { t in
                            for row in range {
                                if nullable && !column.isValid(row) { continue }
                                let key = v[row]
                                var slot = Int(truncatingIfNeeded: KeyHash.mix(UInt64(bitPattern: key))) & mask
                                while true {
                                    let group = t[slot * 2 + 1]
                                    if group == 0 { break }
                                    if t[slot * 2] == key {
                                        po.value[row] = Int32(truncatingIfNeeded: group - 1)
                                        break
                                    }
                                    slot = (slot + 1) & mask
                                }
                            }
                        }
                    }
                }
            }
            return out
        }
        guard int64Table == nil && perfect == nil else { return out }  // type mismatch: nothing can be equal
        let hashes = KeyHash.rows(probe)
        let equal = RowEquality(keys, probe)
        for row in 0..<rows {
            if nullable && probe.contains(where: { !$0.isValid(row) }) { continue }
            let hash = hashes[row]
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let group = slots[slot]
                if group < 0 { break }
                if groupHash[Int(group)] == hash, equal(groupRow[Int(group)], row) {
                    out[row] = group
                    break
                }
                slot = (slot + 1) & mask
            }
        }
        return out
    }
}

extension KeyIndex {
    /// The range of non-null keys when it is dense enough for a direct table: at most four
    /// slots per row (and at most 2^26 slots), so the table stays small next to the data.
    static func denseRange(_ values: [Int64], column: Column, rows: Int) -> ClosedRange<Int64>? {
        var lo = Int64.max
        var hi = Int64.min
        for row in 0..<rows where column.isValid(row) {
            lo = min(lo, values[row])
            hi = max(hi, values[row])
        }
        guard lo <= hi else { return nil }
        let (width, overflow) = hi.subtractingReportingOverflow(lo)
        guard !overflow, width < Int64(max(4 * rows, 1 << 16)), width < 1 << 26 else { return nil }
        return lo...hi
    }
}

/// Compares a row of one set of key columns with a row of another (same types, same order).
struct RowEquality {
    private let comparators: [(Int, Int) -> Bool]

    init(_ left: [Column], _ right: [Column]) {
        comparators = zip(left, right).map { RowEquality.comparator($0, $1) }
    }

    func callAsFunction(_ a: Int, _ b: Int) -> Bool {
        for compare in comparators where !compare(a, b) { return false }
        return true
    }

    private static func comparator(_ l: Column, _ r: Column) -> (Int, Int) -> Bool {
        switch (l.data, r.data) {
        case (.int64(let x), .int64(let y)): return { x[$0] == y[$1] }
        case (.int32(let x), .int32(let y)): return { x[$0] == y[$1] }
        case (.bool(let x), .bool(let y)): return { x[$0] == y[$1] }
        case (.float32(let x), .float32(let y)): return { x[$0] == y[$1] }
        case (.float64(let x), .float64(let y)): return { x[$0] == y[$1] }
        case (.binary(let x), .binary(let y)):
            return { a, b in
                let lx = x.offsets[a + 1] - x.offsets[a]
                guard lx == y.offsets[b + 1] - y.offsets[b] else { return false }
                return x.bytes[x.offsets[a]..<x.offsets[a + 1]].elementsEqual(y.bytes[y.offsets[b]..<y.offsets[b + 1]])
            }
        default:
            return { l.value(at: $0) == r.value(at: $1) }
        }
    }
}
