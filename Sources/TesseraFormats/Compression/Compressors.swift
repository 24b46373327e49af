import CLZ4
import CSnappy
import CZlib
import CZstd

extension Codecs {
    /// Compresses `source` into `buffer` (grown as needed, reused across pages); returns the size.
    static func compress(
        _ codec: ParquetCompression, _ source: UnsafeRawBufferPointer, into buffer: RawBuffer, level: Int32? = nil
    )
        throws(CodecError) -> Int
    {
        switch codec {
        case .snappy:
            buffer.reserve(snappy_max_compressed_length(source.count))
            var length = buffer.capacity
            guard
                snappy_compress(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self), source.count,
                    buffer.pointer.assumingMemoryBound(to: CChar.self), &length) == SNAPPY_OK
            else { throw CodecError("snappy compression failed") }
            return length
        case .zstd:
            buffer.reserve(ZSTD_compressBound(source.count))
            let result = ZSTD_compress(buffer.pointer, buffer.capacity, source.baseAddress, source.count, level ?? 1)
            guard ZSTD_isError(result) == 0 else { throw CodecError("zstd compression failed") }
            return result
        default:
            // Rarer codecs go through the array path.
            var output: [UInt8] = []
            let count = try compress(codec, source, appendingTo: &output, level: level)
            buffer.reserve(count)
            output.withUnsafeBytes { raw in
                if let base = raw.baseAddress, count > 0 { buffer.pointer.copyMemory(from: base, byteCount: count) }
            }
            return count
        }
    }

    /// Compresses `source`, appending the result to `output`; returns the bytes appended.
    static func compress(
        _ codec: ParquetCompression, _ source: UnsafeRawBufferPointer, appendingTo output: inout [UInt8],
        level: Int32? = nil
    ) throws(CodecError) -> Int {
        let start = output.count
        switch codec {
        case .uncompressed:
            output.append(contentsOf: source)
        case .snappy:
            let bound = snappy_max_compressed_length(source.count)
            try appendBounded(&output, bound) { dst, capacity in
                var length = capacity
                let status = snappy_compress(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self), source.count,
                    dst.assumingMemoryBound(to: CChar.self), &length)
                return status == SNAPPY_OK ? length : nil
            }
        case .zstd:
            let bound = ZSTD_compressBound(source.count)
            try appendBounded(&output, bound) { dst, capacity in
                let result = ZSTD_compress(dst, capacity, source.baseAddress, source.count, level ?? 1)
                return ZSTD_isError(result) != 0 ? nil : result
            }
        case .lz4Raw:
            guard source.count < Int(LZ4_MAX_INPUT_SIZE) else { throw CodecError("page too large for LZ4") }
            let bound = Int(LZ4_compressBound(Int32(source.count)))
            try appendBounded(&output, bound) { dst, capacity in
                let produced = LZ4_compress_default(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(capacity))
                return produced > 0 || source.count == 0 ? Int(produced) : nil
            }
        case .gzip:
            try deflate(source, &output, level: level ?? 6)
        default:
            throw CodecError("writing \(codec) is not supported")
        }
        return output.count - start
    }

    /// Appends up to `bound` bytes produced by `body` (which returns how many, or nil on failure).
    private static func appendBounded(
        _ output: inout [UInt8], _ bound: Int, _ body: (UnsafeMutableRawPointer, Int) -> Int?
    ) throws(CodecError) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: bound))
        let produced: Int? = output.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            return body(base + start, bound)
        }
        guard let produced, produced <= bound else {
            output.removeLast(bound)
            throw CodecError("compression failed")
        }
        output.removeLast(bound - produced)
    }

    private static func deflate(_ source: UnsafeRawBufferPointer, _ output: inout [UInt8], level: Int32)
        throws(CodecError)
    {
        var stream = z_stream()
        // 15 + 16: write a gzip header, as the format requires for GZIP.
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else {
            throw CodecError("zlib could not start")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(source.count))) + 32
        var status = Z_OK
        try appendBounded(&output, bound) { dst, capacity in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(source.count)
            stream.next_out = dst.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(capacity)
            status = CZlib.deflate(&stream, Z_FINISH)
            return status == Z_STREAM_END ? Int(stream.total_out) : nil
        }
    }
}
