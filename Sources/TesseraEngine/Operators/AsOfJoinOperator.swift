import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// The "latest value as of t" operator of training sets: for each entity row (keys, t) it
/// picks the source row of the same keys with event ≤ t (and ≥ t − ttl), latest by
/// `LatestWins`, and gathers that row's feature values.
///
/// Immutable; its state (`State`) is apart, made by `makeState()`, fed batch by batch with
/// `consume`, and turned into columns by `finish`. Two algorithms give identical results:
/// - streaming: each source row is offered to the few entity rows it can serve (same key,
///   t in [event, event + ttl]); feature columns are kept and gathered once at the end,
///   compacted to the rows still chosen when they outgrow `compactAbove`;
/// - sorted: for keys with many entity rows, the pruned rows are kept, sorted per key, and
///   each entity row binary-searches its match.
struct AsOfJoinOperator {
    let index: KeyIndex
    let timeline: EntityTimeline
    let entityTimes: Column
    let featureTypes: [ValueType]
    let options: AsOfJoin.Options
    let streaming: Bool
    /// Source rows outside `lower ... upper` (and null times) can match no entity row.
    let lower: Int64
    let upper: Int64
    /// Streaming: retained rows before compacting.
    let compactAbove: Int
    let threads: Int

    struct State {
        var accumulator: AsOfAccumulator
        var retained = RetainedRows()
        var groups: [Int32] = []
        var eventParts: [Column] = []
        var createdParts: [Column] = []
        var featureParts: [[Column]]
        var rowsRead = 0
        var kept = 0
    }

    /// The operator's result: per entity row the chosen source row (-1: none) and the
    /// requested features' columns, aligned with the entity rows.
    struct Output {
        var picked: [Int]
        var columns: [Column]
        var rowsRead: Int
        var kept: Int
    }

    init(
        index: KeyIndex, timeline: EntityTimeline, entityTimes: Column, features: [Feature], ttl: TimeSpan,
        timeRange: (Int64, Int64), request: TrainingSetRequest
    ) {
        self.index = index
        self.timeline = timeline
        self.entityTimes = entityTimes
        self.featureTypes = features.map(\.type)
        self.options = AsOfJoin.Options(
            ttl: ttl, createdNotAfterTime: request.createdNotAfterTime, threads: request.threads)
        switch request.strategy {
        case .automatic: streaming = timeline.suitsStreaming
        case .streaming: streaming = true
        case .sorted: streaming = false
        }
        lower = ttl.microseconds > 0 ? timeRange.0 &- ttl.microseconds : Int64.min
        upper = timeRange.1
        // By default up to 256 MB of feature values, and never fewer rows than twice the entity rows.
        let bytesPerRow = max(1, featureTypes.reduce(0) { $0 + TrainingSetBuilder.width(of: $1) })
        compactAbove = request.retainedRowLimit ?? max(2 * entityTimes.count, (256 << 20) / bytesPerRow)
        threads = request.threads
    }

    /// The time filter a scan feeding this operator can prune row groups with.
    var timeBounds: (lower: Int64?, upper: Int64?) { (lower == Int64.min ? nil : lower, upper) }

    func makeState() -> State {
        State(
            accumulator: AsOfAccumulator(timeline: streaming ? timeline : nil, options: options),
            featureParts: Array(repeating: [], count: featureTypes.count))
    }

    func consume(_ typed: TypedSourceBatch, rows: Int, into state: inout State) throws {
        state.rowsRead += typed.sourceRows ?? rows
        let events = typed.events
        var found = index.lookup(typed.keys, threads: threads)
        // Time pruning: rows outside [lower, upper] (and null times) never match.
        let eventValues = events.int64Values ?? []
        var keep: [Int] = []
        if !streaming { keep.reserveCapacity(rows) }
        for row in 0..<rows where found[row] >= 0 {
            let t = eventValues[row]
            if t < lower || t > upper || !events.isValid(row) {
                found[row] = -1
            } else {
                state.kept += 1
                if !streaming { keep.append(row) }
            }
        }
        if streaming {
            let base = state.retained.append(typed.features, count: rows)
            state.accumulator.offer(
                groups: found, eventTimes: events, createdTimes: typed.created, referenceBase: base,
                timeline: timeline, threads: threads)
            if state.retained.rows > compactAbove {
                try state.accumulator.compact(&state.retained, types: featureTypes)
            }
            return
        }
        if keep.isEmpty { return }
        state.groups.reserveCapacity(state.groups.count + keep.count)
        for row in keep { state.groups.append(found[row]) }
        state.eventParts.append(events.take(keep))
        if let created = typed.created { state.createdParts.append(created.take(keep)) }
        for (k, column) in typed.features.enumerated() { state.featureParts[k].append(column.take(keep)) }
    }

    func finish(_ state: inout State) throws -> Output {
        if streaming {
            let picked = state.accumulator.takeReferences()
            let columns = try state.retained.take(columns: Array(featureTypes.indices), types: featureTypes, picked)
            return Output(picked: picked, columns: columns, rowsRead: state.rowsRead, kept: state.kept)
        }
        let events = state.eventParts.isEmpty ? Column(empty: .timestamp) : try Column.concatenate(state.eventParts)
        let created = state.createdParts.isEmpty ? nil : try Column.concatenate(state.createdParts)
        let sorted = AsOfJoin.SortedFeatures(
            featureGroups: state.groups, groupCount: index.groupCount, eventTimes: events, createdTimes: created,
            threads: threads)
        let picked = AsOfJoin.match(
            entityGroups: index.groupOfRow, entityTimes: entityTimes, features: sorted, options: options)
        var columns: [Column] = []
        for (k, type) in featureTypes.enumerated() {
            columns.append(
                state.featureParts[k].isEmpty
                    ? Column(nulls: type, count: picked.count) : try Column.take(from: state.featureParts[k], picked))
        }
        return Output(picked: picked, columns: columns, rowsRead: state.rowsRead, kept: state.kept)
    }
}
