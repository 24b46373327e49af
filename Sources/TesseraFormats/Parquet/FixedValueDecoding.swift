/// Decoders for fixed-width values (booleans as one byte, INT32/FLOAT as 4, INT64/DOUBLE as 8,
/// INT96 as 12, FIXED_LEN_BYTE_ARRAY as its length). Each writes `count` dense values to `out`.
enum FixedDecoding {
    static func plain(_ data: UnsafeRawBufferPointer, count: Int, width: Int, into out: UnsafeMutableRawPointer)
        throws(DecodeError)
    {
        let bytes = count * width
        guard data.count >= bytes else {
            throw DecodeError("PLAIN data holds \(data.count) bytes, \(count) values of \(width) bytes need \(bytes)")
        }
        if bytes > 0, let base = data.baseAddress { out.copyMemory(from: base, byteCount: bytes) }
    }

    static func plainBoolean(_ data: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<UInt8>)
        throws(DecodeError)
    {
        guard data.count * 8 >= count else {
            throw DecodeError("PLAIN boolean data holds \(data.count) bytes, \(count) values need \((count + 7) / 8)")
        }
        BitUnpack.unpack32(data, width: 1, count: count, into: out)
    }

    /// Booleans with the RLE encoding: a 4-byte length, then the hybrid runs of width 1.
    static func rleBoolean(_ data: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<UInt8>)
        throws(DecodeError)
    {
        var cursor = ByteCursor(data)
        let length = Int(try cursor.uint32LE())
        var decoder = HybridDecoder(try cursor.take(length), width: 1)
        try decoder.decode(into: out, count: count)
    }

    /// Dictionary indices: one byte of bit width, then hybrid runs. Indices are checked against `dictionaryCount`.
    static func indices(
        _ data: UnsafeRawBufferPointer, count: Int, dictionaryCount: Int, into out: UnsafeMutablePointer<UInt32>
    ) throws(DecodeError) {
        guard count > 0 else { return }
        guard data.count >= 1 else { throw DecodeError("dictionary-encoded page has no bit width") }
        let width = Int(data[0])
        guard width <= 32 else { throw DecodeError("dictionary index bit width \(width) is over 32") }
        // Width 0: every index is 0, whatever follows (parquet-mr, and so Spark, writes no
        // runs at all for a one-value dictionary).
        if width == 0 {
            guard dictionaryCount >= 1 else {
                throw DecodeError("dictionary index 0 is out of range (the dictionary is empty)")
            }
            out.initialize(repeating: 0, count: count)
            return
        }
        var decoder = HybridDecoder(UnsafeRawBufferPointer(rebasing: data[1...]), width: width)
        try decoder.decode(into: out, count: count)
        var maxIndex: UInt32 = 0
        for i in 0..<count { maxIndex = max(maxIndex, out[i]) }
        guard Int(maxIndex) < dictionaryCount else {
            throw DecodeError("dictionary index \(maxIndex) is out of range (dictionary has \(dictionaryCount) values)")
        }
    }

    /// Copies dictionary entries by (already checked) index.
    static func gather(
        _ dictionary: UnsafeRawPointer, width: Int, indices: UnsafePointer<UInt32>, count: Int,
        into out: UnsafeMutableRawPointer
    ) {
        switch width {
        case 1: gatherTyped(dictionary, UInt8.self, indices, count, out)
        case 4: gatherTyped(dictionary, UInt32.self, indices, count, out)
        case 8: gatherTyped(dictionary, UInt64.self, indices, count, out)
        default:
            for i in 0..<count {
                (out + i * width).copyMemory(from: dictionary + Int(indices[i]) * width, byteCount: width)
            }
        }
    }

    @inline(__always)
    private static func gatherTyped<T>(
        _ dictionary: UnsafeRawPointer, _: T.Type, _ indices: UnsafePointer<UInt32>, _ count: Int,
        _ out: UnsafeMutableRawPointer
    ) {
        let source = dictionary.assumingMemoryBound(to: T.self)
        let target = out.assumingMemoryBound(to: T.self)
        for i in 0..<count { target[i] = source[Int(indices[i])] }
    }

    /// BYTE_STREAM_SPLIT: byte `k` of every value is stored in stream `k`.
    static func byteStreamSplit(
        _ data: UnsafeRawBufferPointer, count: Int, width: Int, into out: UnsafeMutableRawPointer
    ) throws(DecodeError) {
        guard width > 0, data.count % width == 0 else {
            throw DecodeError("BYTE_STREAM_SPLIT data of \(data.count) bytes is not a multiple of \(width)")
        }
        let stream = data.count / width
        guard stream >= count else {
            throw DecodeError("BYTE_STREAM_SPLIT data holds \(stream) values, page needs \(count)")
        }
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let target = out.assumingMemoryBound(to: UInt8.self)
        for k in 0..<width {
            let source = base + k * stream
            var position = k
            for i in 0..<count {
                target[position] = source[i]
                position += width
            }
        }
    }

    /// DELTA_BINARY_PACKED integers, stored as 4- or 8-byte values.
    static func delta(
        _ data: UnsafeRawBufferPointer, count: Int, width: Int, into out: UnsafeMutableRawPointer, scratch: RawBuffer
    ) throws(DecodeError) {
        let values = scratch.typed(Int64.self, count: count)
        var cursor = ByteCursor(data)
        try DeltaDecoding.binaryPacked(&cursor, count: count, into: values)
        if width == 8 {
            out.copyMemory(from: values, byteCount: count * 8)
        } else {
            let target = out.assumingMemoryBound(to: Int32.self)
            for i in 0..<count { target[i] = Int32(truncatingIfNeeded: values[i]) }
        }
    }

    /// Spreads `dense` values (packed at the start of `buffer`) to their slots, backwards
    /// and in place; null slots become zero bytes.
    static func spread(
        _ buffer: UnsafeMutableRawPointer, width: Int, valid: UnsafePointer<UInt8>, slots: Int, dense: Int
    ) {
        var source = dense - 1
        var slot = slots - 1
        switch width {
        case 4: spreadTyped(buffer, UInt32.self, valid, slots, dense)
        case 8: spreadTyped(buffer, UInt64.self, valid, slots, dense)
        case 1: spreadTyped(buffer, UInt8.self, valid, slots, dense)
        default:
            while slot >= 0 {
                if valid[slot] != 0 {
                    if source != slot {
                        (buffer + slot * width).copyMemory(from: buffer + source * width, byteCount: width)
                    }
                    source -= 1
                } else {
                    (buffer + slot * width).initializeMemory(as: UInt8.self, repeating: 0, count: width)
                }
                slot -= 1
            }
        }
    }

    @inline(__always)
    private static func spreadTyped<T: FixedWidthInteger>(
        _ buffer: UnsafeMutableRawPointer, _: T.Type, _ valid: UnsafePointer<UInt8>, _ slots: Int, _ dense: Int
    ) {
        let values = buffer.assumingMemoryBound(to: T.self)
        var source = dense - 1
        var slot = slots - 1
        // Branch-free: nulls fall at random, and a mispredicted branch per slot costs more than
        // the select. `source` is clamped at 0 so the (discarded) load stays in bounds.
        while slot >= 0 {
            let present = Int(valid[slot])
            let value = values[source & ~(source >> 63)]
            values[slot] = present != 0 ? value : 0
            source -= present
            slot -= 1
        }
    }
}

/// The delta encodings (DELTA_BINARY_PACKED and the byte-array encodings built on it).
enum DeltaDecoding {
    /// Decodes a DELTA_BINARY_PACKED run of exactly `count` values, leaving the cursor after it.
    static func binaryPacked(_ cursor: inout ByteCursor, count: Int, into out: UnsafeMutablePointer<Int64>)
        throws(DecodeError)
    {
        let blockSize = try cursor.uleb()
        let miniblocks = try cursor.uleb()
        let total = try cursor.uleb()
        let first = try cursor.zigzag()
        guard blockSize > 0, blockSize <= 1 << 20, miniblocks > 0, miniblocks <= blockSize,
            blockSize % miniblocks == 0, (blockSize / miniblocks) % 8 == 0
        else {
            throw DecodeError("DELTA_BINARY_PACKED header has block size \(blockSize) and \(miniblocks) miniblocks")
        }
        guard total == UInt64(count) else {
            throw DecodeError("DELTA_BINARY_PACKED holds \(total) values, page needs \(count)")
        }
        guard count > 0 else { return }
        let perMiniblock = Int(blockSize / miniblocks)
        let miniblockCount = Int(miniblocks)
        out[0] = first
        var last = UInt64(bitPattern: first)
        var produced = 1
        while produced < count {
            let minDelta = UInt64(bitPattern: try cursor.zigzag())
            let widths = try cursor.take(miniblockCount)
            for m in 0..<miniblockCount where produced < count {
                let width = Int(widths[m])
                guard width <= 64 else {
                    throw DecodeError("DELTA_BINARY_PACKED miniblock bit width \(width) is over 64")
                }
                let n = min(perMiniblock, count - produced)
                let fullBytes = perMiniblock * width / 8
                let needed = (n * width + 7) / 8
                guard cursor.remaining >= needed else {
                    throw DecodeError("DELTA_BINARY_PACKED miniblock runs past the end of the page")
                }
                let body = try cursor.take(min(fullBytes, cursor.remaining))
                // The deltas are unpacked where their values go (no buffer sized by the
                // header's block size), then summed in place.
                let target = out + produced
                target.withMemoryRebound(to: UInt64.self, capacity: n) { deltas in
                    BitUnpack.unpack64(body, width: width, count: n, into: deltas)
                    for i in 0..<n {
                        last = last &+ minDelta &+ deltas[i]
                        deltas[i] = last
                    }
                }
                produced += n
            }
        }
    }
}
