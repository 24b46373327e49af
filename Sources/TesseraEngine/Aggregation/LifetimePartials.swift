import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// A `lifetime` feature of an online view: what its running aggregate keeps of the rows a
/// state no longer holds raw (those older than its fold boundary).
///
/// Every kind is exact and mergeable, so the running aggregate plus the raw rows gives the
/// bits a training set computes over all the rows: counts and integer sums add, float sums
/// are `ExactSum`s (one rounding, at the end), variances keep `ExactMoments`, extremes keep
/// the extreme, `first`/`last`/`last_n` keep the k best rows by the total order
/// `WindowFunction` breaks ties with, and the sketches keep their registers and buckets.
struct LifetimeFeature: Sendable {
    enum Kind: Sendable, Equatable {
        /// A bare `count`: every row.
        case rows
        /// `count` of a column: its non-null values.
        case valid
        /// `sum` and `mean` of an integer column.
        case integerSum
        /// `sum` and `mean` of a float column.
        case floatSum
        /// `var` and `stddev`.
        case moments
        case extreme(max: Bool)
        /// `first` (oldest), `last` and `last_n` (newest).
        case picks(newest: Bool, count: Int)
        case registers
        case buckets(quantile: Double)
    }

    /// The feature's position in its view.
    let feature: Int
    let function: AggregateFunction
    /// The state input it reads (`nil` for a bare count).
    let input: Int?
    let kind: Kind
    /// What a stored aggregate is recognized by (the aggregation's spelling and input
    /// type): a view that gains or changes a lifetime feature keeps its other aggregates.
    let identity: UInt64

    init(feature: Int, function: AggregateFunction, input: Int?, inputType: ValueType?, spelling: String) {
        self.feature = feature
        self.function = function
        self.input = input
        identity = Array("\(spelling) as \(inputType.map { "\($0)" } ?? "rows")".utf8).withUnsafeBytes {
            ValueHash.hash(bytes: $0)
        }
        guard input != nil else {
            kind = .rows
            return
        }
        let integer = inputType == .int64 || inputType == .int32
        switch function {
        case .count: kind = .valid
        case .sum, .mean: kind = integer ? .integerSum : .floatSum
        case .variance, .stddev: kind = .moments
        case .min: kind = .extreme(max: false)
        case .max: kind = .extreme(max: true)
        case .first: kind = .picks(newest: false, count: 1)
        case .last: kind = .picks(newest: true, count: 1)
        case .lastN(let k): kind = .picks(newest: true, count: max(1, k))
        case .approxCountDistinct: kind = .registers
        case .approxPercentile(let q): kind = .buckets(quantile: q)
        }
    }
}

/// One lifetime feature's running aggregate (see `LifetimeFeature`).
enum LifetimePartial: Sendable, Equatable {
    /// Not kept: the feature came after rows were folded (a view changed without being
    /// materialized again). It reads as null until a materialization rebuilds the state.
    case missing
    case count(Int64)
    case integerSum(count: Int64, sum: Int128)
    case floatSum(count: Int64, sum: ExactSum)
    case moments(ExactMoments)
    /// The extreme and its row's (event, created): among equal values (NaNs of different
    /// bits) the earliest row's is kept, as a scan in window order keeps it.
    case extreme(Pick?)
    case picks([Pick])
    case registers([UInt16: UInt8])
    case buckets([Int32: Int64])

    /// A row kept by `first`, `last` or `last_n`.
    struct Pick: Sendable, Equatable {
        var event: Int64
        var created: Int64
        var value: ScalarValue
    }

    /// The aggregate of no rows.
    init(_ spec: LifetimeFeature) {
        switch spec.kind {
        case .rows, .valid: self = .count(0)
        case .integerSum: self = .integerSum(count: 0, sum: 0)
        case .floatSum: self = .floatSum(count: 0, sum: ExactSum())
        case .moments: self = .moments(ExactMoments())
        case .extreme: self = .extreme(nil)
        case .picks: self = .picks([])
        case .registers: self = .registers([:])
        case .buckets: self = .buckets([:])
        }
    }

    /// Adds `rows` of `events` (any order: every kind is order-free but for which of two
    /// equal extremes is kept, and the one held, which came first, is).
    mutating func fold(_ events: AggregationProgram.Events, rows: some Collection<Int>, as spec: LifetimeFeature) {
        guard !rows.isEmpty else { return }
        guard let k = spec.input else {
            if case .count(let n) = self { self = .count(n + Int64(rows.count)) }
            return
        }
        guard events.inputs.indices.contains(k) else { return }
        let column = events.inputs[k]
        func valid(_ r: Int) -> Bool { r < column.count && column.isValid(r) }
        func forEachDouble(_ body: (Double) -> Void) {
            switch column.data {
            case .float64(let v): for r in rows where valid(r) { body(v[r]) }
            case .float32(let v): for r in rows where valid(r) { body(Double(v[r])) }
            case .int64(let v): for r in rows where valid(r) { body(Double(v[r])) }
            case .int32(let v): for r in rows where valid(r) { body(Double(v[r])) }
            default: break
            }
        }
        switch self {
        case .missing: return
        case .count(let n):
            var n = n
            for r in rows where valid(r) { n += 1 }
            self = .count(n)
        case .integerSum(var n, var sum):
            switch column.data {
            case .int64(let v):
                for r in rows where valid(r) {
                    sum += Int128(v[r])
                    n += 1
                }
            case .int32(let v):
                for r in rows where valid(r) {
                    sum += Int128(v[r])
                    n += 1
                }
            default: break
            }
            self = .integerSum(count: n, sum: sum)
        case .floatSum(var n, var sum):
            forEachDouble {
                sum.add($0)
                n += 1
            }
            self = .floatSum(count: n, sum: sum)
        case .moments(var moments):
            forEachDouble { moments.add($0) }
            self = .moments(moments)
        case .extreme(var best):
            let max = spec.kind == .extreme(max: true)
            for r in rows where valid(r) {
                let row = Pick(
                    event: events.event[r], created: r < events.created.count ? events.created[r] : Int64.min,
                    value: column.value(at: r))
                if let held = best {
                    let order = WindowFunction.compare(row.value, held.value)
                    if max ? order > 0 : order < 0 {
                        best = row
                    } else if order == 0 && (row.event, row.created) < (held.event, held.created) {
                        best = row
                    }
                } else {
                    best = row
                }
            }
            self = .extreme(best)
        case .picks(var picks):
            guard case .picks(let newest, let count) = spec.kind else { return }
            for r in rows where valid(r) {
                picks.append(
                    Pick(
                        event: events.event[r], created: r < events.created.count ? events.created[r] : Int64.min,
                        value: column.value(at: r)))
            }
            self = .picks(LifetimePartial.best(picks, newest: newest, count: count))
        case .registers(var registers):
            for r in rows where valid(r) {
                let (index, rank) = HyperLogLog.register(WindowFunction.hash(column, r))
                if (registers[index] ?? 0) < rank { registers[index] = rank }
            }
            self = .registers(registers)
        case .buckets(var buckets):
            forEachDouble { value in
                if let key = QuantileSketch.key(value) { buckets[key, default: 0] += 1 }
            }
            self = .buckets(buckets)
        }
    }

    /// The `count` first picks in `WindowFunction`'s order: by (event, created), rows tied
    /// on both by value (the newest end first for `last`, the oldest for `first`).
    static func best(_ picks: [Pick], newest: Bool, count: Int) -> [Pick] {
        let sorted = picks.sorted { a, b in
            if a.event != b.event { return newest ? a.event > b.event : a.event < b.event }
            if a.created != b.created { return newest ? a.created > b.created : a.created < b.created }
            let order = WindowFunction.compare(a.value, b.value)
            return newest ? order > 0 : order < 0
        }
        return Array(sorted.prefix(count))
    }

    /// The feature's value over the rows folded in.
    func value(_ spec: LifetimeFeature) -> ScalarValue {
        switch self {
        case .missing: return .null
        case .count(let n): return .int64(n)
        case .integerSum(let n, let sum):
            guard n > 0 else { return .null }
            if spec.function == .sum { return Int64(exactly: sum).map(ScalarValue.int64) ?? .null }
            return .float64(FixedPointScale.nearest(sum) / Double(n))
        case .floatSum(let n, let sum):
            guard n > 0 else { return .null }
            return .float64(spec.function == .sum ? sum.value : sum.value / Double(n))
        case .moments(let moments):
            let value = spec.function == .stddev ? moments.standardDeviation : moments.variance
            return value.map(ScalarValue.float64) ?? .null
        case .extreme(let best): return best?.value ?? .null
        case .picks(let picks):
            if case .lastN = spec.function { return picks.isEmpty ? .null : .list(picks.map(\.value)) }
            return picks.first?.value ?? .null
        case .registers(let registers):
            return registers.isEmpty ? .null : .int64(HyperLogLog.estimate(ranks: registers.values))
        case .buckets(let buckets):
            guard case .buckets(let q) = spec.kind else { return .null }
            let total = buckets.values.reduce(0, +)
            guard total > 0 else { return .null }
            // The bucket holding rank ⌊q·(n − 1)⌋, walking the keys in value order.
            let rank = Int64(QuantileSketch.rank(q, count: Int(total)))
            var seen: Int64 = 0
            for key in buckets.keys.sorted() {
                seen += buckets[key] ?? 0
                if seen > rank { return .float64(QuantileSketch.representative(key: key)) }
            }
            return .null
        }
    }
}

// MARK: Bytes

extension LifetimePartial {
    /// Appends the aggregates (one per lifetime feature, in order) to `out`.
    static func encode(_ partials: [LifetimePartial], specs: [LifetimeFeature], into out: inout [UInt8]) {
        var writer = ByteWriter(out: out)
        for (partial, spec) in zip(partials, specs) {
            writer.int(Int64(bitPattern: spec.identity))
            switch partial {
            case .missing:
                // Written, so the state keeps saying the aggregate lacks rows it folded.
                writer.byte(0)
            case .count(let n):
                writer.byte(1)
                writer.int(n)
            case .integerSum(let n, let sum):
                writer.byte(2)
                writer.int(n)
                writer.int(Int64(truncatingIfNeeded: sum))
                writer.int(Int64(truncatingIfNeeded: sum >> 64))
            case .floatSum(let n, let sum):
                writer.byte(3)
                writer.int(n)
                writer.sum(sum)
            case .moments(let moments):
                writer.byte(4)
                writer.int(Int64(moments.count))
                writer.sum(moments.sum)
                writer.sum(moments.squares)
            case .extreme(let best):
                writer.byte(5)
                writer.int(best?.event ?? 0)
                writer.int(best?.created ?? 0)
                writer.value(best?.value ?? .null)
            case .picks(let picks):
                writer.byte(6)
                writer.count(picks.count)
                for pick in picks {
                    writer.int(pick.event)
                    writer.int(pick.created)
                    writer.value(pick.value)
                }
            case .registers(let registers):
                writer.byte(7)
                writer.count(registers.count)
                for index in registers.keys.sorted() {
                    writer.int16(index)
                    writer.byte(registers[index] ?? 0)
                }
            case .buckets(let buckets):
                writer.byte(8)
                writer.count(buckets.count)
                for key in buckets.keys.sorted() {
                    writer.int(Int64(key))
                    writer.int(buckets[key] ?? 0)
                }
            }
        }
        out = writer.out
    }

    /// The aggregates `encode` wrote, matched to `specs` by identity (`missing` for a spec
    /// without one), or `nil` when the bytes are not aggregates.
    static func decode(_ raw: UnsafeRawBufferPointer, specs: [LifetimeFeature]) -> [LifetimePartial]? {
        var reader = ByteReader(raw: raw)
        var stored: [UInt64: LifetimePartial] = [:]
        while reader.at < raw.count {
            guard let identity = reader.int(), let tag = reader.byte() else { return nil }
            let partial: LifetimePartial
            switch tag {
            case 0: partial = .missing
            case 1:
                guard let n = reader.count64() else { return nil }
                partial = .count(n)
            case 2:
                guard let n = reader.count64(), let lo = reader.int(), let hi = reader.int() else { return nil }
                partial = .integerSum(count: n, sum: Int128(hi) << 64 | Int128(UInt64(bitPattern: lo)))
            case 3:
                guard let n = reader.count64(), let sum = reader.sum() else { return nil }
                partial = .floatSum(count: n, sum: sum)
            case 4:
                guard let n = reader.count64(), let sum = reader.sum(), let squares = reader.sum() else { return nil }
                partial = .moments(ExactMoments(count: Int(n), sum: sum, squares: squares))
            case 5:
                guard let event = reader.int(), let created = reader.int(), let value = reader.value() else {
                    return nil
                }
                partial = .extreme(value == .null ? nil : Pick(event: event, created: created, value: value))
            case 6:
                guard let n = reader.count() else { return nil }
                var picks: [Pick] = []
                for _ in 0..<n {
                    guard let event = reader.int(), let created = reader.int(), let value = reader.value() else {
                        return nil
                    }
                    picks.append(Pick(event: event, created: created, value: value))
                }
                partial = .picks(picks)
            case 7:
                guard let n = reader.count() else { return nil }
                var registers: [UInt16: UInt8] = [:]
                for _ in 0..<n {
                    guard let index = reader.int16(), let rank = reader.byte(), Int(index) < HyperLogLog.registerCount,
                        rank >= 1, Int(rank) <= 65 - HyperLogLog.precision
                    else { return nil }
                    registers[index] = rank
                }
                partial = .registers(registers)
            case 8:
                guard let n = reader.count() else { return nil }
                var buckets: [Int32: Int64] = [:]
                for _ in 0..<n {
                    guard let key = reader.int(), let count = reader.count64(), count > 0 else { return nil }
                    buckets[Int32(truncatingIfNeeded: key)] = count
                }
                partial = .buckets(buckets)
            default: return nil
            }
            stored[UInt64(bitPattern: identity)] = partial
        }
        return specs.map { spec in
            // One of another kind than the feature's (a hash collision): not its aggregate.
            guard let partial = stored[spec.identity], partial != .missing, LifetimePartial(spec).sameKind(as: partial)
            else { return .missing }
            return partial
        }
    }

    private func sameKind(as other: LifetimePartial) -> Bool {
        switch (self, other) {
        case (.count, .count), (.integerSum, .integerSum), (.floatSum, .floatSum), (.moments, .moments),
            (.extreme, .extreme), (.picks, .picks), (.registers, .registers), (.buckets, .buckets):
            return true
        default: return false
        }
    }
}

/// Little-endian writes of the running aggregates' fields.
private struct ByteWriter {
    var out: [UInt8]

    mutating func byte(_ value: UInt8) { out.append(value) }
    mutating func int(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
    mutating func int16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
    mutating func count(_ value: Int) {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { out.append(contentsOf: $0) }
    }
    mutating func double(_ value: Double) { int(Int64(bitPattern: value.bitPattern)) }

    mutating func sum(_ sum: ExactSum) {
        double(sum.specialPart)
        count(sum.partials.count)
        for part in sum.partials { double(part) }
    }

    mutating func bytes(_ bytes: some Collection<UInt8>) {
        count(bytes.count)
        out.append(contentsOf: bytes)
    }

    /// A value with its kind, so a row's value reads back with its type.
    mutating func value(_ value: ScalarValue) {
        switch value {
        case .bool(let v):
            byte(1)
            byte(v ? 1 : 0)
        case .int32(let v):
            byte(2)
            int(Int64(v))
        case .int64(let v):
            byte(3)
            int(v)
        case .float32(let v):
            byte(4)
            int(Int64(v.bitPattern))
        case .float64(let v):
            byte(5)
            double(v)
        case .string(let v):
            byte(6)
            bytes(Array(v.utf8))
        case .bytes(let v):
            byte(7)
            bytes(v)
        case .timestamp(let v):
            byte(8)
            int(v.microseconds)
        case .null, .list:
            // Inputs are scalars; a list never reaches a running aggregate.
            byte(0)
        }
    }
}

/// The reads matching `ByteWriter`, each `nil` past the end.
private struct ByteReader {
    let raw: UnsafeRawBufferPointer
    var at = 0

    mutating func byte() -> UInt8? {
        guard at < raw.count else { return nil }
        defer { at += 1 }
        return raw[at]
    }

    mutating func int() -> Int64? {
        guard at + 8 <= raw.count else { return nil }
        defer { at += 8 }
        return Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self))
    }

    mutating func int16() -> UInt16? {
        guard at + 2 <= raw.count else { return nil }
        defer { at += 2 }
        return UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    mutating func count() -> Int? {
        guard at + 4 <= raw.count else { return nil }
        defer { at += 4 }
        let n = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        // Every counted item takes at least one byte: a count past the end is not ours.
        return n <= raw.count - at - 4 ? n : nil
    }

    mutating func double() -> Double? { int().map { Double(bitPattern: UInt64(bitPattern: $0)) } }

    /// A count of rows: not negative, and far from overflowing when rows are added.
    mutating func count64() -> Int64? {
        guard let n = int(), n >= 0, n < 1 << 62 else { return nil }
        return n
    }

    mutating func sum() -> ExactSum? {
        guard let special = double(), let n = count() else { return nil }
        var partials: [Double] = []
        partials.reserveCapacity(n)
        for _ in 0..<n {
            guard let part = double(), part.isFinite else { return nil }
            partials.append(part)
        }
        return ExactSum(restoring: partials, special: special)
    }

    mutating func bytes() -> [UInt8]? {
        guard let n = count(), at + n <= raw.count else { return nil }
        defer { at += n }
        return Array(raw[at..<(at + n)])
    }

    mutating func value() -> ScalarValue? {
        guard let kind = byte() else { return nil }
        switch kind {
        case 0: return .null
        case 1: return byte().map { .bool($0 != 0) }
        case 2: return int().map { .int32(Int32(truncatingIfNeeded: $0)) }
        case 3: return int().map(ScalarValue.int64)
        case 4: return int().map { .float32(Float(bitPattern: UInt32(truncatingIfNeeded: $0))) }
        case 5: return double().map(ScalarValue.float64)
        case 6: return bytes().map { .string(String(decoding: $0, as: UTF8.self)) }
        case 7: return bytes().map(ScalarValue.bytes)
        case 8: return int().map { .timestamp(Timestamp(microseconds: $0)) }
        default: return nil
        }
    }
}
