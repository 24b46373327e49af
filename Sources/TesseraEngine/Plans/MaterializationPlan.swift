import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// Finds each entity's latest row of a view in a time interval — by `LatestWins`, the
/// training-set engine's rule — and hands the winners over in batches, with memory bounded
/// by the number of entities: one scan of the view's source feeds `LatestPerEntityOperator`.
public struct Materializer: Sendable {
    public let definitions: Definitions
    public let readers: @Sendable (DataSource) throws -> [any SourceReader]

    public init(definitions: Definitions, readers: @escaping @Sendable (DataSource) throws -> [any SourceReader]) {
        self.definitions = definitions
        self.readers = readers
    }

    /// The schema of emitted batches: join keys, `__event_timestamp`, `__created_timestamp`, then features.
    public func outputSchema(of view: FeatureView) -> Schema { LatestRows.schema(of: view, definitions: definitions) }

    /// The rows whose key hashes (`KeyHash.rows`) fall in `partition`.
    static func rows(hashes: [UInt64], in partition: KeyPartition) -> [Int] {
        let count = UInt64(partition.count)
        let index = UInt64(partition.index)
        var kept: [Int] = []
        kept.reserveCapacity(hashes.count / partition.count + 16)
        // Mixed again: the row hash's low bits also pick hash-table slots elsewhere.
        for row in hashes.indices where KeyHash.mix(hashes[row]) % count == index { kept.append(row) }
        return kept
    }

    public static let eventColumn = LatestRows.eventColumn
    public static let createdColumn = LatestRows.createdColumn

    /// Scans `view`'s source for rows with event time in `start ... end` (inclusive) and emits
    /// the latest row per entity, `batchRows` at a time.
    ///
    /// - Parameter retainedRowLimit: rows kept before compacting to the winners (default: twice
    ///   the entities, or 256 MB of values if more).
    ///   - partition: only the entities of this key-hash part.
    ///   - entityBudget: stop, emitting nothing, once more entities than this are held.
    public func latestRows(
        of view: FeatureView, start: Timestamp, end: Timestamp, threads: Int = 1, batchRows: Int = 65_536,
        retainedRowLimit: Int? = nil, partition: KeyPartition? = nil, entityBudget: Int? = nil,
        progress: (Int) -> Void = { _ in }, emit: (RecordBatch) throws -> Void
    ) throws -> LatestRowsStats {
        let scan = try ViewScan(
            view: view, features: view.plainFeatures, definitions: definitions, lower: start.microseconds,
            upper: end.microseconds)
        let latest = LatestPerEntityOperator(
            keyTypes: scan.keys.map(\.type.joinKeyType), featureTypes: view.plainFeatures.map(\.type),
            start: start.microseconds, end: end.microseconds, retainedRowLimit: retainedRowLimit)
        var state = latest.makeState()
        // Past the budget the pass stops holding rows and only counts the part's distinct
        // keys to the end (a HyperLogLog's registers), so the caller can size the parts.
        var overBudget = false
        var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        var rowsRead = 0
        try scan.run(readers: readers, threads: threads) { typed, rows in
            if overBudget {
                let hashes = KeyHash.rows(typed.keys)
                let selected = partition.map { Materializer.rows(hashes: hashes, in: $0) }
                func count(_ row: Int) {
                    let (index, rank) = HyperLogLog.register(ValueHash.mix(hashes[row]))
                    if registers[Int(index)] < rank { registers[Int(index)] = rank }
                }
                if let selected { for row in selected { count(row) } } else { for row in 0..<rows { count(row) } }
                rowsRead += typed.sourceRows ?? rows
                progress(rowsRead)
                return
            }
            if let partition, partition.count > 1 {
                let kept = Materializer.rows(hashes: KeyHash.rows(typed.keys), in: partition)
                var part = typed.taking(kept)
                part.sourceRows = typed.sourceRows ?? rows
                try latest.consume(part, rows: kept.count, into: &state)
            } else {
                try latest.consume(typed, rows: rows, into: &state)
            }
            rowsRead = state.rowsRead
            progress(rowsRead)
            if let entityBudget, state.dictionary.count > entityBudget {
                // The keys held so far (one winning row each) are counted too, then let go.
                let held = state.bestRow.filter { $0 >= 0 }
                let keys = try latest.keyTypes.indices.map {
                    try state.retained.take(column: $0, type: latest.keyTypes[$0], held)
                }
                for hash in KeyHash.rows(keys) {
                    let (index, rank) = HyperLogLog.register(ValueHash.mix(hash))
                    if registers[Int(index)] < rank { registers[Int(index)] = rank }
                }
                state = latest.makeState()
                overBudget = true
            }
        }
        if overBudget {
            var stats = LatestRowsStats(view: view.name, rowsRead: rowsRead, entities: 0)
            let estimate = HyperLogLog.estimate(ranks: registers.lazy.filter { $0 > 0 })
            stats.overBudget = .init(entities: Int(estimate), rowsRead: rowsRead)
            return stats
        }
        let entities = try latest.winners(state, schema: outputSchema(of: view), batchRows: batchRows, emit: emit)
        return LatestRowsStats(view: view.name, rowsRead: state.rowsRead, entities: entities)
    }
}
