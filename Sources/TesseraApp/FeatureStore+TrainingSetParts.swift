import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraRegistry

/// How a training set is built within a memory budget: in parts of consecutive entity rows,
/// each a training set of its own, written as it finishes. A row's values depend only on
/// the row (its keys and time) and the sources, so the parts, concatenated, are the training
/// set built at once, row for row; each part reads the sources again.
public struct TrainingSetParts: Sendable, Equatable {
    /// Entity rows per part.
    public var rowsPerPart: Int
    /// The estimated bytes one entity row costs while its part is built and written.
    public var bytesPerRow: Int
    /// What the budget keeps aside for what does not grow with a part: the runtime, source
    /// batches being decoded, the output writer's buffers.
    public var reserved: Int
    /// Whether the budget is below `reserved` plus the smallest part: the build goes on with
    /// the smallest parts and may exceed it.
    public var belowMinimum: Bool
    /// Source rows an as-of join keeps before compacting them to the current candidates
    /// (`TrainingSetRequest.retainedRowLimit`): a part of the budget, and at least twice a
    /// part (compaction leaves at most one candidate per entity row).
    public var retainedRows: Int? = nil

    /// The smallest part: fewer rows would spend the run re-reading the sources.
    public static let minimumRows = 4_096
    /// The budget's part that does not grow with the rows (measured at workload L: about
    /// 45 MB of runtime and registry, and the row groups being decoded and waiting).
    public static let reservedBytes = 128 << 20
}

/// What a training set built in parts did: the rows and matches of all parts, and per
/// view the rows read and kept summed over parts (each part reads the sources again).
public struct TrainingSetPartsSummary: Sendable {
    public var rows: Int
    public var rowsWithAllFeatures: Int
    public var views: [TrainingSet.ViewStats]
    public var parts: Int
    /// The output's columns.
    public var schema: Schema
}

extension FeatureStore {
    /// The parts a training set of `request` over entity rows of `entitySchema` is built in
    /// to stay within `memoryLimit` bytes.
    /// - Throws: the request's resolution errors (unknown features or services).
    public func trainingSetParts(_ request: TrainingSetRequest, entitySchema: Schema, memoryLimit: Int) throws
        -> TrainingSetParts
    {
        let definitions = try applied().definitions
        let (views, _, onDemand) = try FeatureResolution.selections(for: request, in: definitions)
        // Per row (calibrated at workload L, where a part of 1.85M rows of driver_hourly_stats
        // cost about 400 bytes a row): the entity columns three times (the part, the batch
        // it was cut from, the output being encoded), and per view its key index, timeline
        // and candidate slot, then per feature its output column and the retained candidates.
        var perRow = 3 * entitySchema.fields.reduce(0) { $0 + TrainingSetBuilder.width(of: $1.type) + 1 }
        for selection in views {
            perRow += 240
            for feature in selection.features {
                perRow += 4 * (TrainingSetBuilder.width(of: feature.type) + 1)
                if feature.isAggregated { perRow += 16 }
            }
        }
        for selection in onDemand {
            perRow += selection.features.reduce(0) { $0 + 2 * (TrainingSetBuilder.width(of: $1.type) + 1) }
        }
        // An eighth of what is left goes to the source rows joins keep between compactions
        // (unbounded by the limit they would keep 256 MB of them).
        let reserved = TrainingSetParts.reservedBytes
        let spare = max(0, memoryLimit - reserved)
        let retainedBytes = max(16 << 20, spare / 8)
        let widest = views.map { $0.features.reduce(0) { $0 + TrainingSetBuilder.width(of: $1.type) } }.max() ?? 0
        let rows = (spare - min(spare, retainedBytes)) / max(1, perRow)
        let partRows = max(TrainingSetParts.minimumRows, rows)
        var parts = TrainingSetParts(
            rowsPerPart: partRows, bytesPerRow: perRow, reserved: reserved + retainedBytes,
            belowMinimum: rows < TrainingSetParts.minimumRows)
        parts.retainedRows = max(2 * partRows, retainedBytes / max(1, widest))
        return parts
    }

    /// Builds a training set part by part (see `TrainingSetParts`): the entity rows come from
    /// `next` (batches of any size, `nil` at the end), parts of `parts.rowsPerPart` rows are
    /// built with `request` (its spine replaced by each part), and each part's rows go to
    /// `emit` in entity-row order. With no entity rows at all, one empty part is emitted, so
    /// the output still has its columns.
    public func trainingSet(
        _ request: TrainingSetRequest, parts: TrainingSetParts, entitySchema: Schema, entityName: String,
        next: () throws -> RecordBatch?, progress: @escaping @Sendable (String) -> Void = { _ in },
        emit: (RecordBatch) throws -> Void
    ) throws -> TrainingSetPartsSummary {
        var summary = TrainingSetPartsSummary(rows: 0, rowsWithAllFeatures: 0, views: [], parts: 0, schema: Schema([]))
        var pending: [RecordBatch] = []
        var pendingRows = 0
        var done = false
        func build(_ part: RecordBatch) throws {
            var partRequest = request
            partRequest.spine = .entities(part, name: entityName)
            if let retained = parts.retainedRows { partRequest.retainedRowLimit = retained }
            let first = summary.rows
            let built = try trainingSet(partRequest) { phase in
                progress("rows \(first + 1)–\(first + part.rowCount): \(phase)")
            }
            try emit(built.batch)
            summary.rows += built.rows
            summary.rowsWithAllFeatures += built.rowsWithAllFeatures
            summary.parts += 1
            summary.schema = built.batch.schema
            if summary.views.isEmpty {
                summary.views = built.views
            } else {
                for (i, view) in built.views.enumerated() where summary.views.indices.contains(i) {
                    summary.views[i].rowsRead += view.rowsRead
                    summary.views[i].rowsKept += view.rowsKept
                    summary.views[i].matched += view.matched
                }
            }
        }
        let size = max(1, parts.rowsPerPart)
        while !done || pendingRows > 0 {
            if !done, pendingRows < size {
                if let batch = try next() {
                    if batch.rowCount > 0 {
                        pending.append(batch)
                        pendingRows += batch.rowCount
                    }
                    continue
                }
                done = true
            }
            guard pendingRows > 0 else { break }
            // One part: the first `size` pending rows.
            let take = min(size, pendingRows)
            var rows: [RecordBatch] = []
            var taken = 0
            while taken < take, let head = pending.first {
                let wanted = take - taken
                if head.rowCount <= wanted {
                    rows.append(head)
                    taken += head.rowCount
                    pending.removeFirst()
                } else {
                    rows.append(head.slice(0..<wanted))
                    pending[0] = head.slice(wanted..<head.rowCount)
                    taken += wanted
                }
            }
            pendingRows -= take
            try build(rows.count == 1 ? rows[0] : try RecordBatch.concatenate(rows))
        }
        if summary.parts == 0 { try build(RecordBatch(empty: entitySchema)) }
        return summary
    }
}
