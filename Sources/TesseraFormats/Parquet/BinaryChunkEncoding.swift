import TesseraColumnar

extension ChunkEncoder {
    /// Byte arrays: dictionary-encoded while the dictionary stays under its limit, PLAIN after.
    func encodeBinary(_ values: BinaryData, _ input: ChunkInput) throws(CodecError) -> EncodedChunk {
        var chunk = EncodedChunk()
        var data: [UInt8] = []
        var table = BinaryDictionaryTable()
        var dictionaryOpen = options.dictionary
        var cursor = 0
        var indices: [UInt32] = []
        let average = values.count > 0 ? values.bytes.count / values.count + 4 : 16
        try values.bytes.withUnsafeBufferPointer { (bytes) throws(CodecError) in
            for page in pages(input, entriesPerPage: options.pageSize / max(average, 1)) {
                var body: [UInt8] = []
                let count = levels(input, page, into: &body)
                let range = cursor..<(cursor + count)
                cursor += count
                if dictionaryOpen, count > 0 {
                    indices.removeAll(keepingCapacity: true)
                    for index in range {
                        let value = UnsafeBufferPointer(rebasing: bytes[values.offsets[index]..<values.offsets[index + 1]])
                        indices.append(table.index(of: value))
                    }
                    appendIndices(indices, dictionarySize: table.count, to: &body)
                    try appendPage(body, type: .dataPage, values: page.count, encoding: .rleDictionary, to: &data, uncompressedTotal: &chunk.uncompressedSize)
                    if table.byteSize > options.dictionaryPageSizeLimit { dictionaryOpen = false }
                } else {
                    body.reserveCapacity(body.count + values.offsets[range.upperBound] - values.offsets[range.lowerBound] + 4 * count)
                    for index in range {
                        let from = values.offsets[index]
                        let to = values.offsets[index + 1]
                        let length = UInt32(to - from)
                        for k in 0..<4 { body.append(UInt8(truncatingIfNeeded: length >> UInt32(8 * k))) }
                        body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from..<to]))
                    }
                    try appendPage(body, type: .dataPage, values: page.count, encoding: .plain, to: &data, uncompressedTotal: &chunk.uncompressedSize)
                }
            }
        }
        if table.count > 0 {
            let dictionary = table.dictionary
            var page: [UInt8] = []
            page.reserveCapacity(dictionary.bytes.count + 4 * dictionary.count)
            for index in 0..<dictionary.count {
                let length = UInt32(dictionary.length(at: index))
                for k in 0..<4 { page.append(UInt8(truncatingIfNeeded: length >> UInt32(8 * k))) }
                page.append(contentsOf: dictionary.bytes(at: index))
            }
            try appendPage(page, type: .dictionaryPage, values: dictionary.count, encoding: .plain, to: &chunk.dictionaryPage, uncompressedTotal: &chunk.uncompressedSize)
            chunk.encodings = [.plain, .rle, .rleDictionary]
        } else {
            chunk.encodings = [.plain, .rle]
        }
        chunk.bytes = data
        if let (low, high) = ChunkEncoder.binaryBounds(values), low.count <= 4096, high.count <= 4096 {
            chunk.statistics.minValue = low
            chunk.statistics.maxValue = high
        }
        return chunk
    }

    /// The least and greatest values, comparing bytes as unsigned (the format's order for byte arrays).
    static func binaryBounds(_ values: BinaryData) -> ([UInt8], [UInt8])? {
        guard values.count > 0 else { return nil }
        var low = 0
        var high = 0
        values.bytes.withUnsafeBufferPointer { bytes in
            func less(_ a: Int, _ b: Int) -> Bool {
                let x = UnsafeBufferPointer(rebasing: bytes[values.offsets[a]..<values.offsets[a + 1]])
                let y = UnsafeBufferPointer(rebasing: bytes[values.offsets[b]..<values.offsets[b + 1]])
                return x.lexicographicallyPrecedes(y)
            }
            for index in 1..<values.count {
                if less(index, low) { low = index }
                if less(high, index) { high = index }
            }
        }
        return (Array(values.bytes(at: low)), Array(values.bytes(at: high)))
    }
}
