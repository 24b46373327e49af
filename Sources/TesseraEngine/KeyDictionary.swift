import TesseraColumnar
import TesseraCore

/// A growing dictionary from join-key tuples to dense ids, fed batch by batch.
///
/// Used where the keys are not known up front (materialization scans a source
/// and discovers its entities). A single int64 key is hashed directly; other
/// tuples are encoded into bytes and compared byte for byte.
struct KeyDictionary {
    private var slots: [Int32] = [Int32](repeating: -1, count: 1024)
    private var int64Keys: [Int64] = []
    private var arena: [UInt8] = []
    private var arenaOffsets: [Int] = [0]
    private var hashes: [UInt64] = []
    private(set) var count = 0
    /// Dense mode for a single int64 key over a compact range: the id of key `denseBase + i` at `i`.
    private var dense: [Int32]? = nil
    private var denseBase: Int64 = 0
    /// Once keys are found to be sparse, the hash table is used for good.
    private var sparse = false

    /// The id of each row's key (new keys get new ids), or -1 when a key column is null.
    mutating func ids(for keys: [Column]) -> [Int32] {
        let rows = keys.first?.count ?? 0
        var out = [Int32](repeating: -1, count: rows)
        if keys.count == 1, case .int64(let values) = keys[0].data {
            let column = keys[0]
            if !sparse && fitDense(values, column) {
                denseIDs(values, column, into: &out)
                return out
            }
            for row in 0..<rows where column.isValid(row) {
                out[row] = id(int64: values[row])
            }
            return out
        }
        var buffer: [UInt8] = []
        for row in 0..<rows {
            buffer.removeAll(keepingCapacity: true)
            guard KeyDictionary.encode(keys, row: row, into: &buffer) else { continue }
            out[row] = id(bytes: buffer)
        }
        return out
    }

    /// Every id, ordered by its key when the keys are single int64s (so writes that follow append to
    /// a B-tree instead of scattering), else in id order.
    func idsInKeyOrder() -> [Int32] {
        if let table = dense {
            var out: [Int32] = []
            out.reserveCapacity(count)
            for id in table where id >= 0 { out.append(id) }
            return out
        }
        if int64Keys.count == count && count > 0 {
            return (0..<Int32(count)).sorted { int64Keys[Int($0)] < int64Keys[Int($1)] }
        }
        return Array(0..<Int32(count))
    }

    /// Makes the dense table cover this batch's keys; false (and hash mode from now on) when
    /// the keys are too spread out: wider than 16M and than four slots per key.
    private mutating func fitDense(_ values: [Int64], _ column: Column) -> Bool {
        var lo = Int64.max
        var hi = Int64.min
        for (row, v) in values.enumerated() where column.isValid(row) {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        guard lo <= hi else { return dense != nil || count == 0 }
        if let table = dense {
            lo = min(lo, denseBase)
            hi = max(hi, denseBase + Int64(table.count) - 1)
        }
        let (width, overflow) = hi.subtractingReportingOverflow(lo)
        // Up to 16M slots (64 MB) whatever was seen so far: a source of 10M drivers numbered
        // densely shows its whole range in its first batch, and a hash table of 10M keys costs
        // two cache misses per row where the table costs one (materializing L took 48 s
        // instead of ~5× M's time). Wider ranges need four slots per key seen.
        let limit = Int64(max(4 * (count + values.count), 1 << 24))
        guard !overflow, width < limit, width < 1 << 26 else {
            switchToHash()
            return false
        }
        let size = Int(width) + 1
        if let table = dense, lo == denseBase, size == table.count { return true }
        var grown = [Int32](repeating: -1, count: size)
        if let table = dense {
            let shift = Int(denseBase - lo)
            for (i, id) in table.enumerated() where id >= 0 { grown[i + shift] = id }
        }
        dense = grown
        denseBase = lo
        return true
    }

    private mutating func denseIDs(_ values: [Int64], _ column: Column, into out: inout [Int32]) {
        guard var table = dense else { return }
        dense = nil  // keep the table uniquely referenced while it is mutated
        let base = denseBase
        let nullable = column.validity != nil
        var next = Int32(count)
        values.withUnsafeBufferPointer { v in
            table.withUnsafeMutableBufferPointer { t in
                out.withUnsafeMutableBufferPointer { o in
                    for row in 0..<v.count {
                        if nullable && !column.isValid(row) { continue }
                        let slot = Int(v[row] &- base)
                        var id = t[slot]
                        if id < 0 {
                            id = next
                            t[slot] = id
                            next += 1
                            int64Keys.append(v[row])
                        }
                        o[row] = id
                    }
                }
            }
        }
        count = Int(next)
        dense = table
    }

    /// Leaves dense mode: the keys seen so far go into the hash table with their ids.
    private mutating func switchToHash() {
        sparse = true
        guard dense != nil else { return }
        dense = nil
        var size = 1024
        while size < count * 2 + 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for id in 0..<count {
            var slot = Int(truncatingIfNeeded: KeyHash.mix(UInt64(bitPattern: int64Keys[id]))) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id)
        }
    }

    private mutating func growIfNeeded() {
        guard (count + 1) * 2 > slots.count else { return }
        var bigger = [Int32](repeating: -1, count: slots.count * 2)
        let mask = bigger.count - 1
        for id in 0..<count {
            let hash = int64Keys.isEmpty ? hashes[id] : KeyHash.mix(UInt64(bitPattern: int64Keys[id]))
            var slot = Int(truncatingIfNeeded: hash) & mask
            while bigger[slot] >= 0 { slot = (slot + 1) & mask }
            bigger[slot] = Int32(id)
        }
        slots = bigger
    }

    private mutating func id(int64 key: Int64) -> Int32 {
        growIfNeeded()
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: KeyHash.mix(UInt64(bitPattern: key))) & mask
        while true {
            let id = slots[slot]
            if id < 0 {
                let new = Int32(count)
                slots[slot] = new
                int64Keys.append(key)
                count += 1
                return new
            }
            if int64Keys[Int(id)] == key { return id }
            slot = (slot + 1) & mask
        }
    }

    private mutating func id(bytes: [UInt8]) -> Int32 {
        growIfNeeded()
        let hash = bytes.withUnsafeBufferPointer { KeyHash.bytes($0) }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 {
                let new = Int32(count)
                slots[slot] = new
                hashes.append(hash)
                arena.append(contentsOf: bytes)
                arenaOffsets.append(arena.count)
                count += 1
                return new
            }
            let i = Int(id)
            if hashes[i] == hash, arena[arenaOffsets[i]..<arenaOffsets[i + 1]].elementsEqual(bytes) { return id }
            slot = (slot + 1) & mask
        }
    }

    /// Appends a self-delimiting encoding of row `row` of `keys`; `false` when a value is null.
    static func encode(_ keys: [Column], row: Int, into out: inout [UInt8]) -> Bool {
        for column in keys {
            guard column.isValid(row) else { return false }
            func append<T: FixedWidthInteger>(_ value: T) {
                withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
            }
            switch column.data {
            case .bool(let v): out.append(v[row] ? 1 : 0)
            case .int32(let v): append(v[row])
            case .int64(let v): append(v[row])
            // -0.0 and 0.0 are one key, as KeyHash and KeyIndex treat them.
            case .float32(let v): append((v[row] == 0 ? 0 : v[row]).bitPattern)
            case .float64(let v): append((v[row] == 0 ? 0 : v[row]).bitPattern)
            case .binary(let v):
                append(UInt32(truncatingIfNeeded: v.length(at: row)))
                out.append(contentsOf: v.bytes(at: row))
            case .list:
                let text = column.value(at: row).description
                append(UInt32(truncatingIfNeeded: text.utf8.count))
                out.append(contentsOf: text.utf8)
            }
        }
        return true
    }
}
