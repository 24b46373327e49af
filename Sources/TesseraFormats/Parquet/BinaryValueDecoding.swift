/// Decoders for BYTE_ARRAY values. Each appends the bytes of `count` dense values to
/// `bytes` and their end offsets (absolute, into `bytes`) to `ends`.
enum BinaryDecoding {
    static func plain(_ data: UnsafeRawBufferPointer, count: Int, bytes: inout [UInt8], ends: UnsafeMutablePointer<Int>)
        throws(DecodeError)
    {
        guard count > 0 else { return }
        guard let base = data.baseAddress else {
            throw DecodeError("PLAIN byte-array page is empty but needs \(count) values")
        }
        // Pass 1: check every length and record where each value ends.
        let start = bytes.count
        var position = 0
        var end = start
        let size = data.count
        for i in 0..<count {
            guard size - position >= 4 else {
                throw DecodeError("PLAIN byte-array data ends at value \(i) of \(count)")
            }
            let length = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            position += 4
            guard length <= size - position else {
                throw DecodeError("byte-array value \(i) has length \(length), past the end of the page")
            }
            position += length
            end += length
            ends[i] = end
        }
        // Pass 2: copy the values, skipping their length prefixes.
        appendBytes(&bytes, count: end - start) { target in
            var from = 0
            var to = 0
            for i in 0..<count {
                let length = ends[i] - start - to
                target.advanced(by: to).copyMemory(from: base + from + 4, byteCount: length)
                from += 4 + length
                to += length
            }
        }
    }

    static func plainFixed(
        _ data: UnsafeRawBufferPointer, count: Int, width: Int, bytes: inout [UInt8], ends: UnsafeMutablePointer<Int>
    ) throws(DecodeError) {
        guard data.count >= count * width else {
            throw DecodeError("PLAIN fixed-length data holds \(data.count) bytes, needs \(count * width)")
        }
        let start = bytes.count
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[0..<(count * width)]))
        for i in 0..<count { ends[i] = start + (i + 1) * width }
    }

    /// Gathers dictionary entries by (already checked) index. A few index bytes can
    /// repeat a long entry many times, so the page's output is capped.
    static func gather(
        _ dictionary: BinaryDictionary, indices: UnsafePointer<UInt32>, count: Int, bytes: inout [UInt8],
        ends: UnsafeMutablePointer<Int>
    ) throws(DecodeError) {
        try dictionary.offsets.withUnsafeBufferPointer { (offsets) throws(DecodeError) in
            let start = bytes.count
            var end = start
            for i in 0..<count {
                let index = Int(indices[i])
                end += offsets[index + 1] - offsets[index]
                ends[i] = end
            }
            guard end - start <= ReadLimits.maxPageOutputBytes else {
                throw DecodeError(
                    "dictionary-encoded page of \(count) values expands to \(end - start) bytes, more than a page may (\(ReadLimits.maxPageOutputBytes))"
                )
            }
            dictionary.bytes.withUnsafeBytes { source in
                guard let sourceBase = source.baseAddress else { return }
                appendBytes(&bytes, count: end - start) { target in
                    var to = 0
                    for i in 0..<count {
                        let index = Int(indices[i])
                        let from = offsets[index]
                        let length = offsets[index + 1] - from
                        target.advanced(by: to).copyMemory(from: sourceBase + from, byteCount: length)
                        to += length
                    }
                }
            }
        }
    }

    /// Grows `bytes` by `count` bytes (capacity doubling, so pages append in amortized
    /// constant time) and lets `fill` write them.
    @inline(__always)
    static func appendBytes(_ bytes: inout [UInt8], count: Int, _ fill: (UnsafeMutableRawPointer) -> Void) {
        guard count > 0 else { return }
        let start = bytes.count
        if bytes.capacity < start + count { bytes.reserveCapacity(max(start + count, bytes.capacity * 2)) }
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { fill(base + start) }
        }
    }

    /// DELTA_LENGTH_BYTE_ARRAY: delta-packed lengths, then the bytes back to back.
    static func deltaLength(
        _ data: UnsafeRawBufferPointer, count: Int, bytes: inout [UInt8], ends: UnsafeMutablePointer<Int>,
        scratch: RawBuffer
    ) throws(DecodeError) {
        var cursor = ByteCursor(data)
        let lengths = scratch.typed(Int64.self, count: count)
        try DeltaDecoding.binaryPacked(&cursor, count: count, into: lengths)
        var total = 0
        for i in 0..<count {
            let length = lengths[i]
            guard length >= 0, length <= Int64(cursor.remaining) else {
                throw DecodeError("DELTA_LENGTH_BYTE_ARRAY length \(length) is out of range")
            }
            total += Int(length)
        }
        let body = try cursor.take(total)
        let start = bytes.count
        appendBytes(&bytes, count: total) { target in
            if let source = body.baseAddress { target.copyMemory(from: source, byteCount: total) }
        }
        var end = start
        for i in 0..<count {
            end += Int(lengths[i])
            ends[i] = end
        }
    }

    /// DELTA_BYTE_ARRAY: each value is a prefix of the previous one plus a suffix.
    static func deltaByteArray(
        _ data: UnsafeRawBufferPointer, count: Int, bytes: inout [UInt8], ends: UnsafeMutablePointer<Int>,
        scratch: RawBuffer
    ) throws(DecodeError) {
        var cursor = ByteCursor(data)
        let both = scratch.typed(Int64.self, count: count * 2)
        let prefixes = both
        let suffixes = both + count
        try DeltaDecoding.binaryPacked(&cursor, count: count, into: prefixes)
        try DeltaDecoding.binaryPacked(&cursor, count: count, into: suffixes)
        var previousStart = bytes.count
        var previousLength = 0
        let firstStart = bytes.count
        for i in 0..<count {
            let prefix = prefixes[i]
            let suffix = suffixes[i]
            guard prefix >= 0, prefix <= Int64(previousLength), suffix >= 0, suffix <= Int64(cursor.remaining) else {
                throw DecodeError("DELTA_BYTE_ARRAY value \(i) has prefix \(prefix) and suffix \(suffix), out of range")
            }
            let start = bytes.count
            // Shared prefixes can expand a small page enormously; cap what one page may produce.
            guard start - firstStart + Int(prefix) + Int(suffix) <= ReadLimits.maxPageOutputBytes else {
                throw DecodeError("DELTA_BYTE_ARRAY page expands past 1 GiB")
            }
            if prefix > 0 {
                for k in 0..<Int(prefix) { bytes.append(bytes[previousStart + k]) }
            }
            bytes.append(contentsOf: try cursor.take(Int(suffix)))
            previousStart = start
            previousLength = bytes.count - start
            ends[i] = bytes.count
        }
    }
}

/// A byte-array dictionary: entry `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
struct BinaryDictionary {
    var offsets: [Int] = [0]
    var bytes: [UInt8] = []
    var count: Int { offsets.count - 1 }
}
