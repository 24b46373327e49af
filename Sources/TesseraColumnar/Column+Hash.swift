/// Hashing of (composite) keys, row by row, for hash joins and grouping.
public enum KeyHash {
    /// A well-mixed 64-bit finalizer (MurmurHash3's fmix64).
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// The hash of a run of bytes (FNV-1a, then mixed).
    @inline(__always)
    public static func bytes(_ buffer: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        let n = buffer.count
        // Eight bytes at a time, then the tail.
        while index + 8 <= n {
            var word: UInt64 = 0
            for k in 0..<8 { word |= UInt64(buffer[index + k]) << UInt64(k * 8) }
            h = mix(h ^ word)
            index += 8
        }
        while index < n {
            h ^= UInt64(buffer[index])
            h &*= 0x100_0000_01b3
            index += 1
        }
        return mix(h ^ UInt64(n))
    }

    static let nullHash: UInt64 = 0x9e37_79b9_7f4a_7c15

    /// One hash per row over all `columns` (which must have equal lengths).
    ///
    /// Equal key tuples give equal hashes; a null hashes to a fixed value.
    /// - Complexity: O(rows × columns), one pass per column.
    public static func rows(_ columns: [Column]) -> [UInt64] {
        let count = columns.first?.count ?? 0
        var hashes = [UInt64](repeating: 0x243f_6a88_85a3_08d3, count: count)
        for column in columns {
            hashes.withUnsafeMutableBufferPointer { out in
                combine(column, into: out)
            }
        }
        return hashes
    }

    private static func combine(_ column: Column, into out: UnsafeMutableBufferPointer<UInt64>) {
        @inline(__always) func step(_ h: UInt64, _ v: UInt64) -> UInt64 { mix(h &* 31 ^ v) }
        // A null slot's placeholder value is not part of the key: hash nulls from the hash
        // before this column, so that every null hashes alike whatever its slot holds.
        var beforeNulls: [(Int, UInt64)] = []
        if column.validity != nil {
            for i in 0..<out.count where !column.isValid(i) { beforeNulls.append((i, out[i])) }
        }
        defer { for (i, h) in beforeNulls { out[i] = step(h ^ 0x5555, nullHash) } }
        switch column.data {
        case .bool(let v):
            for i in 0..<out.count { out[i] = step(out[i], v[i] ? 1 : 2) }
        case .int32(let v):
            v.withUnsafeBufferPointer { src in
                for i in 0..<out.count { out[i] = step(out[i], UInt64(bitPattern: Int64(src[i]))) }
            }
        case .int64(let v):
            v.withUnsafeBufferPointer { src in
                for i in 0..<out.count { out[i] = step(out[i], UInt64(bitPattern: src[i])) }
            }
        case .float32(let v):
            for i in 0..<out.count { out[i] = step(out[i], UInt64((v[i] == 0 ? 0 : v[i]).bitPattern)) }
        case .float64(let v):
            for i in 0..<out.count { out[i] = step(out[i], (v[i] == 0 ? 0 : v[i]).bitPattern) }
        case .binary(let v):
            v.bytes.withUnsafeBufferPointer { bytes in
                for i in 0..<out.count {
                    let slice = UnsafeBufferPointer(rebasing: bytes[v.offsets[i]..<v.offsets[i + 1]])
                    out[i] = step(out[i], KeyHash.bytes(slice))
                }
            }
        case .list:
            for i in 0..<out.count { out[i] = step(out[i], UInt64(truncatingIfNeeded: column.value(at: i).hashValue)) }
        }
    }
}
