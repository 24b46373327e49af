import CLZ4
import CSnappy
import CZlib
import CZstd

/// A codec failure; the caller adds the file, row group, column and page.
struct CodecError: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Page (de)compression over the system libraries: snappy, zlib (gzip), zstd and lz4.
enum Codecs {
    /// Whether the reader can decompress pages written with `codec`.
    static func canDecompress(_ codec: ParquetCompression) -> Bool {
        [.uncompressed, .snappy, .gzip, .zstd, .lz4Raw, .lz4].contains(codec)
    }

    /// Decompresses `source` into `destination`, which must be exactly the uncompressed size.
    static func decompress(
        _ codec: ParquetCompression, _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer
    ) throws(CodecError) {
        let expected = destination.count
        switch codec {
        case .uncompressed:
            guard source.count == expected else {
                throw CodecError("uncompressed page holds \(source.count) bytes, header says \(expected)")
            }
            if expected > 0, let dst = destination.baseAddress, let src = source.baseAddress {
                dst.copyMemory(from: src, byteCount: expected)
            }
        case .snappy:
            try snappyDecompress(source, destination)
        case .gzip:
            try inflate(source, destination)
        case .zstd:
            try zstdDecompress(source, destination)
        case .lz4Raw:
            let produced = try lz4Block(source, destination)
            guard produced == expected else {
                throw CodecError("LZ4 page decompressed to \(produced) bytes, header says \(expected)")
            }
        case .lz4:
            try lz4Legacy(source, destination)
        case .brotli, .lzo:
            throw CodecError("\(codec) compression is not supported (use snappy, gzip, zstd or lz4)")
        default:
            throw CodecError("unknown compression codec \(codec.rawValue)")
        }
    }

    /// Checks the size a codec's stream declares for itself, where it has one (snappy; zstd
    /// frames that record their content size), against `expected`, so a wrong page header is
    /// caught before a buffer of its size is allocated.
    static func checkDeclaredSize(_ codec: ParquetCompression, _ source: UnsafeRawBufferPointer, expected: Int)
        throws(CodecError)
    {
        guard let base = source.baseAddress else { return }
        switch codec {
        case .snappy:
            var length = 0
            guard
                snappy_uncompressed_length(base.assumingMemoryBound(to: CChar.self), source.count, &length)
                    == SNAPPY_OK,
                length == expected
            else {
                throw CodecError(
                    "snappy page is corrupt or its size (\(length)) does not match the header (\(expected))")
            }
        case .zstd:
            // A page may hold several frames; each records its content size unless written by a stream.
            var offset = 0
            var total: UInt64 = 0
            while offset < source.count {
                let frame = ZSTD_findFrameCompressedSize(base + offset, source.count - offset)
                if ZSTD_isError(frame) != 0 { throw CodecError("zstd: \(String(cString: ZSTD_getErrorName(frame)))") }
                let content = ZSTD_getFrameContentSize(base + offset, frame)
                // UInt64.max: not recorded (the codec's ratio bound stands); max - 1: unreadable (decompression reports it).
                if content >= UInt64.max - 1 { return }
                total &+= content
                offset += frame
            }
            guard total == UInt64(expected) else {
                throw CodecError(
                    "zstd page holds \(total) bytes by its frame headers, the page header says \(expected)")
            }
        default:
            return
        }
    }

    private static func snappyDecompress(
        _ source: UnsafeRawBufferPointer, _ destination: UnsafeMutableRawBufferPointer
    ) throws(CodecError) {
        guard let src = source.baseAddress?.assumingMemoryBound(to: CChar.self) else {
            throw CodecError("empty snappy page")
        }
        var length = 0
        guard snappy_uncompressed_length(src, source.count, &length) == SNAPPY_OK, length == destination.count else {
            throw CodecError(
                "snappy page is corrupt or its size (\(length)) does not match the header (\(destination.count))")
        }
        if length == 0 { return }
        guard let dst = destination.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        var produced = destination.count
        guard snappy_uncompress(src, source.count, dst, &produced) == SNAPPY_OK, produced == destination.count else {
            throw CodecError("snappy page is corrupt")
        }
    }

    private static func zstdDecompress(
        _ source: UnsafeRawBufferPointer, _ destination: UnsafeMutableRawBufferPointer
    ) throws(CodecError) {
        guard let src = source.baseAddress else { throw CodecError("empty zstd page") }
        let result = ZSTD_decompress(destination.baseAddress, destination.count, src, source.count)
        if ZSTD_isError(result) != 0 {
            throw CodecError("zstd: \(String(cString: ZSTD_getErrorName(result)))")
        }
        guard result == destination.count else {
            throw CodecError("zstd page decompressed to \(result) bytes, header says \(destination.count)")
        }
    }

    private static func lz4Block(
        _ source: UnsafeRawBufferPointer, _ destination: UnsafeMutableRawBufferPointer
    ) throws(CodecError) -> Int {
        guard let src = source.baseAddress, source.count <= Int(Int32.max), destination.count <= Int(Int32.max) else {
            throw CodecError("LZ4 page is empty or too large")
        }
        let produced: Int32
        if let target = destination.baseAddress?.assumingMemoryBound(to: CChar.self) {
            produced = LZ4_decompress_safe(
                src.assumingMemoryBound(to: CChar.self), target, Int32(source.count), Int32(destination.count))
        } else {
            // An empty page must still be a valid (empty) block.
            var spare: CChar = 0
            produced = LZ4_decompress_safe(src.assumingMemoryBound(to: CChar.self), &spare, Int32(source.count), 0)
        }
        guard produced >= 0 else { throw CodecError("LZ4 page is corrupt") }
        return Int(produced)
    }

    /// The deprecated LZ4 codec: Hadoop's framing (big-endian sizes before each
    /// block), or a bare block as some old writers produced.
    private static func lz4Legacy(
        _ source: UnsafeRawBufferPointer, _ destination: UnsafeMutableRawBufferPointer
    ) throws(CodecError) {
        func bigEndian(_ at: Int) -> Int {
            Int(source[at]) << 24 | Int(source[at + 1]) << 16 | Int(source[at + 2]) << 8 | Int(source[at + 3])
        }
        var input = 0
        var output = 0
        var framed = source.count >= 8
        while framed, input < source.count {
            guard input + 8 <= source.count else { framed = false; break }
            let raw = bigEndian(input)
            let compressed = bigEndian(input + 4)
            guard raw <= destination.count - output, compressed <= source.count - input - 8 else {
                framed = false
                break
            }
            let block = UnsafeRawBufferPointer(rebasing: source[(input + 8)..<(input + 8 + compressed)])
            let target = UnsafeMutableRawBufferPointer(rebasing: destination[output..<(output + raw)])
            guard let produced = try? lz4Block(block, target), produced == raw else {
                framed = false
                break
            }
            input += 8 + compressed
            output += raw
        }
        if framed, output == destination.count { return }
        let produced = try lz4Block(source, destination)
        guard produced == destination.count else {
            throw CodecError("LZ4 page decompressed to \(produced) bytes, header says \(destination.count)")
        }
    }

    private static func inflate(
        _ source: UnsafeRawBufferPointer, _ destination: UnsafeMutableRawBufferPointer
    ) throws(CodecError) {
        var stream = z_stream()
        // 15 + 32: accept a gzip or a zlib header.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CodecError("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = 0
        var input = 0
        // Concatenated gzip members are allowed; loop until the input is used up.
        while true {
            stream.next_in = UnsafeMutablePointer(
                mutating: source.baseAddress?.advanced(by: input).assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(clamping: source.count - input)
            stream.next_out = destination.baseAddress?.advanced(by: output).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(clamping: destination.count - output)
            let before = stream.total_in
            let status = CZlib.inflate(&stream, Z_FINISH)
            output = Int(stream.total_out)
            input += Int(stream.total_in - before)
            if status == Z_STREAM_END {
                if input < source.count, output < destination.count {
                    guard inflateReset(&stream) == Z_OK else { throw CodecError("zlib could not restart") }
                    stream.total_out = UInt(output)
                    continue
                }
                break
            }
            if status == Z_BUF_ERROR, stream.avail_out == 0 {
                throw CodecError("gzip page is larger than its header says (\(destination.count) bytes)")
            }
            guard status == Z_OK else { throw CodecError("gzip page is corrupt (zlib status \(status))") }
        }
        guard output == destination.count else {
            throw CodecError("gzip page decompressed to \(output) bytes, header says \(destination.count)")
        }
    }
}
