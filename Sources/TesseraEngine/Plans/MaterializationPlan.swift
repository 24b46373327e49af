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

    /// The rows of a batch whose keys fall in `partition`.
    static func rows(of keys: [Column], rows: Int, in partition: KeyPartition) -> [Int] {
        let hashes = KeyHash.rows(keys)
        let count = UInt64(partition.count)
        let index = UInt64(partition.index)
        var kept: [Int] = []
        kept.reserveCapacity(rows / partition.count + 16)
        // Mixed again: the row hash's low bits also pick hash-table slots elsewhere.
        for row in 0..<min(rows, hashes.count) where KeyHash.mix(hashes[row]) % count == index { kept.append(row) }
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
        struct OverBudget: Error {}
        do {
            try scan.run(readers: readers, threads: threads) { typed, rows in
                if let partition, partition.count > 1 {
                    let kept = Materializer.rows(of: typed.keys, rows: rows, in: partition)
                    var part = typed.taking(kept)
                    part.sourceRows = typed.sourceRows ?? rows
                    try latest.consume(part, rows: kept.count, into: &state)
                } else {
                    try latest.consume(typed, rows: rows, into: &state)
                }
                progress(state.rowsRead)
                if let entityBudget, state.dictionary.count > entityBudget { throw OverBudget() }
            }
        } catch is OverBudget {
            var stats = LatestRowsStats(view: view.name, rowsRead: state.rowsRead, entities: 0)
            stats.overBudget = .init(entities: state.dictionary.count, rowsRead: state.rowsRead)
            return stats
        }
        let entities = try latest.winners(state, schema: outputSchema(of: view), batchRows: batchRows, emit: emit)
        return LatestRowsStats(view: view.name, rowsRead: state.rowsRead, entities: entities)
    }
}
