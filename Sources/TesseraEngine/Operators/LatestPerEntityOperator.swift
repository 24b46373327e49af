import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// The "latest row of each entity" operator of materialization: over the rows with event
/// time in `start ... end`, it remembers per entity the latest by `LatestWins` and keeps the
/// columns of rows that may still win, compacted to the current winners when they outgrow
/// twice the entities (or 256 MB), so memory is bounded by the entities, not the source.
///
/// Immutable; `State` is apart (`makeState`, `consume`, then `winners`).
struct LatestPerEntityOperator {
    let keyTypes: [ValueType]
    let featureTypes: [ValueType]
    let start: Int64
    let end: Int64
    let retainedRowLimit: Int?

    /// Kept columns: the keys, then the features.
    var keptTypes: [ValueType] { keyTypes + featureTypes }

    struct State {
        var dictionary = KeyDictionary()
        var bestEvent: [Int64] = []
        var bestCreated: [Int64] = []
        var bestRow: [Int] = []
        var retained = RetainedRows()
        var rowsRead = 0
    }

    func makeState() -> State { State() }

    func consume(_ typed: TypedSourceBatch, rows: Int, into state: inout State) throws {
        let ids = state.dictionary.ids(for: typed.keys)
        if state.dictionary.count > state.bestEvent.count {
            let extra = state.dictionary.count - state.bestEvent.count
            state.bestEvent.append(contentsOf: repeatElement(Int64.min, count: extra))
            state.bestCreated.append(contentsOf: repeatElement(Int64.min, count: extra))
            state.bestRow.append(contentsOf: repeatElement(-1, count: extra))
        }
        // Only rows that win when they are read can be winners at the end (a later row only
        // ever replaces): those are kept, numbered in order from the next reference. With rows
        // in no time order, about ln(rows per entity) of them per entity instead of all.
        let winners = LatestPerEntityOperator.keepLatest(
            ids: ids, events: typed.events, created: typed.created, firstRow: state.retained.nextReference,
            start: start, end: end, bestEvent: &state.bestEvent, bestCreated: &state.bestCreated,
            bestRow: &state.bestRow)
        if !winners.isEmpty {
            let kept = (typed.keys + typed.features).map { winners.count == rows ? $0 : $0.take(winners) }
            _ = state.retained.append(kept, count: winners.count)
        }
        state.rowsRead += typed.sourceRows ?? rows
        let bytesPerRow = max(1, keptTypes.reduce(0) { $0 + TrainingSetBuilder.width(of: $1) })
        if state.retained.rows > retainedRowLimit ?? max(2 * state.bestRow.count, (256 << 20) / bytesPerRow) {
            try state.retained.compact(&state.bestRow, types: keptTypes)
        }
    }

    /// The winners in key order, `batchRows` entities at a time, in `schema`'s layout (keys,
    /// event time, created time, features).
    func winners(_ state: State, schema: Schema, batchRows: Int, emit: (RecordBatch) throws -> Void) throws -> Int {
        let winners = state.dictionary.idsInKeyOrder().map(Int.init).filter { state.bestRow[$0] >= 0 }
        let step = max(1, batchRows)
        for first in stride(from: 0, to: winners.count, by: step) {
            let slice = Array(winners[first..<min(winners.count, first + step)])
            let references = slice.map { state.bestRow[$0] }
            var out: [Column] = []
            for (k, type) in keyTypes.enumerated() {
                out.append(try state.retained.take(column: k, type: type, references))
            }
            out.append(.timestamp(slice.map { state.bestEvent[$0] }))
            let created = slice.map { state.bestCreated[$0] }
            out.append(
                .timestamp(created.map { $0 == Int64.min ? 0 : $0 }, validity: Bitmap(created.map { $0 != Int64.min })))
            for k in keyTypes.count..<keptTypes.count {
                out.append(try state.retained.take(column: k, type: keptTypes[k], references))
            }
            try emit(try RecordBatch(schema: schema, columns: out))
        }
        return winners.count
    }

    /// The inner loop: remembers, per entity, the latest row by `LatestWins` (a later row
    /// winning a full tie). Rows outside `start ... end` or with a null event time are skipped.
    /// Returns the rows that won when read, in order; the `k`-th of them is referenced as
    /// `firstRow + k`.
    static func keepLatest(
        ids: [Int32], events: Column, created: Column?, firstRow: Int, start: Int64, end: Int64,
        bestEvent: inout [Int64], bestCreated: inout [Int64], bestRow: inout [Int]
    ) -> [Int] {
        var winners: [Int] = []
        let eventValues = events.int64Values ?? []
        let createdValues = created?.int64Values ?? []
        let hasCreated = created != nil
        let eventNullable = events.validity != nil
        let createdNullable = created?.validity != nil
        ids.withUnsafeBufferPointer { id in
            eventValues.withUnsafeBufferPointer { ev in
                createdValues.withUnsafeBufferPointer { cr in
                    bestEvent.withUnsafeMutableBufferPointer { be in
                        bestCreated.withUnsafeMutableBufferPointer { bc in
                            bestRow.withUnsafeMutableBufferPointer { br in
                                for row in 0..<id.count {
                                    let g = Int(id[row])
                                    if g < 0 || (eventNullable && !events.isValid(row)) { continue }
                                    let e = ev[row]
                                    if e < start || e > end { continue }
                                    var c = Int64.min
                                    if hasCreated && (!createdNullable || (created?.isValid(row) ?? false)) {
                                        c = cr[row]
                                    }
                                    if br[g] < 0
                                        || LatestWins.replaces(
                                            event: e, created: c, heldEvent: be[g], heldCreated: bc[g])
                                    {
                                        be[g] = e
                                        bc[g] = c
                                        br[g] = firstRow + winners.count
                                        winners.append(row)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return winners
    }
}
