import TesseraColumnar

/// An open-addressing hash table from 64-bit value patterns to dictionary indices,
/// for dictionary-encoding fixed-width columns without per-value allocation.
struct FixedDictionaryTable {
    /// A key and its index side by side, so a probe touches one cache line.
    struct Bucket {
        var key: UInt64
        var index: Int32
    }

    private var buckets: [Bucket]
    private var mask: Int
    /// The distinct patterns in first-seen order: the dictionary.
    private(set) var entries: [UInt64] = []

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        buckets = [Bucket](repeating: Bucket(key: 0, index: -1), count: size)
        mask = size - 1
    }

    var count: Int { entries.count }
    var retainedBytes: Int { buckets.capacity * MemoryLayout<Bucket>.stride + entries.capacity * 8 }

    /// Empties the table, keeping its memory for the next chunk.
    mutating func reset() {
        entries.removeAll(keepingCapacity: true)
        buckets.withUnsafeMutableBufferPointer { $0.update(repeating: Bucket(key: 0, index: -1)) }
    }

    /// Fibonacci hashing: one multiply, the high bits pick the slot.
    @inline(__always)
    static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: ((key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// The indices of `values`, inserting new ones, appended to `out`.
    mutating func indices<T: WritableFixed>(of values: UnsafeBufferPointer<T>, appendingTo out: inout [UInt32]) {
        // Room for every value being new, so the loop below never grows the table.
        if (entries.count + values.count) * 2 > buckets.count { grow(toFit: entries.count + values.count) }
        entries.reserveGrowing(entries.count + values.count)
        let mask = self.mask
        var added = entries.count
        let found = [UInt32](unsafeUninitializedCapacity: values.count) { result, initialized in
            buckets.withUnsafeMutableBufferPointer { buckets in
                for i in 0..<values.count {
                    let key = values[i].pattern
                    var position = FixedDictionaryTable.slot(key, mask)
                    while true {
                        let bucket = buckets[position]
                        if bucket.index < 0 {
                            buckets[position] = Bucket(key: key, index: Int32(added))
                            entries.append(key)
                            result[i] = UInt32(added)
                            added += 1
                            break
                        }
                        if bucket.key == key {
                            result[i] = UInt32(bucket.index)
                            break
                        }
                        position = (position + 1) & mask
                    }
                }
            }
            initialized = values.count
        }
        out.append(contentsOf: found)
    }

    private mutating func grow(toFit count: Int) {
        var size = buckets.count
        while count * 2 > size { size <<= 1 }
        buckets = [Bucket](repeating: Bucket(key: 0, index: -1), count: size)
        mask = size - 1
        for (index, key) in entries.enumerated() {
            var position = FixedDictionaryTable.slot(key, mask)
            while buckets[position].index >= 0 { position = (position + 1) & mask }
            buckets[position] = Bucket(key: key, index: Int32(index))
        }
    }
}

/// The same for byte-array values; the dictionary keeps its own copy of each distinct value.
struct BinaryDictionaryTable {
    private var hashes: [UInt64]
    private var slots: [Int32]
    private var mask: Int
    private(set) var dictionary = BinaryData()

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        hashes = [UInt64](repeating: 0, count: size)
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { dictionary.count }
    var byteSize: Int { dictionary.bytes.count + 4 * dictionary.count }

    mutating func index(of value: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let hash = KeyHash.bytes(value)
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[position]
            if slot < 0 {
                let index = Int32(dictionary.count)
                slots[position] = index
                hashes[position] = hash
                dictionary.bytes.append(contentsOf: value)
                dictionary.offsets.append(dictionary.bytes.count)
                if dictionary.count * 2 > slots.count { grow() }
                return UInt32(index)
            }
            if hashes[position] == hash, equals(Int(slot), value) { return UInt32(slot) }
            position = (position + 1) & mask
        }
    }

    private func equals(_ index: Int, _ value: UnsafeBufferPointer<UInt8>) -> Bool {
        let from = dictionary.offsets[index]
        let to = dictionary.offsets[index + 1]
        guard to - from == value.count else { return false }
        return dictionary.bytes.withUnsafeBufferPointer { stored in
            guard let a = stored.baseAddress, let b = value.baseAddress else { return true }
            return memcmp(a + from, b, value.count) == 0
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        var newHashes = [UInt64](repeating: 0, count: size)
        var newSlots = [Int32](repeating: -1, count: size)
        let newMask = size - 1
        for index in 0..<slots.count where slots[index] >= 0 {
            var position = Int(truncatingIfNeeded: hashes[index]) & newMask
            while newSlots[position] >= 0 { position = (position + 1) & newMask }
            newSlots[position] = slots[index]
            newHashes[position] = hashes[index]
        }
        hashes = newHashes
        slots = newSlots
        mask = newMask
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
