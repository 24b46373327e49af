#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Approximate distinct counts: a HyperLogLog of precision 14 (16,384 registers, standard
/// error 1.04/√16384 = 0.81%), with a fixed hash (`ValueHash`).
///
/// Registers merge by maximum, so a sketch built from raw events, from merged tiles, online
/// or offline, holds the same registers; the estimate is a function of the registers alone
/// (computed in register order), so the count is the same to the bit. Small sets are kept
/// sparse (sorted index → rank pairs) and read with the same formula.
public struct HyperLogLog: Sendable, Hashable {
    public static let precision = 14
    public static let registerCount = 1 << precision

    /// Register index → rank, for the registers that are not zero, sorted by index.
    public private(set) var registers: [UInt16: UInt8] = [:]

    public init() {}

    /// Adds a value by its 64-bit hash.
    public mutating func add(hash: UInt64) {
        let index = UInt16(truncatingIfNeeded: hash >> UInt64(64 - HyperLogLog.precision))
        let rest = hash << UInt64(HyperLogLog.precision)
        let rank = UInt8(min(rest.leadingZeroBitCount, 64 - HyperLogLog.precision) + 1)
        if (registers[index] ?? 0) < rank { registers[index] = rank }
    }

    public mutating func add(_ other: HyperLogLog) {
        for (index, rank) in other.registers where (registers[index] ?? 0) < rank { registers[index] = rank }
    }

    public mutating func removeAll() { registers.removeAll(keepingCapacity: true) }

    /// The estimated number of distinct values (0 for an empty sketch).
    public var estimate: Int64 {
        guard !registers.isEmpty else { return 0 }
        let m = Double(HyperLogLog.registerCount)
        let zeros = HyperLogLog.registerCount - registers.count
        // Σ 2^-M[j] in register order: zeros contribute 1 each.
        var harmonic = Double(zeros)
        for index in registers.keys.sorted() {
            harmonic += scalbn(1.0, -Int(registers[index] ?? 0))
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        var estimate = alpha * m * m / harmonic
        if estimate <= 2.5 * m && zeros > 0 {
            estimate = m * log(m / Double(zeros))
        }
        return Int64(estimate.rounded())
    }
}

/// The fixed 64-bit hash of values for sketches: equal values hash equally online and
/// offline, whatever their column width (an int32 and an int64 of the same number agree).
public enum ValueHash {
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        // SplitMix64's finalizer: every input bit affects every output bit.
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public static func hash(int: Int64) -> UInt64 { mix(UInt64(bitPattern: int)) }

    /// Doubles by value: -0 and 0 agree, and every NaN agrees.
    @inline(__always)
    public static func hash(double: Double) -> UInt64 {
        if double.isNaN { return mix(0x7FF8_0000_0000_0000) }
        return mix((double == 0 ? 0.0 : double).bitPattern ^ 0x5555_5555_5555_5555)
    }

    /// Bytes (strings, binary): FNV-1a, then mixed.
    public static func hash(bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01B3
        }
        return mix(h ^ UInt64(bytes.count))
    }
}
