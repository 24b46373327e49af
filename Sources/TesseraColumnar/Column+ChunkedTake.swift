/// Gathering rows from a column held in several chunks, without concatenating them first.
extension Column {
    /// Where each of a list of global positions lies in a sequence of chunks, found once and
    /// reused for every column gathered with it.
    public struct ChunkPositions: Sendable {
        /// Per position: its chunk (-1: a null, for a negative position) and its row in that chunk.
        public let chunk: [Int32]
        public let row: [Int]

        /// Locates `references` (positions in the chunks laid end to end) in chunks of `sizes` rows.
        public init(_ references: [Int], chunkSizes sizes: [Int]) {
            var starts = [0]
            for size in sizes { starts.append(starts[starts.count - 1] + size) }
            var chunk = [Int32](repeating: -1, count: references.count)
            var row = [Int](repeating: 0, count: references.count)
            for (i, ref) in references.enumerated() where ref >= 0 {
                var lo = 0
                var hi = sizes.count
                while hi - lo > 1 {
                    let mid = (lo + hi) >> 1
                    if starts[mid] <= ref { lo = mid } else { hi = mid }
                }
                chunk[i] = Int32(lo)
                row[i] = ref - starts[lo]
            }
            self.chunk = chunk
            self.row = row
        }
    }

    /// The values at global positions `references` of `chunks` laid end to end (negative: null).
    ///
    /// - Complexity: O(references × log(chunks)).
    public static func take(from chunks: [Column], _ references: [Int]) throws(ColumnarError) -> Column {
        try take(from: chunks, ChunkPositions(references, chunkSizes: chunks.map(\.count)))
    }

    /// The values at `positions` of `chunks`. Fixed-width columns are gathered straight from
    /// the chunks' buffers; other layouts are concatenated first.
    public static func take(from chunks: [Column], _ positions: ChunkPositions) throws(ColumnarError) -> Column {
        guard let first = chunks.first else { throw .shape("no chunks to take from") }
        for chunk in chunks where chunk.type != first.type {
            throw .typeMismatch("chunks of one column have types \(first.type) and \(chunk.type)")
        }
        let count = positions.chunk.count
        var validity: Bitmap? = nil
        if positions.chunk.contains(-1) || chunks.contains(where: { $0.validity != nil }) {
            var bits = Bitmap(count: count, value: true)
            for i in 0..<count {
                let c = Int(positions.chunk[i])
                if c < 0 || !chunks[c].isValid(positions.row[i]) { bits[i] = false }
            }
            validity = bits
        }
        func gather<T>(_ extract: (Column) -> [T]?, zero: T) -> [T]? {
            var arrays: [[T]] = []
            for chunk in chunks {
                guard let values = extract(chunk) else { return nil }
                arrays.append(values)
            }
            // Base pointers once, so the loop does no retain/release per value.
            let bases = arrays.map { $0.withUnsafeBufferPointer { $0.baseAddress } }
            return withExtendedLifetime(arrays) {
                [T](unsafeUninitializedCapacity: count) { out, initialized in
                    for i in 0..<count {
                        let c = Int(positions.chunk[i])
                        if c < 0 {
                            (out.baseAddress! + i).initialize(to: zero)
                        } else if let base = bases[c] {
                            (out.baseAddress! + i).initialize(to: base[positions.row[i]])
                        } else {
                            (out.baseAddress! + i).initialize(to: zero)
                        }
                    }
                    initialized = count
                }
            }
        }
        let data: ColumnData?
        switch first.data {
        case .bool: data = gather({ if case .bool(let v) = $0.data { v } else { nil } }, zero: false).map { .bool($0) }
        case .int32: data = gather({ if case .int32(let v) = $0.data { v } else { nil } }, zero: 0).map { .int32($0) }
        case .int64: data = gather({ if case .int64(let v) = $0.data { v } else { nil } }, zero: 0).map { .int64($0) }
        case .float32:
            data = gather({ if case .float32(let v) = $0.data { v } else { nil } }, zero: 0).map { .float32($0) }
        case .float64:
            data = gather({ if case .float64(let v) = $0.data { v } else { nil } }, zero: 0).map { .float64($0) }
        case .binary, .list:
            // Back to flat positions over the concatenation.
            var starts = [0]
            for chunk in chunks { starts.append(starts[starts.count - 1] + chunk.count) }
            let flat = (0..<count).map { i in
                positions.chunk[i] < 0 ? -1 : starts[Int(positions.chunk[i])] + positions.row[i]
            }
            return try concatenate(chunks).take(flat)
        }
        guard let data else { throw .shape("chunks of one column have different layouts") }
        return Column(type: first.type, data: data, validity: validity)
    }
}
