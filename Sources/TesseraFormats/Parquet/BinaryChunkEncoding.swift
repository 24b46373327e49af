import TesseraColumnar

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
            let step = max(1, options.pageSize / max(average, 1))
            var entryStart = 0
            var body: [UInt8] = []
            while entryStart < input.entries {
                var entryEnd = pageEnd(input, from: entryStart, step: step)
                var count = valueCount(input, entryStart..<entryEnd)
                body.removeAll(keepingCapacity: true)
                if dictionaryOpen, count > 0 {
                    indices.removeAll(keepingCapacity: true)
                    var inserted = 0
                    while inserted < count {
                        let index = cursor + inserted
                        let value = UnsafeBufferPointer(
                            rebasing: bytes[values.offsets[index]..<values.offsets[index + 1]])
                        indices.append(table.index(of: value))
                        inserted += 1
                        // Flat columns end the page as soon as the dictionary passes its limit.
                        if table.byteSize > options.dictionaryPageSizeLimit
                            || ChunkEncoder.mostlyDistinct(distinct: table.count, seen: index + 1)
                        {
                            dictionaryOpen = false
                            if maxRepetition == 0 { break }
                        }
                    }
                    if inserted < count {
                        entryEnd = entryAfter(input, from: entryStart, values: inserted)
                        count = inserted
                    }
                    _ = levels(input, entryStart..<entryEnd, into: &body)
                    appendIndices(indices, dictionarySize: table.count, to: &body)
                    try appendPage(
                        body, type: .dataPage, values: entryEnd - entryStart, encoding: .rleDictionary, to: &data,
                        uncompressedTotal: &chunk.uncompressedSize)
                } else {
                    _ = levels(input, entryStart..<entryEnd, into: &body)
                    ChunkEncoder.appendPlain(values, cursor..<(cursor + count), bytes, to: &body)
                    try appendPage(
                        body, type: .dataPage, values: entryEnd - entryStart, encoding: .plain, to: &data,
                        uncompressedTotal: &chunk.uncompressedSize)
                }
                cursor += count
                entryStart = entryEnd
            }
        }
        if table.count > 0 {
            let dictionary = table.dictionary
            var page: [UInt8] = []
            dictionary.bytes.withUnsafeBufferPointer { bytes in
                ChunkEncoder.appendPlain(dictionary, 0..<dictionary.count, bytes, to: &page)
            }
            try appendPage(
                page, type: .dictionaryPage, values: dictionary.count, encoding: .plain, to: &chunk.dictionaryPage,
                uncompressedTotal: &chunk.uncompressedSize)
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

    /// PLAIN byte arrays: a 4-byte little-endian length before each value.
    static func appendPlain(
        _ values: BinaryData, _ range: Range<Int>, _ bytes: UnsafeBufferPointer<UInt8>, to body: inout [UInt8]
    ) {
        let total = values.offsets[range.upperBound] - values.offsets[range.lowerBound] + 4 * range.count
        BinaryDecoding.appendBytes(&body, count: total) { out in
            var position = 0
            for index in range {
                let from = values.offsets[index]
                let length = values.offsets[index + 1] - from
                out.storeBytes(of: UInt32(length).littleEndian, toByteOffset: position, as: UInt32.self)
                if length > 0, let source = bytes.baseAddress {
                    out.advanced(by: position + 4).copyMemory(from: source + from, byteCount: length)
                }
                position += 4 + length
            }
        }
    }

    /// The least and greatest values, comparing bytes as unsigned (the format's order for byte arrays).
    static func binaryBounds(_ values: BinaryData) -> ([UInt8], [UInt8])? {
        guard values.count > 0 else { return nil }
        var low = 0
        var high = 0
        values.bytes.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            /// The first 16 bytes as a big-endian pair: unequal prefixes order the values.
            func prefix(_ index: Int) -> (UInt64, UInt64) {
                let from = values.offsets[index]
                let length = values.offsets[index + 1] - from
                if length >= 16 {
                    let raw = UnsafeRawPointer(base + from)
                    return (
                        UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
                        UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                    )
                }
                var high: UInt64 = 0
                var low: UInt64 = 0
                for k in 0..<min(8, length) { high |= UInt64(base[from + k]) << UInt64(56 - 8 * k) }
                if length > 8 { for k in 8..<length { low |= UInt64(base[from + k]) << UInt64(120 - 8 * k) } }
                return (high, low)
            }
            func less(_ a: Int, _ b: Int) -> Bool {
                let aFrom = values.offsets[a], aLength = values.offsets[a + 1] - aFrom
                let bFrom = values.offsets[b], bLength = values.offsets[b + 1] - bFrom
                let common = memcmp(base + aFrom, base + bFrom, min(aLength, bLength))
                return common != 0 ? common < 0 : aLength < bLength
            }
            var lowKey = prefix(0)
            var highKey = lowKey
            for index in 1..<values.count {
                let key = prefix(index)
                if key < lowKey || (key == lowKey && less(index, low)) {
                    low = index
                    lowKey = key
                }
                if key > highKey || (key == highKey && less(high, index)) {
                    high = index
                    highKey = key
                }
            }
        }
        return (Array(values.bytes(at: low)), Array(values.bytes(at: high)))
    }
}
