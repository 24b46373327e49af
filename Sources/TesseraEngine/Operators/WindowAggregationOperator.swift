import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// Window aggregations for training sets: for each entity row (keys, t) and each aggregated
/// feature, the function over the source rows of the same keys with `t − W <= event < t`
/// (any earlier event, for `lifetime`). The window ends before t, so a label never counts
/// the event it labels. Exact: no tiles, no hops (docs/semantics.md).
///
/// Immutable; `State` is apart. The source rows that can fall in some entity row's window
/// (keys of the entity rows, times within the widest window before the latest entity time)
/// are kept while the source is scanned; `finish` sorts them per key by (event, created,
/// arrival) and evaluates each window by binary search. Memory: the kept rows' keys, times
/// and input columns.
struct WindowAggregationOperator {
    let index: KeyIndex
    let entityTimes: Column
    let features: [Feature]
    /// The distinct input columns (as views name them), with their types.
    let inputs: [(name: String, type: ValueType)]
    /// Per feature, its input's position in `inputs` (`nil` for a bare `count`).
    let inputOf: [Int?]
    /// Source rows outside `lower ... upper` can be in no window.
    let lower: Int64?
    let upper: Int64
    let threads: Int

    struct State {
        var groups: [Int32] = []
        var eventParts: [Column] = []
        var createdParts: [Column] = []
        var inputParts: [[Column]]
        var rowsRead = 0
        var kept = 0
    }

    struct Output {
        var columns: [Column]
        var rowsRead: Int
        var kept: Int
        /// Entity rows whose every window saw at least one row.
        var matched: [Bool]
    }

    init(index: KeyIndex, entityTimes: Column, features: [Feature], timeRange: (Int64, Int64), threads: Int) {
        self.index = index
        self.entityTimes = entityTimes
        self.features = features
        var inputs: [(name: String, type: ValueType)] = []
        var inputOf: [Int?] = []
        var widest: Int64? = 0
        for feature in features {
            guard let aggregation = feature.aggregation else {
                inputOf.append(nil)
                continue
            }
            switch aggregation.window {
            case .lifetime: widest = nil
            case .length(let span): widest = widest.map { max($0, span.microseconds) }
            }
            guard let column = aggregation.column, aggregation.function.needsInput || aggregation.column != nil else {
                inputOf.append(nil)
                continue
            }
            let type = aggregation.inputType ?? .float64
            if let at = inputs.firstIndex(where: { $0.name == column && $0.type == type }) {
                inputOf.append(at)
            } else {
                inputOf.append(inputs.count)
                inputs.append((column, type))
            }
        }
        self.inputs = inputs
        self.inputOf = inputOf
        lower = widest.map { timeRange.0 &- $0 }
        upper = timeRange.1
        self.threads = threads
    }

    func makeState() -> State { State(inputParts: Array(repeating: [], count: inputs.count)) }

    func consume(_ typed: TypedSourceBatch, rows: Int, into state: inout State) throws {
        state.rowsRead += rows
        let found = index.lookup(typed.keys, threads: threads)
        let events = typed.events
        let eventValues = events.int64Values ?? []
        let lo = lower ?? Int64.min
        var keep: [Int] = []
        keep.reserveCapacity(rows)
        for row in 0..<rows where found[row] >= 0 && events.isValid(row) {
            let t = eventValues[row]
            if t >= lo && t < upper { keep.append(row) }
        }
        guard !keep.isEmpty else { return }
        state.kept += keep.count
        for row in keep { state.groups.append(found[row]) }
        state.eventParts.append(events.take(keep))
        if let created = typed.created { state.createdParts.append(created.take(keep)) }
        for (k, column) in typed.inputs.enumerated() { state.inputParts[k].append(column.take(keep)) }
    }

    func finish(_ state: inout State) throws -> Output {
        let entityRows = entityTimes.count
        let events = state.eventParts.isEmpty ? Column(empty: .timestamp) : try Column.concatenate(state.eventParts)
        let created = state.createdParts.isEmpty ? nil : try Column.concatenate(state.createdParts)
        let inputColumns = try inputs.indices.map { k in
            state.inputParts[k].isEmpty ? Column(empty: inputs[k].type) : try Column.concatenate(state.inputParts[k])
        }
        // Per key, the kept rows by (event, created, arrival): a window is a contiguous range.
        let sorted = AsOfJoin.SortedFeatures(
            featureGroups: state.groups, groupCount: index.groupCount, eventTimes: events, createdTimes: created,
            threads: threads)
        let functions = features.enumerated().map { f, feature in
            WindowFunction(
                function: feature.aggregation?.function ?? .count, input: inputOf[f].map { inputColumns[$0] })
        }
        var builders = features.map { ColumnBuilder(type: $0.type, capacity: entityRows) }
        var matched = [Bool](repeating: true, count: entityRows)
        let times = entityTimes.int64Values ?? []
        sorted.row.withUnsafeBufferPointer { rows in
            sorted.event.withUnsafeBufferPointer { event in
                sorted.created.withUnsafeBufferPointer { created in
                    for i in 0..<entityRows {
                        let g = Int(index.groupOfRow[i])
                        guard entityTimes.isValid(i) else {
                            for f in features.indices { builders[f].appendNull() }
                            matched[i] = false
                            continue
                        }
                        let t = times[i]
                        let start = g >= 0 ? sorted.start[g] : 0
                        let end = g >= 0 ? sorted.start[g + 1] : 0
                        // First position with event >= t: the window's exclusive end.
                        let hi = WindowAggregationOperator.lowerBound(event, start, end, t)
                        for (f, feature) in features.enumerated() {
                            var lo = start
                            if case .length(let span)? = feature.aggregation?.window {
                                lo = WindowAggregationOperator.lowerBound(event, start, hi, t &- span.microseconds)
                            }
                            if lo == hi { matched[i] = false }
                            let value = functions[f].evaluate(rows, event: event, created: created, range: lo..<hi)
                            if !builders[f].append(value) { builders[f].appendNull() }
                        }
                    }
                }
            }
        }
        return Output(
            columns: builders.map { $0.finish() }, rowsRead: state.rowsRead, kept: state.kept, matched: matched)
    }

    /// The first position in `start..<end` whose event is `>= time` (events are sorted).
    @inline(__always)
    static func lowerBound(_ event: UnsafeBufferPointer<Int64>, _ start: Int, _ end: Int, _ time: Int64) -> Int {
        var lo = start
        var hi = end
        while lo < hi {
            let mid = (lo + hi) >> 1
            if event[mid] < time { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
