import TesseraColumnar
import TesseraCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An encoded join-key tuple: the identity of one entity within one feature view.
///
/// The encoding is compact and self-delimiting per component, so a composite key is the
/// concatenation of its parts:
/// - integers (`int32`, `int64`): 8 bytes, big-endian with the sign bit flipped, so byte
///   order is numeric order (sorted bulk loads append to the B-tree). Both widths encode
///   alike, so a key written from an `int32` column is found by an `int64` lookup.
/// - `timestamp`: as `int64` microseconds; `bool`: one byte; `float32`/`float64`: the
///   float64 bit pattern (8 bytes).
/// - `string` and `bytes`: a LEB128 length, then the bytes.
///
/// Keys of one view always have the view's declared join-key types, so parts never need tags.
public struct EntityKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The encoded bytes.
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Encodes one key tuple from scalar values, in the view's join-key order.
    ///
    /// - Throws: `EntityKeyError` when a part is null or a list (keys must be scalars).
    public init(_ parts: [ScalarValue]) throws(EntityKeyError) {
        var out: [UInt8] = []
        out.reserveCapacity(parts.count * 9)
        for (index, part) in parts.enumerated() {
            try EntityKey.append(part, at: index, to: &out)
        }
        self.bytes = out
    }

    /// A key of one `int64` join key, the common case, without intermediate arrays.
    public init(int64 value: Int64) {
        var out = [UInt8](repeating: 0, count: 8)
        EntityKey.storeInt(value, into: &out, at: 0)
        self.bytes = out
    }

    /// Byte order (`memcmp`, then length): the generic `lexicographicallyPrecedes` was most
    /// of the time of sorting a materialization's keys.
    public static func < (lhs: EntityKey, rhs: EntityKey) -> Bool {
        lhs.bytes.withUnsafeBufferPointer { a in
            rhs.bytes.withUnsafeBufferPointer { b in
                let common = min(a.count, b.count)
                guard common > 0, let x = a.baseAddress, let y = b.baseAddress else { return a.count < b.count }
                let order = memcmp(x, y, common)
                return order != 0 ? order < 0 : a.count < b.count
            }
        }
    }

    public var description: String { "0x" + SHA256.hexString(bytes) }

    @inline(__always)
    static func storeInt(_ value: Int64, into out: inout [UInt8], at offset: Int) {
        let flipped = UInt64(bitPattern: value) ^ (1 << 63)
        for k in 0..<8 { out[offset + k] = UInt8(truncatingIfNeeded: flipped >> UInt64(56 - 8 * k)) }
    }

    @inline(__always)
    package static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        let flipped = UInt64(bitPattern: value) ^ (1 << 63)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: flipped >> UInt64(56 - 8 * k))) }
    }

    @inline(__always)
    static func appendLength(_ length: Int, to out: inout [UInt8]) {
        var n = UInt64(length)
        while n >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
    }

    static func append(_ part: ScalarValue, at index: Int, to out: inout [UInt8]) throws(EntityKeyError) {
        switch part {
        case .null: throw EntityKeyError(part: index, reason: "is null")
        case .bool(let v): out.append(v ? 1 : 0)
        case .int32(let v): appendInt(Int64(v), to: &out)
        case .int64(let v): appendInt(v, to: &out)
        case .timestamp(let v): appendInt(v.microseconds, to: &out)
        case .float32(let v): appendInt(Int64(bitPattern: Double(v).bitPattern), to: &out)
        case .float64(let v): appendInt(Int64(bitPattern: v.bitPattern), to: &out)
        case .string(let v):
            appendLength(v.utf8.count, to: &out)
            out.append(contentsOf: v.utf8)
        case .bytes(let v):
            appendLength(v.count, to: &out)
            out.append(contentsOf: v)
        case .list: throw EntityKeyError(part: index, reason: "is a list; join keys must be scalars")
        }
    }
}

/// A join-key value that cannot be encoded.
public struct EntityKeyError: Error, Sendable, CustomStringConvertible {
    /// The position of the offending part in the key tuple.
    public var part: Int
    public var reason: String

    public var description: String { "join key part \(part + 1) \(reason)" }
}

/// The encoded keys of a whole batch in one byte arena (no allocation per row).
package struct EncodedKeys {
    package var bytes: [UInt8] = []
    /// `count + 1` offsets into `bytes`.
    package var offsets: [Int] = [0]
    /// Whether every key is one 8-byte integer (the fast paths compare them as words).
    package var isInteger = false

    package var count: Int { offsets.count - 1 }

    package func key(_ row: Int) -> EntityKey {
        EntityKey(bytes: Array(bytes[offsets[row]..<offsets[row + 1]]))
    }

    /// The distinct keys in order of first appearance, and every row grouped by key:
    /// key `i`'s rows (ascending) are `rows[starts[i] ..< starts[i + 1]]`. Integer keys are
    /// grouped by their 8-byte word; each distinct key is built once.
    package func grouped() -> (keys: [EntityKey], rows: [Int], starts: [Int]) {
        var id = [Int](repeating: 0, count: count)
        var keys: [EntityKey] = []
        if isInteger {
            // Open addressing on the 8-byte words (Fibonacci hashing, linear probing, grown
            // at half full): a materialization groups millions of rows here, and `Dictionary`'s
            // seeded hashing was most of the grouping's time.
            var table = WordTable()
            var words: [UInt64] = []
            bytes.withUnsafeBytes { raw in
                for row in 0..<count {
                    let word = raw.loadUnaligned(fromByteOffset: row * 8, as: UInt64.self)
                    let (at, isNew) = table.insert(word, id: words.count, words: words)
                    id[row] = at
                    if isNew {
                        words.append(word)
                        keys.append(key(row))
                    }
                }
            }
        } else {
            var position: [EntityKey: Int] = [:]
            for row in 0..<count {
                let key = key(row)
                if let at = position[key] {
                    id[row] = at
                } else {
                    position[key] = keys.count
                    id[row] = keys.count
                    keys.append(key)
                }
            }
        }
        // A counting sort of the rows by key id: stable, two passes, no array per key.
        var starts = [Int](repeating: 0, count: keys.count + 1)
        for row in 0..<count { starts[id[row] + 1] += 1 }
        for k in 0..<keys.count { starts[k + 1] += starts[k] }
        var next = starts
        var rows = [Int](repeating: 0, count: count)
        for row in 0..<count {
            rows[next[id[row]]] = row
            next[id[row]] += 1
        }
        return (keys, rows, starts)
    }

    /// Encodes every row of the join-key columns (in join-key order).
    ///
    /// - Throws: `OnlineStoreError.invalidBatch` naming the first row with a null or list key.
    package init(columns: [Column], rows: Int) throws(OnlineStoreError) {
        for (index, column) in columns.enumerated() where column.nullCount > 0 {
            let row = (0..<rows).first { !column.isValid($0) } ?? 0
            throw OnlineStoreError(.invalidBatch, "join key \(index + 1) is null in row \(row)")
        }
        // Fast path: one integer key column, fixed 8 bytes per row.
        if columns.count == 1, let ints = EncodedKeys.integers(columns[0]) {
            bytes = [UInt8](repeating: 0, count: rows * 8)
            offsets = Array(stride(from: 0, through: rows * 8, by: 8))
            for row in 0..<rows { EntityKey.storeInt(ints[row], into: &bytes, at: row * 8) }
            isInteger = true
            return
        }
        offsets.reserveCapacity(rows + 1)
        for row in 0..<rows {
            for (index, column) in columns.enumerated() {
                do {
                    try EntityKey.append(column.value(at: row), at: index, to: &bytes)
                } catch {
                    throw OnlineStoreError(.invalidBatch, "\(error) in row \(row)")
                }
            }
            offsets.append(bytes.count)
        }
    }

    private static func integers(_ column: Column) -> [Int64]? {
        switch column.data {
        case .int64(let v): return v
        case .int32(let v): return v.map(Int64.init)
        default: return nil
        }
    }
}

/// Distinct 8-byte words to their first-seen ids: `insert` gives a word's id, adding the
/// word as `id` when it is new. Grows (rehashing every known word) at half full.
struct WordTable {
    private var ids = [Int](repeating: -1, count: 1024)
    private var shift = UInt64(64 - 10)
    private var count = 0

    @inline(__always)
    private func slot(_ word: UInt64) -> Int { Int(truncatingIfNeeded: (word &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The id of `word`, and whether it was added (as `id`); `words[i]` must be the word of id `i`.
    mutating func insert(_ word: UInt64, id: Int, words: [UInt64]) -> (id: Int, isNew: Bool) {
        let mask = ids.count - 1
        var at = slot(word)
        while true {
            let found = ids[at]
            if found < 0 { break }
            if words[found] == word { return (found, false) }
            at = (at + 1) & mask
        }
        ids[at] = id
        count += 1
        if 2 * count > ids.count { grow(words + [word]) }
        return (id, true)
    }

    private mutating func grow(_ words: [UInt64]) {
        ids = [Int](repeating: -1, count: 2 * ids.count)
        shift -= 1
        let mask = ids.count - 1
        for (id, word) in words.enumerated() {
            var at = slot(word)
            while ids[at] >= 0 { at = (at + 1) & mask }
            ids[at] = id
        }
    }
}
