/// Gathering rows from a column held in several chunks, without concatenating them first.
extension Column {
    /// The values at global positions `references` of `chunks` laid end to end (negative: null).
    ///
    /// Fixed-width columns are gathered straight from the chunks; other layouts are
    /// concatenated first.
    /// - Complexity: O(references × log(chunks)).
    public static func take(from chunks: [Column], _ references: [Int]) throws(ColumnarError) -> Column {
        guard let first = chunks.first else { throw .shape("no chunks to take from") }
        if chunks.count == 1 { return first.take(references) }
        var starts = [0]
        for chunk in chunks {
            guard chunk.type == first.type else {
                throw .typeMismatch("chunks of one column have types \(first.type) and \(chunk.type)")
            }
            starts.append(starts[starts.count - 1] + chunk.count)
        }
        func locate(_ ref: Int) -> (Int, Int) {
            var lo = 0
            var hi = chunks.count
            while hi - lo > 1 {
                let mid = (lo + hi) >> 1
                if starts[mid] <= ref { lo = mid } else { hi = mid }
            }
            return (lo, ref - starts[lo])
        }
        // Each reference's chunk and row, found once for both the values and the validity.
        var chunkOf = [Int32](repeating: -1, count: references.count)
        var rowOf = [Int](repeating: 0, count: references.count)
        for (i, ref) in references.enumerated() where ref >= 0 {
            let (c, r) = locate(ref)
            chunkOf[i] = Int32(c)
            rowOf[i] = r
        }
        let anyNull = references.contains { $0 < 0 } || chunks.contains { $0.validity != nil }
        var validity: Bitmap? = nil
        if anyNull {
            var bits = Bitmap(count: references.count, value: true)
            for i in 0..<references.count {
                let c = Int(chunkOf[i])
                if c < 0 || !chunks[c].isValid(rowOf[i]) { bits[i] = false }
            }
            validity = bits
        }
        func gather<T>(_ extract: (Column) -> [T]?, zero: T) -> [T]? {
            var arrays: [[T]] = []
            for chunk in chunks {
                guard let values = extract(chunk) else { return nil }
                arrays.append(values)
            }
            return [T](unsafeUninitializedCapacity: references.count) { out, initialized in
                for i in 0..<references.count {
                    let c = Int(chunkOf[i])
                    (out.baseAddress! + i).initialize(to: c < 0 ? zero : arrays[c][rowOf[i]])
                }
                initialized = references.count
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
            return try concatenate(chunks).take(references)
        }
        guard let data else { throw .shape("chunks of one column have different layouts") }
        return Column(type: first.type, data: data, validity: validity)
    }
}
