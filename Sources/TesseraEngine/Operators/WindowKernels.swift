import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// An input column laid out in window order (per key, by event time), in the forms the
/// typed kernels read: validity, numbers, fixed-point integers for exact sums, sketch
/// buckets and registers. Built once per training set; every window of every entity row
/// then reads contiguous buffers instead of boxing values.
final class SortedInput: @unchecked Sendable {
    // Safe because the buffers are written only in `init` and read-only afterwards; the
    // kernels that read them through `KernelInput` run while this object is alive.
    let count: Int
    let isInteger: Bool
    let scale: FixedPointScale?
    private(set) var valid: UnsafeMutableBufferPointer<Bool>
    private(set) var integers: UnsafeMutableBufferPointer<Int64>?
    private(set) var doubles: UnsafeMutableBufferPointer<Double>?
    private(set) var fixed64: UnsafeMutableBufferPointer<Int64>?
    private(set) var fixed128: UnsafeMutableBufferPointer<Int128>?
    private(set) var quantileKeys: UnsafeMutableBufferPointer<Int32>?
    /// `index << 8 | rank` of the HyperLogLog register each value sets.
    private(set) var registers: UnsafeMutableBufferPointer<UInt32>?

    struct Needs {
        var numbers = false
        var sums = false
        var quantiles = false
        var registers = false

        mutating func merge(_ other: Needs) {
            numbers = numbers || other.numbers
            sums = sums || other.sums
            quantiles = quantiles || other.quantiles
            registers = registers || other.registers
        }
    }

    /// The forms `needs` asks for of `column` (already in window order), each buffer
    /// filled in parallel over `threads`.
    init(_ column: Column, needs: Needs, threads: Int) {
        let n = column.count
        count = n
        let chunks = Parallel.chunks(count: n, threads: threads, minimum: 1 << 16)
        let numeric = needs.numbers || needs.sums || needs.quantiles
        var isInteger = false
        switch column.data {
        case .int64, .int32: isInteger = numeric
        default: break
        }
        self.isInteger = isInteger
        valid = .allocate(capacity: n)
        let d: UnsafeMutableBufferPointer<Double>? = numeric ? .allocate(capacity: n) : nil
        let ints: UnsafeMutableBufferPointer<Int64>? = isInteger ? .allocate(capacity: n) : nil
        let shared = UnsafeSendable((valid, d, ints))
        do {
            Parallel.forEach(chunks) { range in
                let (valid, d, ints) = shared.value
                if let bits = column.validity {
                    for p in range { valid[p] = bits[p] }
                } else {
                    for p in range { valid[p] = true }
                }
                guard let d else { return }
                switch column.data {
                case .int64(let v):
                    for p in range { ints?[p] = v[p] }
                    for p in range { d[p] = Double(v[p]) }
                case .int32(let v):
                    for p in range { ints?[p] = Int64(v[p]) }
                    for p in range { d[p] = Double(v[p]) }
                case .float64(let v): for p in range { d[p] = v[p] }
                case .float32(let v): for p in range { d[p] = Double(v[p]) }
                default: for p in range { d[p] = 0 }
                }
            }
        }
        integers = ints
        doubles = d
        var fitted: FixedPointScale?
        if needs.sums && !isInteger, let d {
            fitted = FixedPointScale.fitting(UnsafeBufferPointer(d), valid: UnsafeBufferPointer(valid))
        }
        let scale = fitted
        self.scale = scale
        let f64: UnsafeMutableBufferPointer<Int64>? = scale.map { $0.fitsInt64 ? .allocate(capacity: n) : nil } ?? nil
        let f128: UnsafeMutableBufferPointer<Int128>? =
            scale.map { $0.fitsInt64 ? nil : .allocate(capacity: n) } ?? nil
        let keys: UnsafeMutableBufferPointer<Int32>? = needs.quantiles && d != nil ? .allocate(capacity: n) : nil
        let registers: UnsafeMutableBufferPointer<UInt32>? = needs.registers ? .allocate(capacity: n) : nil
        let derived = UnsafeSendable((valid, d, f64, f128, keys, registers))
        do {
            Parallel.forEach(chunks) { range in
                let (valid, d, f64, f128, keys, registers) = derived.value
                if let scale, let d {
                    if let f64 { for p in range { f64[p] = valid[p] ? scale.integer64(d[p]) : 0 } }
                    if let f128 { for p in range { f128[p] = valid[p] ? scale.integer(d[p]) : 0 } }
                }
                if let keys, let d {
                    for p in range { keys[p] = valid[p] ? (QuantileSketch.key(d[p]) ?? Int32.min) : Int32.min }
                }
                if let registers {
                    for p in range {
                        guard valid[p] else {
                            registers[p] = 0
                            continue
                        }
                        let (index, rank) = HyperLogLog.register(WindowFunction.hash(column, p))
                        registers[p] = UInt32(index) << 8 | UInt32(rank)
                    }
                }
            }
        }
        fixed64 = f64
        fixed128 = f128
        quantileKeys = keys
        self.registers = registers
        // Extremes read the numbers; sums and quantiles have what they need by now.
        if !needs.numbers, let d {
            d.deallocate()
            doubles = nil
        }
    }

    deinit {
        valid.deallocate()
        integers?.deallocate()
        doubles?.deallocate()
        fixed64?.deallocate()
        fixed128?.deallocate()
        quantileKeys?.deallocate()
        registers?.deallocate()
    }

    /// Raw views of the buffers for the kernels (no reference counting per access).
    var raw: KernelInput {
        KernelInput(
            valid: UnsafePointer(valid.baseAddress), integers: integers.map { UnsafePointer($0.baseAddress) } ?? nil,
            doubles: doubles.map { UnsafePointer($0.baseAddress) } ?? nil,
            fixed64: fixed64.map { UnsafePointer($0.baseAddress) } ?? nil,
            fixed128: fixed128.map { UnsafePointer($0.baseAddress) } ?? nil,
            quantileKeys: quantileKeys.map { UnsafePointer($0.baseAddress) } ?? nil,
            registers: registers.map { UnsafePointer($0.baseAddress) } ?? nil, isInteger: isInteger, scale: scale)
    }
}

/// Pointers into a `SortedInput`'s buffers: a trivial value, copied freely in hot loops.
struct KernelInput {
    let valid: UnsafePointer<Bool>?
    let integers: UnsafePointer<Int64>?
    let doubles: UnsafePointer<Double>?
    let fixed64: UnsafePointer<Int64>?
    let fixed128: UnsafePointer<Int128>?
    let quantileKeys: UnsafePointer<Int32>?
    let registers: UnsafePointer<UInt32>?
    let isInteger: Bool
    let scale: FixedPointScale?

    @inline(__always)
    func isValid(_ p: Int) -> Bool { valid?[p] ?? false }

    /// The exact sum over `lo ..< hi`: (integer or fixed-point total, how many values).
    @inline(__always)
    func total(_ lo: Int, _ hi: Int) -> (Int128, Int) {
        var total: Int128 = 0
        var n = 0
        guard let valid else { return (0, 0) }
        if let values = isInteger ? integers : fixed64 {
            // In 64 bits while it fits (the common case, and fast), spilling into 128.
            var wide: Int64 = 0
            for p in lo..<hi where valid[p] {
                let (sum, overflow) = wide.addingReportingOverflow(values[p])
                if overflow {
                    total += Int128(wide)
                    wide = values[p]
                } else {
                    wide = sum
                }
                n += 1
            }
            total += Int128(wide)
        } else if let values = fixed128 {
            for p in lo..<hi where valid[p] {
                total += values[p]
                n += 1
            }
        }
        return (total, n)
    }

    /// A total as a double: integers rounded once to nearest, fixed point through its scale.
    @inline(__always)
    func double(_ total: Int128) -> Double {
        isInteger ? FixedPointScale.nearest(total) : (scale?.double(total) ?? 0)
    }
}

/// What one aggregated feature computes over a window `lo ..< hi` of sorted positions.
enum WindowKernel {
    case countRows
    case countValid
    case sum
    case mean
    case extreme(max: Bool)
    case distinct
    case percentile(Double)
    /// Everything else (first, last, last_n, var, stddev, min/max of non-numbers, sums the
    /// fixed point cannot hold): the reference evaluation over the rows.
    case general

    /// The kernel for `function` over an input of `type` (`nil`: no input).
    static func choose(_ function: AggregateFunction, type: ValueType?) -> WindowKernel {
        guard let type else { return function == .count ? .countRows : .general }
        let numeric = [ValueType.int32, .int64, .float32, .float64].contains(type)
        switch function {
        case .count: return .countValid
        case .sum where numeric: return .sum
        case .mean where numeric: return .mean
        case .min where numeric: return .extreme(max: false)
        case .max where numeric: return .extreme(max: true)
        case .approxCountDistinct: return .distinct
        case .approxPercentile(let q) where numeric: return .percentile(q)
        default: return .general
        }
    }

    var needs: SortedInput.Needs? {
        var needs = SortedInput.Needs()
        switch self {
        case .countRows, .general: return nil
        case .countValid: break
        case .sum, .mean: needs.sums = true
        case .extreme: needs.numbers = true
        case .distinct: needs.registers = true
        case .percentile: needs.quantiles = true
        }
        return needs
    }
}

/// One feature's plan for the hot loop: its kernel, window, input and output, all trivial.
struct FeaturePlan {
    var kernel: WindowKernel
    /// The window's length in microseconds (`nil`: lifetime).
    var span: Int64?
    /// Which of the distinct windows this is (their starts are found once per entity row).
    var spanIndex = 0
    /// Sums and means of one input over one window share their total: its slot, or -1.
    var totalSlot = -1
    var input: KernelInput?
    var output: OutputSlots
}

/// One aggregated feature's output column, written row by row from concurrent chunks.
final class WindowOutput: @unchecked Sendable {
    // Safe because each entity row is written by exactly one chunk of one
    // `concurrentPerform` (the chunks are disjoint ranges), and `finish` reads the buffers
    // only after every chunk has returned.
    let type: ValueType
    private let ints: UnsafeMutableBufferPointer<Int64>
    private let doubles: UnsafeMutableBufferPointer<Double>
    private let valid: UnsafeMutableBufferPointer<Bool>

    init(type: ValueType, rows: Int) {
        self.type = type
        let floating = type == .float32 || type == .float64
        ints = .allocate(capacity: floating ? 0 : rows)
        doubles = .allocate(capacity: floating ? rows : 0)
        ints.initialize(repeating: 0)
        doubles.initialize(repeating: 0)
        valid = .allocate(capacity: rows)
        valid.initialize(repeating: false)
    }

    deinit {
        ints.deallocate()
        doubles.deallocate()
        valid.deallocate()
    }

    var slots: OutputSlots {
        OutputSlots(
            ints: ints.isEmpty ? nil : ints.baseAddress, doubles: doubles.isEmpty ? nil : doubles.baseAddress,
            valid: valid.baseAddress)
    }

    /// The column in the feature's type (int32 and float32 narrowed from what was written),
    /// row `r` being what was written at `positions[r]`.
    func finish(gathering positions: [Int]) -> Column {
        let validity = Bitmap(positions.map { valid[$0] })
        let column: Column
        // By the type, not by which buffer is empty: with no entity rows both are.
        if type == .float32 || type == .float64 {
            column = Column(type: .float64, data: .float64(positions.map { doubles[$0] }), validity: validity)
        } else {
            column = Column(type: .int64, data: .int64(positions.map { ints[$0] }), validity: validity)
        }
        return column.cast(to: type) ?? column
    }
}

/// Raw pointers into a `WindowOutput`.
struct OutputSlots {
    let ints: UnsafeMutablePointer<Int64>?
    let doubles: UnsafeMutablePointer<Double>?
    let valid: UnsafeMutablePointer<Bool>?

    @inline(__always) func set(_ row: Int, int value: Int64) {
        if let ints { ints[row] = value } else { doubles?[row] = Double(value) }
        valid?[row] = true
    }

    @inline(__always) func set(_ row: Int, double value: Double) {
        doubles?[row] = value
        valid?[row] = true
    }

    @inline(__always) func setNull(_ row: Int) { valid?[row] = false }
}

/// Per-chunk scratch space for the kernels, reused across entity rows.
struct WindowScratch {
    /// Per total slot: the entity row it was computed for, and the total.
    var totalRow: [Int] = []
    var totals: [(Int128, Int)] = []
    var keys: [Int32] = []
    var registers: [UInt32] = []
    var histogram = [Int32](repeating: 0, count: 66)
    /// One bit per register, all clear between estimates.
    var seen = [UInt64](repeating: 0, count: HyperLogLog.registerCount / 64)

    @inline(__always)
    mutating func total(_ plan: FeaturePlan, _ input: KernelInput, _ lo: Int, _ hi: Int, row: Int) -> (Int128, Int) {
        let slot = plan.totalSlot
        guard slot >= 0 else { return input.total(lo, hi) }
        if totalRow[slot] == row { return totals[slot] }
        let total = input.total(lo, hi)
        totalRow[slot] = row
        totals[slot] = total
        return total
    }

    /// The distinct-count estimate of the values at `lo ..< hi` (`nil` when none is valid):
    /// each register set once with its highest rank, as a sketch of those values holds it.
    @inline(__always)
    mutating func distinct(_ packed: UnsafePointer<UInt32>, _ valid: UnsafePointer<Bool>, _ lo: Int, _ hi: Int)
        -> Int64?
    {
        registers.removeAll(keepingCapacity: true)
        for p in lo..<hi where valid[p] { registers.append(packed[p]) }
        return estimateRegisters()
    }

    /// The distinct-count estimate of the packed registers in `registers` (`nil` for none).
    @inline(__always)
    mutating func estimateRegisters() -> Int64? {
        guard !registers.isEmpty else { return nil }
        // At most half the registers set: the estimate is linear counting
        // (`HyperLogLog.linearCount`), which needs only how many distinct registers are set,
        // not their ranks — one pass over a bitmap instead of a sort.
        if registers.count <= HyperLogLog.registerCount / 2 {
            var nonzero = 0
            seen.withUnsafeMutableBufferPointer { bits in
                for packed in registers {
                    let index = Int(packed >> 8)
                    let bit = UInt64(1) << UInt64(index & 63)
                    if bits[index >> 6] & bit == 0 {
                        bits[index >> 6] |= bit
                        nonzero += 1
                    }
                }
                for packed in registers { bits[Int(packed >> 8) >> 6] = 0 }
            }
            return HyperLogLog.linearCount(nonzero: nonzero)
        }
        registers.withUnsafeMutableBufferPointer { SmallSort.sort($0) }
        for r in histogram.indices { histogram[r] = 0 }
        var nonzero = 0
        var q = 0
        let n = registers.count
        while q < n {
            var r = q
            while r + 1 < n && registers[r + 1] >> 8 == registers[q] >> 8 { r += 1 }
            // Sorted by (index, rank): the last of a register's run has its highest rank.
            histogram[Int(registers[r] & 0xFF)] += 1
            nonzero += 1
            q = r + 1
        }
        return histogram.withUnsafeBufferPointer { HyperLogLog.estimate(nonzero: nonzero, histogram: $0) }
    }
}
