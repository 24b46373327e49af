import TesseraColumnar
import TesseraCore

/// The feature columns of rows that may still be chosen, addressed by reference.
///
/// Every batch read is kept until `compact` drops the rows no entity row points at any
/// more; so memory is bounded by the entity rows, not by the source's size.
struct RetainedRows {
    private(set) var chunks: [(base: Int, columns: [Column])] = []
    private(set) var rows = 0
    /// The reference the next appended row gets.
    private(set) var nextReference = 0

    /// Keeps a batch's feature columns; returns the reference of its first row.
    mutating func append(_ columns: [Column], count: Int) -> Int {
        let base = nextReference
        nextReference += count
        chunks.append((base, columns))
        rows += count
        return base
    }

    /// The position of `reference` in the chunks laid end to end.
    private func position(_ reference: Int, offsets: [Int]) -> Int {
        var lo = 0
        var hi = chunks.count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if chunks[mid].base <= reference { lo = mid } else { hi = mid }
        }
        return offsets[lo] + (reference - chunks[lo].base)
    }

    private var offsets: [Int] {
        var out = [0]
        for chunk in chunks { out.append(out[out.count - 1] + (chunk.columns.first?.count ?? 0)) }
        return out
    }

    /// Column `k` at `references` (-1: null).
    func take(column k: Int, type: ValueType, _ references: [Int]) throws -> Column {
        try take(columns: [k], types: [type], references)[0]
    }

    /// Columns `ks` at `references` (-1: null), locating each reference once for all of them.
    func take(columns ks: [Int], types: [ValueType], _ references: [Int]) throws -> [Column] {
        guard !chunks.isEmpty else { return types.map { Column(nulls: $0, count: references.count) } }
        let offsets = self.offsets
        let flat = references.map { $0 < 0 ? -1 : position($0, offsets: offsets) }
        let positions = Column.ChunkPositions(flat, chunkSizes: chunks.map { $0.columns.first?.count ?? 0 })
        return try ks.map { k in try Column.take(from: chunks.map { $0.columns[k] }, positions) }
    }

    /// Keeps only the rows `references` point at (negative: none), and renumbers them.
    mutating func compact(_ references: inout [Int], types: [ValueType]) throws {
        let count = references.count
        try references.withUnsafeMutableBytes { raw in
            try compact(strided: raw.baseAddress, count: count, stride: MemoryLayout<Int>.stride, types: types)
        }
    }

    /// `compact(_:types:)` over `count` references `stride` bytes apart from `pointer`: a
    /// field of an array of structs, renumbered in place without copying it out.
    mutating func compact(strided pointer: UnsafeMutableRawPointer?, count: Int, stride: Int, types: [ValueType]) throws
    {
        // Live references, in order, through a bitmap over the retained range (no sort).
        let low = chunks.first?.base ?? 0
        var marks = Bitmap(count: max(0, nextReference - low), value: false)
        func reference(_ i: Int) -> Int { pointer?.load(fromByteOffset: i * stride, as: Int.self) ?? -1 }
        for i in 0..<count {
            let reference = reference(i)
            if reference >= low { marks[reference - low] = true }
        }
        var unique: [Int] = []
        unique.reserveCapacity(marks.setCount)
        for (w, word) in marks.words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                unique.append(low + w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        let columns = try take(columns: Array(types.indices), types: types, unique)
        let base = nextReference
        nextReference += unique.count
        chunks = [(base, columns)]
        rows = unique.count
        // A live row's new number is its rank among the live rows: the marks set before it,
        // from a running count per word (a binary search per reference over 10M live rows
        // was a third of materializing 10M entities).
        let words = marks.words
        var before = [Int](repeating: 0, count: words.count)
        var running = 0
        for w in words.indices {
            before[w] = running
            running += words[w].nonzeroBitCount
        }
        words.withUnsafeBufferPointer { words in
            before.withUnsafeBufferPointer { before in
                for i in 0..<count {
                    let old = reference(i)
                    guard old >= low, let pointer else { continue }
                    let offset = old - low
                    let below = words[offset >> 6] & ((1 &<< UInt64(offset & 63)) &- 1)
                    pointer.storeBytes(
                        of: base + before[offset >> 6] + below.nonzeroBitCount, toByteOffset: i * stride, as: Int.self)
                }
            }
        }
    }
}
