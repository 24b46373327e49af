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
/// (Σ 2^-rank summed by rank), so the count is the same to the bit. Only the registers that
/// are set are kept (index → rank), so small sets stay small.
public struct HyperLogLog: Sendable, Hashable {
    public static let precision = 14
    public static let registerCount = 1 << precision

    /// Register index → rank, for the registers that are not zero.
    public private(set) var registers: [UInt16: UInt8] = [:]

    public init() {}

    /// The register a hash sets and the rank it offers: the first `precision` bits pick the
    /// register, the position of the first set bit in the rest is the rank.
    @inline(__always)
    public static func register(_ hash: UInt64) -> (index: UInt16, rank: UInt8) {
        let index = UInt16(truncatingIfNeeded: hash >> UInt64(64 - precision))
        let rest = hash << UInt64(precision)
        return (index, UInt8(min(rest.leadingZeroBitCount, 64 - precision) + 1))
    }

    /// Adds a value by its 64-bit hash.
    public mutating func add(hash: UInt64) {
        let (index, rank) = HyperLogLog.register(hash)
        if (registers[index] ?? 0) < rank { registers[index] = rank }
    }

    public mutating func add(_ other: HyperLogLog) {
        for (index, rank) in other.registers where (registers[index] ?? 0) < rank { registers[index] = rank }
    }

    public mutating func removeAll() { registers.removeAll(keepingCapacity: true) }

    /// The estimated number of distinct values (0 for an empty sketch).
    public var estimate: Int64 { HyperLogLog.estimate(ranks: registers.values) }

    /// The estimate from the ranks of the non-zero registers, each register once, in any
    /// order: Σ 2^-rank is summed by rank, so the order registers come in cannot change a bit.
    public static func estimate(ranks: some Sequence<UInt8>) -> Int64 {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 66) { histogram in
            histogram.initialize(repeating: 0)
            var nonzero = 0
            for rank in ranks {
                histogram[Int(rank)] += 1
                nonzero += 1
            }
            return estimate(nonzero: nonzero, histogram: UnsafeBufferPointer(histogram))
        }
    }

    /// Linear counting: the estimate when at most `registerCount / 2` registers are set
    /// (`nonzero` of them, at least 1), which does not depend on their ranks.
    @inline(__always)
    public static func linearCount(nonzero: Int) -> Int64 {
        let m = Double(registerCount)
        return Int64((m * log(m / Double(registerCount - nonzero))).rounded())
    }

    /// The estimate from how many registers are set and how many hold each rank
    /// (`histogram[r]`, r in 1...65).
    public static func estimate(nonzero: Int, histogram: UnsafeBufferPointer<Int32>) -> Int64 {
        guard nonzero > 0 else { return 0 }
        let m = Double(registerCount)
        let zeros = registerCount - nonzero
        if zeros > 0 {
            // Linear counting below 2.5·m needs only the zeros; test the raw estimate first.
            // With at most m/2 registers set the harmonic sum is at least m/2, so the raw
            // estimate is below 1.45·m: linear counting, whatever the ranks.
            var harmonic = Double(zeros)
            for rank in 1..<min(66, histogram.count) where histogram[rank] > 0 {
                harmonic += scalbn(Double(histogram[rank]), -rank)
            }
            let alpha = 0.7213 / (1 + 1.079 / m)
            let raw = alpha * m * m / harmonic
            if raw <= 2.5 * m { return linearCount(nonzero: nonzero) }
            return Int64(raw.rounded())
        }
        var harmonic = 0.0
        for rank in 1..<min(66, histogram.count) where histogram[rank] > 0 {
            harmonic += scalbn(Double(histogram[rank]), -rank)
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        return Int64((alpha * m * m / harmonic).rounded())
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
