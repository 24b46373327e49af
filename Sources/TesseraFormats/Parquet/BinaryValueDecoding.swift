/// Decoders for BYTE_ARRAY values. Each appends the bytes of `count` dense values to
/// `bytes` and their end offsets (absolute, into `bytes`) to `ends`.
enum BinaryDecoding {
    static func plain(_ data: UnsafeRawBufferPointer, count: Int, bytes: inout [UInt8], ends: UnsafeMutablePointer<Int>)
        throws(DecodeError)
    {
        guard let base = data.baseAddress else {
            if count > 0 { throw DecodeError("PLAIN byte-array page is empty but needs \(count) values") }
            return
        }
        // The values' bytes cannot exceed the page's, so one reservation covers them.
        bytes.reserveCapacity(bytes.count + data.count)
        var position = 0
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
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: base + position, count: length))
            position += length
            ends[i] = bytes.count
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

    /// Gathers dictionary entries by (already checked) index.
    static func gather(
        _ dictionary: BinaryDictionary, indices: UnsafePointer<UInt32>, count: Int, bytes: inout [UInt8],
        ends: UnsafeMutablePointer<Int>
    ) {
        dictionary.offsets.withUnsafeBufferPointer { offsets in
            var total = 0
            for i in 0..<count {
                let index = Int(indices[i])
                total += offsets[index + 1] - offsets[index]
            }
            let start = bytes.count
            bytes.reserveCapacity(start + total)
            dictionary.bytes.withUnsafeBytes { source in
                guard let sourceBase = source.baseAddress else {
                    for i in 0..<count { ends[i] = start }
                    return
                }
                var end = start
                // Appending through a pointer range keeps this a tight copy loop.
                for i in 0..<count {
                    let index = Int(indices[i])
                    let from = offsets[index]
                    let length = offsets[index + 1] - from
                    if length > 0 { bytes.append(contentsOf: UnsafeRawBufferPointer(start: sourceBase + from, count: length)) }
                    end += length
                    ends[i] = end
                }
            }
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
        bytes.append(contentsOf: body)
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
            guard start - firstStart + Int(prefix) + Int(suffix) <= 1 << 30 else {
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
