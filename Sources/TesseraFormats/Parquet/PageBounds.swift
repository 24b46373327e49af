/// Checks, before any buffer is sized by a page's value count, that the page's bytes
/// hold that many values.
///
/// A page header's `num_values` is only a claim; the per-page scratch (levels, indices,
/// offsets, delta values) is sized from it. Each check here reads only run and block
/// headers, so it costs next to nothing beside the decoding it guards, and it is a
/// necessary condition of that decoding: a page it rejects would fail to decode anyway,
/// only after the allocation.
enum PageBounds {
    /// The RLE/bit-packed hybrid `bytes` (levels of at most `maxLevel`) hold `count` values.
    static func levels(_ bytes: UnsafeRawBufferPointer, maxLevel: Int, count: Int, _ kind: String)
        throws(DecodeError)
    {
        let held = HybridDecoder.valuesHeld(bytes, width: bitWidth(UInt64(maxLevel)), upTo: count)
        guard held >= count else {
            throw DecodeError("\(kind) levels hold \(held) values, the page header says \(count)")
        }
    }

    /// `data`, encoded with `encoding`, holds `count` values of a column of `physical`
    /// type whose fixed values are `width` bytes. Encodings the decoders do not support
    /// pass; the decoder reports them.
    static func values(
        _ data: UnsafeRawBufferPointer, encoding: ParquetEncoding, count: Int, width: Int, physical: PhysicalType
    ) throws(DecodeError) {
        guard count > 0 else { return }
        switch encoding {
        case .plain:
            let needed: Int
            switch physical {
            case .boolean: needed = (count + 7) / 8
            // Every byte-array value has a 4-byte length before it.
            case .byteArray: needed = count * 4
            default: needed = count * width
            }
            guard data.count >= needed else {
                throw DecodeError("PLAIN data holds \(data.count) bytes, \(count) values need at least \(needed)")
            }
        case .plainDictionary, .rleDictionary:
            guard data.count >= 1 else { throw DecodeError("dictionary-encoded page has no bit width") }
            let indexWidth = Int(data[0])
            guard indexWidth <= 32 else { throw DecodeError("dictionary index bit width \(indexWidth) is over 32") }
            if indexWidth == 0 { return }  // every index is 0, no runs needed (see FixedValueDecoding.indices)
            let held = HybridDecoder.valuesHeld(
                UnsafeRawBufferPointer(rebasing: data[1...]), width: indexWidth, upTo: count)
            guard held >= count else {
                throw DecodeError("dictionary indices hold \(held) values, the page needs \(count)")
            }
        case .rle where physical == .boolean:
            var cursor = ByteCursor(data)
            let runs = try cursor.take(Int(try cursor.uint32LE()))
            let held = HybridDecoder.valuesHeld(runs, width: 1, upTo: count)
            guard held >= count else { throw DecodeError("RLE booleans hold \(held) values, the page needs \(count)") }
        case .deltaBinaryPacked, .deltaLengthByteArray, .deltaByteArray:
            var cursor = ByteCursor(data)
            try DeltaDecoding.checkHolds(&cursor, count: count)
        case .byteStreamSplit where width > 0:
            guard data.count / width >= count else {
                throw DecodeError("BYTE_STREAM_SPLIT data holds \(data.count / width) values, the page needs \(count)")
            }
        default:
            return
        }
    }
}

extension HybridDecoder {
    /// How many values (at most `limit`) the hybrid runs in `bytes` hold, reading only
    /// run headers; it counts exactly what `decode` would produce.
    static func valuesHeld(_ bytes: UnsafeRawBufferPointer, width: Int, upTo limit: Int) -> Int {
        guard width >= 0, width <= 32 else { return 0 }
        var cursor = ByteCursor(bytes)
        let valueBytes = (width + 7) / 8
        var held = 0
        while held < limit, cursor.remaining > 0 {
            guard let header = try? cursor.uleb() else { break }
            if header & 1 == 0 {
                guard (try? cursor.take(valueBytes)) != nil else { break }
                held += Int(min(header >> 1, UInt64(limit - held)))
            } else {
                let groups = header >> 1
                guard groups <= UInt64(cursor.remaining) else { break }
                let available = min(Int(groups) * width, cursor.remaining)
                let values = width == 0 ? Int(groups) * 8 : min(Int(groups) * 8, available * 8 / width)
                cursor.position += available
                held += min(values, limit - held)
            }
        }
        return held
    }
}

extension DeltaDecoding {
    /// Checks that the DELTA_BINARY_PACKED run at `cursor` declares `count` values and
    /// that the bytes left can hold the blocks that many values take (each block after
    /// the first value has at least its minimum delta and one width byte per miniblock).
    /// The cursor is not advanced.
    static func checkHolds(_ cursor: inout ByteCursor, count: Int) throws(DecodeError) {
        var peek = cursor
        let blockSize = try peek.uleb()
        let miniblocks = try peek.uleb()
        let total = try peek.uleb()
        _ = try peek.zigzag()
        guard blockSize > 0, blockSize <= 1 << 20, miniblocks > 0, miniblocks <= blockSize else {
            throw DecodeError("DELTA_BINARY_PACKED header has block size \(blockSize) and \(miniblocks) miniblocks")
        }
        guard total == UInt64(count) else {
            throw DecodeError("DELTA_BINARY_PACKED holds \(total) values, page needs \(count)")
        }
        let blocks = count > 1 ? (count - 2) / Int(blockSize) + 1 : 0
        let needed = blocks * (1 + Int(miniblocks))
        guard needed <= peek.remaining else {
            throw DecodeError(
                "DELTA_BINARY_PACKED data of \(peek.remaining) bytes cannot hold \(count) values (\(blocks) blocks)")
        }
    }
}
