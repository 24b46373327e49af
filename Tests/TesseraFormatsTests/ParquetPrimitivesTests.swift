import CLZ4
import Foundation
import TesseraColumnar
import Testing

@testable import TesseraFormats

/// The building blocks on their own: codecs, the hybrid encoding, Thrift's compact protocol.
@Suite struct ParquetPrimitivesTests {
    static func sample(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = ParquetCorruptionTests.Generator(state: seed)
        // Half repetitive, half random: something for the compressors to find.
        return (0..<count).map { $0 % 512 < 256 ? UInt8($0 % 7) : UInt8(truncatingIfNeeded: random.next()) }
    }

    @Test(arguments: [ParquetCompression.uncompressed, .snappy, .gzip, .zstd, .lz4Raw])
    func codecsRoundTripAndRejectGarbage(_ codec: ParquetCompression) throws {
        for size in [0, 1, 100, 70_000] {
            let original = Self.sample(size, seed: UInt64(size))
            var compressed: [UInt8] = []
            _ = try original.withUnsafeBytes { raw in try Codecs.compress(codec, raw, appendingTo: &compressed) }
            var restored = [UInt8](repeating: 0, count: size)
            try compressed.withUnsafeBytes { source in
                try restored.withUnsafeMutableBytes { target in try Codecs.decompress(codec, source, into: target) }
            }
            #expect(restored == original, "\(codec) size \(size)")
            // A wrong expected size or flipped bytes are errors, not crashes.
            if size > 0, codec != .uncompressed {
                var damaged = compressed
                for k in stride(from: 0, to: damaged.count, by: max(1, damaged.count / 8)) { damaged[k] ^= 0x5A }
                var target = [UInt8](repeating: 0, count: size)
                let failed = damaged.withUnsafeBytes { source in
                    target.withUnsafeMutableBytes { out in
                        do {
                            try Codecs.decompress(codec, source, into: out); return out.elementsEqual(original) == false
                        } catch { return true }
                    }
                }
                #expect(failed, "\(codec) accepted damaged data as the original")
                var tooSmall = [UInt8](repeating: 0, count: size - 1)
                #expect(throws: CodecError.self) {
                    try compressed.withUnsafeBytes { source in
                        try tooSmall.withUnsafeMutableBytes { out in try Codecs.decompress(codec, source, into: out) }
                    }
                }
            }
        }
    }

    @Test func hadoopFramedLZ4Decompresses() throws {
        let original = Self.sample(5000, seed: 9)
        var framed: [UInt8] = []
        // Two Hadoop blocks: big-endian raw size, compressed size, then the LZ4 block.
        for part in [original[0..<3000], original[3000...]] {
            var block: [UInt8] = []
            _ = try Array(part).withUnsafeBytes { raw in try Codecs.compress(.lz4Raw, raw, appendingTo: &block) }
            for value in [UInt32(part.count), UInt32(block.count)] {
                framed += [
                    UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff),
                ]
            }
            framed += block
        }
        var restored = [UInt8](repeating: 0, count: original.count)
        try framed.withUnsafeBytes { source in
            try restored.withUnsafeMutableBytes { target in try Codecs.decompress(.lz4, source, into: target) }
        }
        #expect(restored == original)
        #expect(throws: CodecError.self) {
            var out = [UInt8](repeating: 0, count: 10)
            try [UInt8](repeating: 0xFF, count: 12).withUnsafeBytes { source in
                try out.withUnsafeMutableBytes { target in try Codecs.decompress(.brotli, source, into: target) }
            }
        }
    }

    @Test func hybridEncodingRoundTrips() throws {
        var random = ParquetCorruptionTests.Generator(state: 77)
        for width in [1, 2, 3, 5, 8, 13, 17, 24, 32] {
            let maxValue = width == 32 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(width)) - 1
            var values: [UInt32] = []
            while values.count < 3000 {
                let value = UInt32(random.next() % (maxValue + 1))
                // Runs of every length around the 8-value threshold, and lone values.
                values += Array(repeating: value, count: 1 + random.below(20))
            }
            var encoded: [UInt8] = []
            values.withUnsafeBufferPointer { HybridEncoder.encode($0, width: width, appendingTo: &encoded) }
            var decoded = [UInt32](repeating: 0, count: values.count)
            try encoded.withUnsafeBytes { raw in
                var decoder = HybridDecoder(raw, width: width)
                try decoded.withUnsafeMutableBufferPointer { out in
                    try decoder.decode(into: out.baseAddress!, count: values.count)
                }
            }
            #expect(decoded == values, "width \(width)")
            // Asking for more values than were encoded runs out of data: an error.
            #expect(throws: DecodeError.self) {
                try encoded.withUnsafeBytes { raw in
                    var decoder = HybridDecoder(raw, width: width)
                    var out = [UInt32](repeating: 0, count: values.count + 64)
                    try out.withUnsafeMutableBufferPointer {
                        try decoder.decode(into: $0.baseAddress!, count: $0.count)
                    }
                }
            }
        }
    }

    /// parquet-mr (Spark's writer) encodes a one-value dictionary's indices as the bit width
    /// 0 alone, without runs: every index is 0.
    @Test func dictionaryIndicesOfWidthZeroAreAllZero() throws {
        let data: [UInt8] = [0]
        var out = [UInt32](repeating: 9, count: 3)
        try data.withUnsafeBytes { raw in
            try PageBounds.values(raw, encoding: .rleDictionary, count: 3, width: 8, physical: .int64)
            try out.withUnsafeMutableBufferPointer { buffer in
                try FixedDecoding.indices(raw, count: 3, dictionaryCount: 1, into: buffer.baseAddress!)
            }
            #expect(throws: DecodeError.self) {
                var scratch = [UInt32](repeating: 0, count: 3)
                try scratch.withUnsafeMutableBufferPointer { buffer in
                    try FixedDecoding.indices(raw, count: 3, dictionaryCount: 0, into: buffer.baseAddress!)
                }
            }
        }
        #expect(out == [0, 0, 0])
    }

    @Test func compactProtocolSkipsUnknownFieldsAndBoundsNesting() throws {
        // A struct with unknown fields of every wire type around a known one (id 4, the name).
        var e = CompactEncoder()
        e.beginStruct()
        e.field(1, i32: 2)
        e.field(11, bool: true)
        e.field(12, binary: [1, 2, 3])
        e.field(4, string: "kept")
        e.field(20, i64: -5)
        e.field(
            21, struct: { inner in inner.field(1, i32List: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) })
        e.fieldHeader(22, .double)
        e.bytes += [0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
        e.fieldHeader(23, .map)
        e.writeVarint(1)
        e.bytes.append(CompactType.binary.rawValue << 4 | CompactType.i32.rawValue)
        e.writeVarint(1)
        e.bytes.append(65)
        e.writeZigzag(9)
        e.endStruct()
        let element = try e.bytes.withUnsafeBytes { raw in
            var decoder = CompactDecoder(raw)
            return try SchemaElement(decoding: &decoder, .structure)
        }
        #expect(element.name == "kept")
        #expect(element.type == .int64)

        // 200 nested structs: refused, not a stack overflow.
        var deep = [UInt8]()
        for _ in 0..<200 { deep.append(0x1C) }  // field 1, type struct
        deep += [UInt8](repeating: 0, count: 201)
        #expect(throws: ThriftError.self) {
            try deep.withUnsafeBytes { raw in
                var decoder = CompactDecoder(raw)
                try decoder.skip(.structure)
            }
        }
        // A list claiming more elements than bytes remain.
        let hugeList: [UInt8] = [0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(throws: ThriftError.self) {
            try hugeList.withUnsafeBytes { raw in
                var decoder = CompactDecoder(raw)
                _ = try decoder.readListHeader(.list)
            }
        }
    }

    @Test func stringStatisticsOrderBytesAsUnsigned() {
        var random = ParquetCorruptionTests.Generator(state: 5)
        for round in 0..<50 {
            // Shared prefixes of every length around the 8- and 16-byte keys, high bytes, empty values.
            let prefix = Array(repeating: UInt8(0x61), count: random.below(20))
            var values: [[UInt8]] = []
            for _ in 0..<(1 + random.below(60)) {
                let tail = (0..<random.below(24)).map { _ in
                    UInt8(truncatingIfNeeded: random.next() % (round % 2 == 0 ? 256 : 3))
                }
                values.append(prefix + tail)
            }
            var data = BinaryData()
            for value in values { data.append(bytes: value) }
            let bounds = ChunkEncoder.binaryBounds(data)
            let sorted = values.sorted { $0.lexicographicallyPrecedes($1) }
            #expect(bounds?.0 == sorted.first, "round \(round) min")
            #expect(bounds?.1 == sorted.last, "round \(round) max")
        }
    }
}
