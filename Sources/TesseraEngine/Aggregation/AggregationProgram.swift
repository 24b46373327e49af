import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// The online side of a view's window aggregations: what one entity key's state holds, how
/// new events merge into it, and how features are read from it at a time `t`.
///
/// A key's state is its source rows (event time, created time and the input columns) with
/// event time at or after `now − longest window`, sorted by (event, created). Reads evaluate
/// with `WindowEvaluator`, the code training sets use, so a read at `t` gives the bits a
/// training set computes for an entity row at `t` over the same rows: exactly, for every
/// window position (no hop, no tile rounding).
public struct AggregationProgram: Sendable {
    public let view: String
    /// The view's aggregated features, in view order.
    public let features: [Feature]
    let layout: AggregationInputsLayout

    /// The columns a key's state keeps (the aggregations' inputs), as views name them.
    public var inputColumns: [(name: String, type: ValueType)] { layout.inputs }
    /// The longest window in microseconds; `nil` when a window is `lifetime`.
    public var longestWindow: Int64? { layout.longest }

    public init(view: FeatureView) {
        self.view = view.name
        features = view.aggregatedFeatures
        layout = AggregationInputsLayout(features)
    }

    /// Some source rows of one key: event and created times (microseconds; `Int64.min` for
    /// no created time) and one column per input, all of equal length.
    public struct Events: Sendable, Equatable {
        public var event: [Int64]
        public var created: [Int64]
        public var inputs: [Column]

        public init(event: [Int64], created: [Int64], inputs: [Column]) {
            self.event = event
            self.created = created
            self.inputs = inputs
        }

        public var count: Int { event.count }
    }

    /// How many recent pushes a state remembers, so a retried push is not counted twice.
    public static let rememberedPushes = 32

    /// The rows of `new` and of the held state that some window at or after `now` can
    /// contain (event ≥ now − longest window), sorted by (event, created); `nil` when none is.
    ///
    /// - Parameter push: the push's id (`PushID`): a push the state already took (a client's
    ///   retry) changes nothing, as the offline push log takes it once.
    public func merged(_ held: [UInt8]?, with new: Events, now: Int64, push: String? = nil) -> [UInt8]? {
        var parts = [new]
        var pushes: [String] = []
        if let held, let old = decodeState(held) {
            if let push, old.pushes.contains(push) { return held }
            parts.insert(old.events, at: 0)
            pushes = old.pushes
        }
        if let push {
            pushes.append(push)
            if pushes.count > AggregationProgram.rememberedPushes {
                pushes.removeFirst(pushes.count - AggregationProgram.rememberedPushes)
            }
        }
        let horizon = layout.longest.map { now &- $0 } ?? Int64.min
        var event: [Int64] = []
        var created: [Int64] = []
        var origin: [(part: Int, row: Int)] = []
        for (p, part) in parts.enumerated() {
            for r in 0..<part.count where part.event[r] >= horizon {
                event.append(part.event[r])
                created.append(part.created[r])
                origin.append((p, r))
            }
        }
        guard !event.isEmpty else { return nil }
        let order = event.indices.sorted { (event[$0], created[$0], $0) < (event[$1], created[$1], $1) }
        var inputs: [Column] = []
        for k in layout.inputs.indices {
            let columns = parts.map {
                $0.inputs.indices.contains(k) ? $0.inputs[k] : Column(empty: layout.inputs[k].type)
            }
            let whole = (try? Column.concatenate(columns)) ?? Column(empty: layout.inputs[k].type)
            var offsets = [0]
            for part in parts { offsets.append(offsets[offsets.count - 1] + part.count) }
            inputs.append(whole.take(order.map { offsets[origin[$0].part] + origin[$0].row }))
        }
        return encode(
            Events(event: order.map { event[$0] }, created: order.map { created[$0] }, inputs: inputs), pushes: pushes)
    }

    /// The values of `names` (aggregated features of the view) for each state at time `t`,
    /// one column per name; a key without state reads as having no rows (count 0, nulls).
    public func evaluate(_ states: [[UInt8]?], features names: [String], at t: Int64) throws -> [Column] {
        let selected = names.compactMap { name in features.first { $0.name == name } }
        let wanted = AggregationInputsLayout(selected)
        var starts = [0]
        var groupOfRow: [Int32] = []
        var event: [Int64] = []
        var created: [Int64] = []
        var parts: [[Column]] = Array(repeating: [], count: wanted.inputs.count)
        for state in states {
            guard let state, let decoded = decode(state) else {
                groupOfRow.append(-1)
                continue
            }
            groupOfRow.append(Int32(starts.count - 1))
            event += decoded.event
            created += decoded.created
            for (k, input) in wanted.inputs.enumerated() {
                let at = layout.inputs.firstIndex { $0.name == input.name && $0.type == input.type }
                parts[k].append(at.map { decoded.inputs[$0] } ?? Column(empty: input.type))
            }
            starts.append(event.count)
        }
        let columns = try wanted.inputs.indices.map { k in
            parts[k].isEmpty ? Column(empty: wanted.inputs[k].type) : try Column.concatenate(parts[k])
        }
        let evaluator = WindowEvaluator(
            features: selected, inputTypes: wanted.inputs.map(\.type), inputOf: wanted.inputOf, starts: starts,
            event: event, created: created, columns: columns, threads: 1)
        let times = Column.timestamp(Array(repeating: t, count: states.count))
        return try evaluator.evaluate(groupOfRow: groupOfRow, times: times).columns
    }

    /// The newest event time in a state (`nil` for none or an unreadable state).
    public func newestEvent(_ state: [UInt8]) -> Int64? { decode(state)?.event.last }

    // MARK: The state's bytes

    /// version 1 · u8 remembered pushes, each u8 length and its bytes · u32 rows · u8 inputs ·
    /// rows × i64 event · rows × i64 created · per input: u8 type tag · rows validity bytes ·
    /// values (8 bytes each for fixed-width types; for strings and bytes, rows × u32 lengths
    /// then the bytes).
    static let version: UInt8 = 1

    public func encode(_ events: Events, pushes: [String] = []) -> [UInt8] {
        var out: [UInt8] = [AggregationProgram.version]
        out.append(UInt8(min(pushes.count, 255)))
        for push in pushes.prefix(255) {
            let bytes = Array(push.utf8.prefix(255))
            out.append(UInt8(bytes.count))
            out.append(contentsOf: bytes)
        }
        let n = events.count
        out.append(contentsOf: withUnsafeBytes(of: UInt32(n).littleEndian) { Array($0) })
        out.append(UInt8(layout.inputs.count))
        out.reserveCapacity(6 + n * (16 + 9 * layout.inputs.count))
        for value in events.event { append(value, to: &out) }
        for value in events.created { append(value, to: &out) }
        for (k, input) in layout.inputs.enumerated() {
            out.append(AggregationProgram.tag(input.type))
            let column = events.inputs.indices.contains(k) ? events.inputs[k] : Column(empty: input.type)
            for r in 0..<n { out.append(r < column.count && column.isValid(r) ? 1 : 0) }
            switch column.data {
            case .int64(let v): for r in 0..<n { append(r < v.count ? v[r] : 0, to: &out) }
            case .int32(let v): for r in 0..<n { append(r < v.count ? Int64(v[r]) : 0, to: &out) }
            case .float64(let v):
                for r in 0..<n { append(Int64(bitPattern: (r < v.count ? v[r] : 0).bitPattern), to: &out) }
            case .float32(let v):
                for r in 0..<n { append(Int64(bitPattern: Double(r < v.count ? v[r] : 0).bitPattern), to: &out) }
            case .bool(let v): for r in 0..<n { append(r < v.count && v[r] ? 1 : 0, to: &out) }
            case .binary(let data):
                for r in 0..<n {
                    let length = r < data.count ? data.bytes(at: r).count : 0
                    out.append(contentsOf: withUnsafeBytes(of: UInt32(length).littleEndian) { Array($0) })
                }
                for r in 0..<min(n, data.count) { out.append(contentsOf: data.bytes(at: r)) }
            case .list:
                for _ in 0..<n { append(0, to: &out) }
            }
        }
        return out
    }

    /// The events of a state, or `nil` when the bytes are not a state of this program (an
    /// older layout after a breaking apply: then the key reads as having no rows until the
    /// next materialization).
    func decode(_ bytes: [UInt8]) -> Events? { decodeState(bytes)?.events }

    func decodeState(_ bytes: [UInt8]) -> (events: Events, pushes: [String])? {
        var reader = StateReader(bytes)
        guard reader.byte() == AggregationProgram.version, let pushCount = reader.byte() else { return nil }
        var pushes: [String] = []
        for _ in 0..<pushCount {
            guard let length = reader.byte(), let id = reader.bytes(Int(length)) else { return nil }
            pushes.append(String(decoding: id, as: UTF8.self))
        }
        guard let n32 = reader.u32(), let m = reader.byte(), Int(m) == layout.inputs.count else { return nil }
        let n = Int(n32)
        guard let event = reader.int64s(n), let created = reader.int64s(n) else { return nil }
        var inputs: [Column] = []
        for input in layout.inputs {
            guard reader.byte() == AggregationProgram.tag(input.type), let valid = reader.bytes(n) else { return nil }
            let validity = Bitmap(valid.map { $0 != 0 })
            let data: ColumnData
            switch input.type {
            case .int64, .timestamp:
                guard let v = reader.int64s(n) else { return nil }
                data = .int64(v)
            case .int32:
                guard let v = reader.int64s(n) else { return nil }
                data = .int32(v.map { Int32(truncatingIfNeeded: $0) })
            case .float64:
                guard let v = reader.int64s(n) else { return nil }
                data = .float64(v.map { Double(bitPattern: UInt64(bitPattern: $0)) })
            case .float32:
                guard let v = reader.int64s(n) else { return nil }
                data = .float32(v.map { Float(Double(bitPattern: UInt64(bitPattern: $0))) })
            case .bool:
                guard let v = reader.int64s(n) else { return nil }
                data = .bool(v.map { $0 != 0 })
            case .string, .bytes:
                var lengths: [Int] = []
                for _ in 0..<n {
                    guard let length = reader.u32() else { return nil }
                    lengths.append(Int(length))
                }
                var binary = BinaryData()
                for length in lengths {
                    guard let slice = reader.bytes(length) else { return nil }
                    binary.append(bytes: slice)
                }
                data = .binary(binary)
            case .list:
                guard reader.int64s(n) != nil else { return nil }
                return nil
            }
            inputs.append(Column(type: input.type, data: data, validity: validity))
        }
        return (Events(event: event, created: created, inputs: inputs), pushes)
    }

    static func tag(_ type: ValueType) -> UInt8 {
        switch type {
        case .bool: 1
        case .int32: 2
        case .int64: 3
        case .float32: 4
        case .float64: 5
        case .string: 6
        case .bytes: 7
        case .timestamp: 8
        case .list: 9
        }
    }

    private func append(_ value: Int64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}

/// Reads a state's bytes front to back; every read checks the length left.
private struct StateReader {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func byte() -> UInt8? {
        guard at < bytes.count else { return nil }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func u32() -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[at + i]) << (8 * i) }
        at += 4
        return value
    }

    mutating func bytes(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, at + n <= bytes.count else { return nil }
        defer { at += n }
        return bytes[at..<at + n]
    }

    mutating func int64s(_ n: Int) -> [Int64]? {
        guard n >= 0, at + 8 * n <= bytes.count else { return nil }
        var out = [Int64](repeating: 0, count: n)
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8 * i, as: Int64.self))
            }
        }
        at += 8 * n
        return out
    }
}
