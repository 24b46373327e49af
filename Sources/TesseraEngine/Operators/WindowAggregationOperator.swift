import Dispatch
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
        let layout = AggregationInputsLayout(features)
        self.inputs = layout.inputs
        self.inputOf = layout.inputOf
        let widest = layout.longest
        lower = widest.map { timeRange.0 &- $0 }
        upper = timeRange.1
        self.threads = threads
    }

    func makeState() -> State { State(inputParts: Array(repeating: [], count: inputs.count)) }

    func consume(_ typed: TypedSourceBatch, rows: Int, into state: inout State) throws {
        state.rowsRead += typed.sourceRows ?? rows
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
        let events = state.eventParts.isEmpty ? Column(empty: .timestamp) : try Column.concatenate(state.eventParts)
        let created = state.createdParts.isEmpty ? nil : try Column.concatenate(state.createdParts)
        let inputColumns = try inputs.indices.map { k in
            state.inputParts[k].isEmpty ? Column(empty: inputs[k].type) : try Column.concatenate(state.inputParts[k])
        }
        // The parts are copied into whole columns: let them go before the sort allocates.
        state.eventParts = []
        state.createdParts = []
        state.inputParts = state.inputParts.map { _ in [] }
        // Per key, the kept rows by (event, created, arrival): a window is a contiguous range.
        let sorted = AsOfJoin.SortedFeatures(
            featureGroups: state.groups, groupCount: index.groupCount, eventTimes: events, createdTimes: created,
            threads: threads)
        state.groups = []
        // The inputs in window order; the evaluator reads them front to back.
        let columns = inputColumns.map { $0.take(sorted.row) }
        let evaluator = WindowEvaluator(
            features: features, inputTypes: inputs.map(\.type), inputOf: inputOf, starts: sorted.start,
            event: sorted.event, created: sorted.created, columns: columns, threads: threads)
        let (out, matched) = try evaluator.evaluate(groupOfRow: index.groupOfRow, times: entityTimes)
        return Output(columns: out, rowsRead: state.rowsRead, kept: state.kept, matched: matched)
    }
}
