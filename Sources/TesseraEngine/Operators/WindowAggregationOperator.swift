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
        // Each column's parts are let go as soon as it is whole, and each arrival-order
        // column as soon as its window-order copy is made: at no point are all of them held
        // twice (the peak RSS of a 10M-row source).
        var events = state.eventParts.isEmpty ? Column(empty: .timestamp) : try Column.concatenate(state.eventParts)
        state.eventParts = []
        var created = state.createdParts.isEmpty ? nil : try Column.concatenate(state.createdParts)
        state.createdParts = []
        var inputColumns: [Column] = []
        for k in inputs.indices {
            inputColumns.append(
                state.inputParts[k].isEmpty
                    ? Column(empty: inputs[k].type) : try Column.concatenate(state.inputParts[k]))
            state.inputParts[k] = []
        }
        // Per key, the kept rows by (event, created, arrival): a window is a contiguous range.
        // In a scope of its own, so the permutation is let go once the inputs are in order.
        var groups: [Int32] = []
        swap(&groups, &state.groups)
        let evaluator = { () -> WindowEvaluator in
            let sorted = AsOfJoin.SortedFeatures(
                featureGroups: groups, groupCount: index.groupCount, eventTimes: events, createdTimes: created,
                threads: threads)
            groups = []
            events = Column(empty: .timestamp)
            created = nil
            // The inputs in window order; the evaluator reads them front to back.
            var columns: [Column] = []
            for k in inputColumns.indices {
                columns.append(inputColumns[k].take(sorted.row))
                inputColumns[k] = Column(empty: inputs[k].type)
            }
            return WindowEvaluator(
                features: features, inputTypes: inputs.map(\.type), inputOf: inputOf, starts: sorted.start,
                event: sorted.event, created: sorted.created, columns: columns, threads: threads)
        }()
        let (out, matched) = try evaluator.evaluate(groupOfRow: index.groupOfRow, times: entityTimes)
        return Output(columns: out, rowsRead: state.rowsRead, kept: state.kept, matched: matched)
    }
}
