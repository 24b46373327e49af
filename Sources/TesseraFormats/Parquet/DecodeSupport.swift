/// A problem decoding page bytes; the chunk reader adds the file, row group, column and page.
struct DecodeError: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A growable raw buffer reused across pages, so decoding a page allocates nothing.
///
/// Owned by one decoding task at a time (never shared across threads).
final class RawBuffer {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        // 8 spare bytes let bit unpacking load whole words at the very end of the data.
        self.pointer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity + 8, alignment: 16)
    }

    deinit { pointer.deallocate() }

    /// Ensures room for `bytes` bytes (contents are not kept).
    func reserve(_ bytes: Int) {
        guard bytes > capacity else { return }
        pointer.deallocate()
        capacity = max(bytes, capacity * 2)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity + 8, alignment: 16)
        MemoryAdvice.hugePages(pointer, bytes: capacity)
    }

    func typed<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        reserve(count * MemoryLayout<T>.stride)
        return pointer.bindMemory(to: T.self, capacity: max(count, 1))
    }
}

/// Reads little-endian numbers and ULEB128/zigzag varints from a byte range with bounds checks.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    mutating func uleb() throws(DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw DecodeError("varint runs past the end of the page") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw DecodeError("varint longer than 10 bytes") }
        }
    }

    mutating func zigzag() throws(DecodeError) -> Int64 {
        let raw = try uleb()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func uint32LE() throws(DecodeError) -> UInt32 {
        guard remaining >= 4 else { throw DecodeError("page ends inside a 4-byte length") }
        let value = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        position += 4
        return value
    }

    /// The next `count` bytes, advancing past them.
    mutating func take(_ count: Int) throws(DecodeError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else {
            throw DecodeError("a length of \(count) bytes runs past the end of the page (\(remaining) left)")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
        position += count
        return slice
    }

    var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[position...]) }
}

/// Bit unpacking, least significant bit first, as Parquet's bit-packed runs and delta miniblocks use.
enum BitUnpack {
    /// Unpacks `count` values of `width` (0...32) bits from `source` into `out`.
    /// `source` must hold at least `(count * width + 7) / 8` bytes.
    @inline(__always)
    static func unpack32<T: FixedWidthInteger & UnsignedInteger>(
        _ source: UnsafeRawBufferPointer, width: Int, count: Int, into out: UnsafeMutablePointer<T>
    ) {
        guard count > 0 else { return }
        if width == 0 {
            out.initialize(repeating: 0, count: count)
            return
        }
        guard let base = source.baseAddress else { return }
        let mask: UInt64 = (1 << UInt64(width)) - 1
        // Whole 8-byte loads while they stay inside the source; then byte by byte.
        let fastLimit = source.count >= 8 ? ((source.count - 8) * 8) / width : 0
        let fast = min(count, fastLimit)
        var bit = 0
        var i = 0
        // Groups of 8 values take exactly `width` bytes: a width known at compile time
        // (one specialization per width) turns every shift and mask into a constant.
        let groups = fast / 8
        if groups > 0 {
            unpackGroups(base, width: width, groups: groups, into: out)
            i = groups * 8
            bit = i * width
        }
        while i < fast {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
            out[i] = T(truncatingIfNeeded: (word >> UInt64(bit & 7)) & mask)
            bit += width
            i += 1
        }
        while i < count {
            out[i] = T(truncatingIfNeeded: slowLoad(source, bit: bit, width: width))
            bit += width
            i += 1
        }
    }

    @inline(__always)
    private static func unpackGroups<T: FixedWidthInteger & UnsignedInteger>(
        _ base: UnsafeRawPointer, width: Int, groups: Int, into out: UnsafeMutablePointer<T>
    ) {
        switch width {
        case 1: groupsOf(base, 1, groups, out)
        case 2: groupsOf(base, 2, groups, out)
        case 3: groupsOf(base, 3, groups, out)
        case 4: groupsOf(base, 4, groups, out)
        case 5: groupsOf(base, 5, groups, out)
        case 6: groupsOf(base, 6, groups, out)
        case 7: groupsOf(base, 7, groups, out)
        case 8: groupsOf(base, 8, groups, out)
        case 9: groupsOf(base, 9, groups, out)
        case 10: groupsOf(base, 10, groups, out)
        case 11: groupsOf(base, 11, groups, out)
        case 12: groupsOf(base, 12, groups, out)
        case 13: groupsOf(base, 13, groups, out)
        case 14: groupsOf(base, 14, groups, out)
        case 15: groupsOf(base, 15, groups, out)
        case 16: groupsOf(base, 16, groups, out)
        case 17: groupsOf(base, 17, groups, out)
        case 18: groupsOf(base, 18, groups, out)
        case 19: groupsOf(base, 19, groups, out)
        case 20: groupsOf(base, 20, groups, out)
        case 21: groupsOf(base, 21, groups, out)
        case 22: groupsOf(base, 22, groups, out)
        case 23: groupsOf(base, 23, groups, out)
        case 24: groupsOf(base, 24, groups, out)
        default: groupsOf(base, width, groups, out)
        }
    }

    @inline(__always)
    private static func groupsOf<T: FixedWidthInteger & UnsignedInteger>(
        _ base: UnsafeRawPointer, _ width: Int, _ groups: Int, _ out: UnsafeMutablePointer<T>
    ) {
        let mask: UInt64 = (1 << UInt64(width)) - 1
        var source = base
        var target = out
        for _ in 0..<groups {
            // The 8 values of a group start at bits 0, w, 2w, … of the group's `width` bytes.
            for k in 0..<8 {
                let bit = k * width
                let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
                target[k] = T(truncatingIfNeeded: (word >> UInt64(bit & 7)) & mask)
            }
            source += width
            target += 8
        }
    }

    /// Unpacks `count` values of `width` (0...64) bits.
    static func unpack64(
        _ source: UnsafeRawBufferPointer, width: Int, count: Int, into out: UnsafeMutablePointer<UInt64>
    ) {
        guard count > 0 else { return }
        if width <= 32 {
            unpack32(source, width: width, count: count, into: out)
            return
        }
        for i in 0..<count { out[i] = slowLoad(source, bit: i * width, width: width) }
    }

    @inline(__always)
    static func slowLoad(_ source: UnsafeRawBufferPointer, bit: Int, width: Int) -> UInt64 {
        var value: UInt64 = 0
        var got = 0
        var position = bit
        while got < width {
            let byteIndex = position >> 3
            let offset = position & 7
            let byte = byteIndex < source.count ? UInt64(source[byteIndex]) : 0
            let take = min(8 - offset, width - got)
            value |= ((byte >> UInt64(offset)) & ((1 << UInt64(take)) - 1)) << UInt64(got)
            got += take
            position += take
        }
        return value
    }
}

/// The RLE / bit-packed hybrid encoding of levels, dictionary indices and RLE booleans.
struct HybridDecoder {
    var cursor: ByteCursor
    let width: Int

    init(_ bytes: UnsafeRawBufferPointer, width: Int) {
        self.cursor = ByteCursor(bytes)
        self.width = width
    }

    /// Whether `bytes` start with one RLE run of at least `count` copies of `value`.
    static func isSingleRun(_ bytes: UnsafeRawBufferPointer, width: Int, value: UInt64, count: Int) -> Bool {
        var cursor = ByteCursor(bytes)
        guard width <= 32, let header = try? cursor.uleb(), header & 1 == 0, header >> 1 >= UInt64(count),
            let stored = try? cursor.take((width + 7) / 8)
        else { return false }
        var v: UInt64 = 0
        for k in 0..<stored.count { v |= UInt64(stored[k]) << UInt64(8 * k) }
        return v == value
    }

    /// Decodes exactly `count` values into `out`; throws when the data ends early.
    mutating func decode<T: FixedWidthInteger & UnsignedInteger>(
        into out: UnsafeMutablePointer<T>, count: Int
    ) throws(DecodeError) {
        guard width >= 0, width <= 32 else { throw DecodeError("bit width \(width) is out of range") }
        let valueBytes = (width + 7) / 8
        var filled = 0
        while filled < count {
            guard cursor.remaining > 0 else {
                throw DecodeError("RLE/bit-packed data ends after \(filled) of \(count) values")
            }
            let header = try cursor.uleb()
            if header & 1 == 0 {
                let run = header >> 1
                let value = try cursor.take(valueBytes)
                var v: UInt64 = 0
                for k in 0..<valueBytes { v |= UInt64(value[k]) << UInt64(8 * k) }
                guard v <= UInt64(T.max) else { throw DecodeError("run value \(v) too large") }
                let n = Int(min(run, UInt64(count - filled)))
                (out + filled).initialize(repeating: T(truncatingIfNeeded: v), count: n)
                filled += n
            } else {
                let groups = header >> 1
                guard groups <= UInt64(cursor.remaining) else {
                    throw DecodeError("bit-packed run of \(groups) groups runs past the end of the data")
                }
                let declaredBytes = Int(groups) * width
                let available = min(declaredBytes, cursor.remaining)
                let values = width == 0 ? Int(groups) * 8 : min(Int(groups) * 8, available * 8 / width)
                let n = min(values, count - filled)
                let data = try cursor.take(available)
                BitUnpack.unpack32(data, width: width, count: n, into: out + filled)
                filled += n
            }
        }
    }
}

/// The number of bits needed to store `value`.
@inline(__always)
func bitWidth(_ value: UInt64) -> Int { 64 - value.leadingZeroBitCount }

#if canImport(Glibc)
    import Glibc
#endif

enum MemoryAdvice {
    /// Asks Linux to back a large buffer with 2 MiB pages: far fewer page faults when a
    /// fresh output array is filled. Only whole huge pages inside the buffer are advised, and
    /// only for buffers of 32 MiB or more: advised regions may stall in the kernel's direct
    /// compaction (`defrag=madvise`), which costs more than it saves on the few-MiB arrays of
    /// one row group (measured: training sets varied 0.71–0.96 s with it, 0.72–0.76 s without).
    static func hugePages(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        #if canImport(Glibc)
            let huge = 2 << 20
            guard bytes >= 16 * huge else { return }
            let start = (Int(bitPattern: pointer) + huge - 1) & ~(huge - 1)
            let end = (Int(bitPattern: pointer) + bytes) & ~(huge - 1)
            guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
            _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }
}

extension Array {
    /// Makes room for `minimum` elements, at least doubling the capacity when it grows:
    /// `reserveCapacity` alone allocates exactly, which turns repeated appends quadratic.
    @inline(__always)
    mutating func reserveGrowing(_ minimum: Int) {
        if capacity < minimum { reserveCapacity(Swift.max(minimum, capacity * 2)) }
    }
}

extension ArraySlice {
    /// As `Array.reserveGrowing`.
    @inline(__always)
    mutating func reserveGrowing(_ minimum: Int) {
        if capacity < minimum { reserveCapacity(Swift.max(minimum, capacity * 2)) }
    }
}
