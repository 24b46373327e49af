import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// One key's aggregation state as plain arrays: the form merges work on.
///
/// Bytes (little-endian): version 3 · i64 log mark (the last pushed-event log record the
/// state includes, see `PendingStates`) · u8 remembered pushes, each a u64 hash of its id ·
/// u32 rows · u8 inputs · rows × i64 event · rows × i64 created · per input: u8 type tag ·
/// rows validity bytes · values (rows × 8 bytes for fixed-width types: integers and
/// timestamps as i64, floats as the float64 bits, bools 0/1; for strings and bytes, rows ×
/// u32 lengths, then the bytes).
///
/// Version 4, the states of views with `lifetime` windows, adds after the inputs: i64 fold
/// boundary (rows older are no longer held raw) · i64 rows folded · i64 newest folded event
/// · u32 length · the running aggregates of the lifetime features (`LifetimePartial`).
struct StateRows {
    var mark: Int64 = 0
    var pushes: [UInt64] = []
    var event: [Int64] = []
    var created: [Int64] = []
    /// Per input: validity, and either words (fixed-width types) or byte strings.
    var valid: [[Bool]]
    var words: [[Int64]]
    var binary: [[[UInt8]]]

    static let version: UInt8 = 3
    /// The layout with running aggregates after the rows (views with lifetime windows).
    static let lifetimeVersion: UInt8 = 4
    /// The layout before the log mark: read as mark 0.
    static let unmarkedVersion: UInt8 = 2

    init(inputs: Int) {
        valid = Array(repeating: [], count: inputs)
        words = Array(repeating: [], count: inputs)
        binary = Array(repeating: [], count: inputs)
    }

    var count: Int { event.count }

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

    static func isBinary(_ type: ValueType) -> Bool { type == .string || type == .bytes }

    /// The state word of a fixed-width value (0 for a missing row).
    @inline(__always)
    static func word(_ column: Column, _ r: Int) -> Int64 {
        guard r < column.count else { return 0 }
        switch column.data {
        case .int64(let v): return v[r]
        case .int32(let v): return Int64(v[r])
        case .float64(let v): return Int64(bitPattern: v[r].bitPattern)
        case .float32(let v): return Int64(bitPattern: Double(v[r]).bitPattern)
        case .bool(let v): return v[r] ? 1 : 0
        default: return 0
        }
    }

    /// The rows as columns typed as `inputs`.
    func events(inputs: [(name: String, type: ValueType)]) -> AggregationProgram.Events {
        var columns: [Column] = []
        for (k, input) in inputs.enumerated() {
            let validity = Bitmap(valid[k])
            let data: ColumnData
            switch input.type {
            case .int32: data = .int32(words[k].map { Int32(truncatingIfNeeded: $0) })
            case .float64: data = .float64(words[k].map { Double(bitPattern: UInt64(bitPattern: $0)) })
            case .float32: data = .float32(words[k].map { Float(Double(bitPattern: UInt64(bitPattern: $0))) })
            case .bool: data = .bool(words[k].map { $0 != 0 })
            case .string, .bytes:
                var values = BinaryData()
                for bytes in binary[k] { values.append(bytes: bytes[...]) }
                data = .binary(values)
            default: data = .int64(words[k])
            }
            columns.append(Column(type: input.type, data: data, validity: validity))
        }
        return AggregationProgram.Events(event: event, created: created, inputs: columns)
    }

    func encode(inputs: [(name: String, type: ValueType)], version: UInt8 = StateRows.version) -> [UInt8] {
        let n = count
        var out: [UInt8] = []
        out.reserveCapacity(8 + n * (16 + 9 * inputs.count))
        func put(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        StateRows.header(
            version: version, mark: mark, pushes: pushes, rows: n, inputs: inputs.count, into: &out)
        for value in event { put(value) }
        for value in created { put(value) }
        for (k, input) in inputs.enumerated() {
            out.append(StateRows.tag(input.type))
            for r in 0..<n { out.append(valid[k][r] ? 1 : 0) }
            if StateRows.isBinary(input.type) {
                for r in 0..<n {
                    withUnsafeBytes(of: UInt32(binary[k][r].count).littleEndian) { out.append(contentsOf: $0) }
                }
                for r in 0..<n { out.append(contentsOf: binary[k][r]) }
            } else {
                for r in 0..<n { put(words[k][r]) }
            }
        }
        return out
    }

    /// The bytes of a state holding exactly `rows` of `new` (already in window order),
    /// remembering `pushes`: what merging them into an empty state gives, written in one
    /// typed pass per column (how materialization builds every key's state).
    static func encode(
        _ new: AggregationProgram.Events, rows: [Int], mark: Int64 = 0, pushes: [UInt64],
        inputs: [(name: String, type: ValueType)], version: UInt8 = StateRows.version
    ) -> [UInt8] {
        var out: [UInt8] = []
        header(version: version, mark: mark, pushes: pushes, rows: rows.count, inputs: inputs.count, into: &out)
        // The body's exact size first, then every section written in place: materializing a
        // view encodes every key's state, so no per-value append.
        let n = rows.count
        let columns = inputs.enumerated().map { k, input in
            new.inputs.indices.contains(k) ? new.inputs[k] : Column(empty: input.type)
        }
        var body = 16 * n
        for (column, input) in zip(columns, inputs) {
            body += 1 + n
            if isBinary(input.type) {
                body += 4 * n
                if case .binary(let data) = column.data {
                    for r in rows where r < data.count { body += data.offsets[r + 1] - data.offsets[r] }
                }
            } else {
                body += 8 * n
            }
        }
        let headerSize = out.count
        out.append(contentsOf: repeatElement(0, count: body))
        out.withUnsafeMutableBytes { raw in
            var at = headerSize
            func put(_ value: Int64) {
                raw.storeBytes(of: value.littleEndian, toByteOffset: at, as: Int64.self)
                at += 8
            }
            new.event.withUnsafeBufferPointer { event in for r in rows { put(event[r]) } }
            new.created.withUnsafeBufferPointer { created in
                for r in rows { put(r < created.count ? created[r] : Int64.min) }
            }
            for (column, input) in zip(columns, inputs) {
                raw[at] = tag(input.type)
                at += 1
                if let validity = column.validity {
                    for r in rows {
                        raw[at] = r < column.count && validity[r] ? 1 : 0
                        at += 1
                    }
                } else {
                    for r in rows {
                        raw[at] = r < column.count ? 1 : 0
                        at += 1
                    }
                }
                switch column.data {
                case .binary(let data):
                    func length(_ r: Int) -> Int { r < data.count ? data.offsets[r + 1] - data.offsets[r] : 0 }
                    for r in rows {
                        raw.storeBytes(of: UInt32(length(r)).littleEndian, toByteOffset: at, as: UInt32.self)
                        at += 4
                    }
                    data.bytes.withUnsafeBytes { bytes in
                        for r in rows where length(r) > 0 {
                            let from = data.offsets[r]
                            let count = length(r)
                            UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + count)])
                                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[from..<(from + count)]))
                            at += count
                        }
                    }
                case .int64(let v): v.withUnsafeBufferPointer { v in for r in rows { put(r < v.count ? v[r] : 0) } }
                case .float64(let v):
                    v.withUnsafeBufferPointer { v in
                        for r in rows { put(r < v.count ? Int64(bitPattern: v[r].bitPattern) : 0) }
                    }
                default:
                    if isBinary(input.type) {
                        // A binary input without binary data: every value empty.
                        for _ in rows {
                            raw.storeBytes(of: UInt32(0), toByteOffset: at, as: UInt32.self)
                            at += 4
                        }
                    } else {
                        for r in rows { put(word(column, r)) }
                    }
                }
            }
        }
        return out
    }

    /// Writes the header: version, log mark, remembered pushes, row and input counts.
    static func header(
        version: UInt8 = StateRows.version, mark: Int64, pushes: [UInt64], rows: Int, inputs: Int,
        into out: inout [UInt8]
    ) {
        out.append(version)
        withUnsafeBytes(of: mark.littleEndian) { out.append(contentsOf: $0) }
        out.append(UInt8(min(pushes.count, 255)))
        for push in pushes.suffix(255) { withUnsafeBytes(of: push.littleEndian) { out.append(contentsOf: $0) } }
        withUnsafeBytes(of: UInt32(rows).littleEndian) { out.append(contentsOf: $0) }
        out.append(UInt8(inputs))
    }

    /// Appends a version 4 state's fold boundary, fold counts and running aggregates.
    static func tail(
        boundary: Int64, folded: Int64, newest: Int64, partials: [LifetimePartial], specs: [LifetimeFeature],
        into out: inout [UInt8]
    ) {
        for value in [boundary, folded, newest] {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        var body: [UInt8] = []
        LifetimePartial.encode(partials, specs: specs, into: &body)
        withUnsafeBytes(of: UInt32(body.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: body)
    }

    /// The rows of a state, or `nil` when the bytes are not a state of `inputs` (an older
    /// layout after a breaking apply: the key then reads as having no rows until rebuilt).
    static func decode(_ bytes: [UInt8], inputs: [(name: String, type: ValueType)]) -> StateRows? {
        bytes.withUnsafeBytes { raw in
            guard let view = StateView(raw, inputs: inputs) else { return nil }
            var rows = view.rows(0..<view.count, inputs: inputs)
            rows.mark = view.mark
            rows.pushes = view.pushes()
            return rows
        }
    }
}

/// A state's bytes read in place, without copying: the form lookups evaluate.
struct StateView {
    let raw: UnsafeRawBufferPointer
    let count: Int
    /// The last pushed-event log record the state includes (0: none).
    let mark: Int64
    let pushStart: Int
    let pushCount: Int
    let eventAt: Int
    let createdAt: Int
    /// Per input `k`: where its validity bytes start (`at[2k]`), and its values, or
    /// lengths for binary (`at[2k + 1]`). One array, so reading a state allocates once.
    let at: [Int]
    /// Per input, when some input is binary: the start of each binary value's bytes
    /// (`count + 1` offsets; empty for other inputs). Empty when no input is binary.
    let binaryStarts: [[Int]]
    /// Version 4: rows with event time before this are folded into the running aggregates
    /// (`Int64.min` for other versions: none are).
    let foldBoundary: Int64
    /// Version 4: how many rows the running aggregates hold, and the newest one's event time.
    let foldedRows: Int64
    let newestFolded: Int64
    /// Where the running aggregates' bytes are (empty for other versions).
    let partialRange: Range<Int>
    /// Whether the state is version 4 (written by a view with lifetime windows).
    let hasLifetimeTail: Bool

    /// What reading a state needs of its inputs' types, worked out once per program:
    /// `ValueType` is an indirect enum, so comparing it per read costs reference counting.
    struct Inputs: Sendable {
        let tags: [UInt8]
        let binary: [Bool]
        let anyBinary: Bool

        init(_ inputs: [(name: String, type: ValueType)]) {
            tags = inputs.map { StateRows.tag($0.type) }
            binary = inputs.map { StateRows.isBinary($0.type) }
            anyBinary = binary.contains(true)
        }
    }

    init?(_ raw: UnsafeRawBufferPointer, inputs: [(name: String, type: ValueType)]) {
        self.init(raw, inputs: Inputs(inputs))
    }

    init?(_ raw: UnsafeRawBufferPointer, inputs: Inputs) {
        self.raw = raw
        var at = 0
        func byte() -> Int? {
            guard at < raw.count else { return nil }
            defer { at += 1 }
            return Int(raw[at])
        }
        let version = byte()
        if version == Int(StateRows.version) || version == Int(StateRows.lifetimeVersion) {
            guard at + 8 <= raw.count else { return nil }
            mark = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self))
            at += 8
        } else {
            guard version == Int(StateRows.unmarkedVersion) else { return nil }
            mark = 0
        }
        guard let pushes = byte(), at + 8 * pushes <= raw.count else { return nil }
        pushStart = at
        pushCount = pushes
        at += 8 * pushes
        guard at + 5 <= raw.count else { return nil }
        let n = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        at += 4
        guard byte() == inputs.tags.count, n >= 0, at + 16 * n <= raw.count else { return nil }
        count = n
        eventAt = at
        createdAt = at + 8 * n
        at += 16 * n
        var offsets: [Int] = []
        offsets.reserveCapacity(2 * inputs.tags.count)
        var binaryStarts: [[Int]] = []
        let anyBinary = inputs.anyBinary
        for (tag, isBinary) in zip(inputs.tags, inputs.binary) {
            guard byte() == Int(tag), at + n <= raw.count else { return nil }
            offsets.append(at)
            at += n
            offsets.append(at)
            if isBinary {
                guard at + 4 * n <= raw.count else { return nil }
                var starts = [at + 4 * n]
                for r in 0..<n {
                    let length = Int(
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4 * r, as: UInt32.self)))
                    starts.append(starts[r] + length)
                }
                guard let last = starts.last, last <= raw.count else { return nil }
                binaryStarts.append(starts)
                at = last
            } else {
                guard at + 8 * n <= raw.count else { return nil }
                if anyBinary { binaryStarts.append([]) }
                at += 8 * n
            }
        }
        self.at = offsets
        self.binaryStarts = binaryStarts
        if version == Int(StateRows.lifetimeVersion) {
            guard at + 28 <= raw.count else { return nil }
            func int(_ offset: Int) -> Int64 {
                Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at + offset, as: Int64.self))
            }
            foldBoundary = int(0)
            foldedRows = int(8)
            newestFolded = int(16)
            let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 24, as: UInt32.self)))
            guard at + 28 + length <= raw.count else { return nil }
            partialRange = (at + 28)..<(at + 28 + length)
            hasLifetimeTail = true
        } else {
            hasLifetimeTail = false
            foldBoundary = Int64.min
            foldedRows = 0
            newestFolded = Int64.min
            partialRange = 0..<0
        }
    }

    /// The running aggregates of `specs`: decoded from a version 4 state (each `missing` when
    /// the bytes are not aggregates); all `missing` for a state of another version, whose
    /// rows older than its longest duration window were dropped, not folded.
    func partials(_ specs: [LifetimeFeature]) -> [LifetimePartial] {
        guard hasLifetimeTail else { return specs.map { _ in .missing } }
        if foldedRows == 0 && partialRange.isEmpty { return specs.map(LifetimePartial.init) }
        return LifetimePartial.decode(UnsafeRawBufferPointer(rebasing: raw[partialRange]), specs: specs)
            ?? specs.map { _ in .missing }
    }

    /// Rows `range` decoded (no mark, no remembered pushes).
    func rows(_ range: Range<Int>, inputs: [(name: String, type: ValueType)]) -> StateRows {
        var rows = StateRows(inputs: inputs.count)
        rows.event = range.map(event)
        rows.created = range.map(created)
        for (k, input) in inputs.enumerated() {
            rows.valid[k] = range.map { isValid(k, $0) }
            if StateRows.isBinary(input.type) {
                rows.binary[k] = range.map { Array(binary(k, $0)) }
            } else {
                rows.words[k] = range.map { word(k, $0) }
            }
        }
        return rows
    }

    @inline(__always) func event(_ r: Int) -> Int64 {
        Int64(littleEndian: raw.loadUnaligned(fromByteOffset: eventAt + 8 * r, as: Int64.self))
    }

    @inline(__always) func created(_ r: Int) -> Int64 {
        Int64(littleEndian: raw.loadUnaligned(fromByteOffset: createdAt + 8 * r, as: Int64.self))
    }

    @inline(__always) func validAt(_ k: Int) -> Int { at[2 * k] }

    @inline(__always) func valuesAt(_ k: Int) -> Int { at[2 * k + 1] }

    @inline(__always) func isValid(_ k: Int, _ r: Int) -> Bool { raw[at[2 * k] + r] != 0 }

    @inline(__always) func word(_ k: Int, _ r: Int) -> Int64 {
        Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at[2 * k + 1] + 8 * r, as: Int64.self))
    }

    @inline(__always) func double(_ k: Int, _ r: Int) -> Double { Double(bitPattern: UInt64(bitPattern: word(k, r))) }

    func binary(_ k: Int, _ r: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[binaryStarts[k][r]..<binaryStarts[k][r + 1]])
    }

    func pushes() -> [UInt64] {
        (0..<pushCount).map {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: pushStart + 8 * $0, as: UInt64.self))
        }
    }

    func remembers(_ push: UInt64) -> Bool {
        (0..<pushCount).contains {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: pushStart + 8 * $0, as: UInt64.self)) == push
        }
    }

    /// The bytes of a state whose rows are `order`'s, in that order: `r >= 0` is this
    /// state's row r, `r < 0` is `new`'s row `-r - 1`; remembering `pushes`. Runs of held
    /// rows are copied as byte ranges; nothing is decoded.
    func merging(
        _ new: AggregationProgram.Events, order: [Int], mark: Int64, pushes: [UInt64],
        inputs: [(name: String, type: ValueType)], version: UInt8 = StateRows.version
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + 8 + (order.count - count + 1) * (16 + 9 * inputs.count) + 8 * pushes.count)
        StateRows.header(
            version: version, mark: mark, pushes: pushes, rows: order.count, inputs: inputs.count, into: &out)
        // Maximal runs of consecutive held rows, and the new rows between them.
        var runs: [(start: Int, end: Int)] = []
        var i = 0
        while i < order.count {
            if order[i] < 0 {
                runs.append((order[i], order[i]))
                i += 1
                continue
            }
            var j = i
            while j + 1 < order.count && order[j + 1] == order[j] + 1 { j += 1 }
            runs.append((order[i], order[j] + 1))
            i = j + 1
        }
        func copy(_ start: Int, _ length: Int) {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start..<start + length]))
        }
        func put(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        /// Each run: held rows copied with `held(start, count)`, a new row with `added(row)`.
        func section(_ held: (Int, Int) -> Void, _ added: (Int) -> Void) {
            for run in runs {
                if run.start < 0 { added(-run.start - 1) } else { held(run.start, run.end - run.start) }
            }
        }
        section({ copy(eventAt + 8 * $0, 8 * $1) }, { put(new.event[$0]) })
        section({ copy(createdAt + 8 * $0, 8 * $1) }, { put($0 < new.created.count ? new.created[$0] : Int64.min) })
        for (k, input) in inputs.enumerated() {
            out.append(StateRows.tag(input.type))
            let column = new.inputs.indices.contains(k) ? new.inputs[k] : Column(empty: input.type)
            section({ copy(validAt(k) + $0, $1) }, { out.append($0 < column.count && column.isValid($0) ? 1 : 0) })
            if StateRows.isBinary(input.type) {
                let starts = binaryStarts[k]
                var data = BinaryData()
                if case .binary(let values) = column.data { data = values }
                func newBytes(_ r: Int) -> ArraySlice<UInt8> { r < data.count ? data.bytes(at: r) : [] }
                section(
                    { copy(valuesAt(k) + 4 * $0, 4 * $1) },
                    { withUnsafeBytes(of: UInt32(newBytes($0).count).littleEndian) { out.append(contentsOf: $0) } })
                section({ copy(starts[$0], starts[$0 + $1] - starts[$0]) }, { out.append(contentsOf: newBytes($0)) })
            } else {
                section({ copy(valuesAt(k) + 8 * $0, 8 * $1) }, { put(StateRows.word(column, $0)) })
            }
        }
        return out
    }

    /// The first row before `end` with event time `>= time` (events are sorted).
    func lowerBound(_ time: Int64, below end: Int? = nil) -> Int {
        var lo = 0
        var hi = end ?? count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if event(mid) < time { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
