import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// Finds each entity's latest row of a view in a time interval — by the training-set
/// engine's rule (greatest event time, then greatest created time, then the later row) —
/// and hands the winners over in batches, with memory bounded by the number of entities.
///
/// One pass over the source: per entity the winning row is remembered, and the columns of
/// rows that may still win are kept (compacted to the current winners when they outgrow
/// twice the entities or 256 MB), so memory is bounded by the entities, not the source.
public struct Materializer: Sendable {
    public let definitions: Definitions
    public let readers: @Sendable (DataSource) throws -> [any SourceReader]

    public init(definitions: Definitions, readers: @escaping @Sendable (DataSource) throws -> [any SourceReader]) {
        self.definitions = definitions
        self.readers = readers
    }

    public struct Stats: Sendable, Codable {
        public var view: String
        public var rowsRead: Int
        public var entities: Int
    }

    /// The schema of emitted batches: join keys, `event_timestamp`, `created_timestamp`, then features.
    public func outputSchema(of view: FeatureView) -> Schema {
        var fields = definitions.joinKeys(of: view).map { Field($0.name, $0.type.joinKeyType, nullable: false) }
        fields.append(Field(Materializer.eventColumn, .timestamp, nullable: false))
        fields.append(Field(Materializer.createdColumn, .timestamp))
        fields += view.features.map { Field($0.name, $0.type) }
        return Schema(fields)
    }

    public static let eventColumn = "__event_timestamp"
    public static let createdColumn = "__created_timestamp"

    /// Scans `view`'s source for rows with event time in `start ... end` (inclusive) and emits
    /// the latest row per entity, `batchRows` at a time.
    ///
    /// - Parameter retainedRowLimit: rows kept before compacting to the winners (default: twice
    ///   the entities, or 256 MB of values if more).
    public func latestRows(
        of view: FeatureView, start: Timestamp, end: Timestamp, threads: Int = 1, batchRows: Int = 65_536,
        retainedRowLimit: Int? = nil,
        progress: (Int) -> Void = { _ in }, emit: (RecordBatch) throws -> Void
    ) throws -> Stats {
        guard let source = definitions.source(view.source) else {
            throw TrainingSetError("feature view '\(view.name)' reads source '\(view.source)', which is not defined")
        }
        let columns = definitions.sourceColumns(of: source)
        let keys = definitions.joinKeys(of: view)
        let keyNames = keys.map { columns.sourceColumn(for: $0.name) }
        let filter = TimeFilter(column: columns.timestamp, lower: start.microseconds, upper: end.microseconds)
        let sourceReaders = try readers(source)

        // One pass: per entity, the winning (event, created) and a reference to its row; the rows'
        // key and feature columns are kept (and compacted to the winners when they grow), so the
        // winners can be gathered at the end without reading the source again.
        let featureNames = view.features.map { columns.sourceColumn(for: $0.name) }
        var scanned = keyNames + [columns.timestamp] + [columns.created].compactMap { $0 }
        for name in featureNames where !scanned.contains(name) { scanned.append(name) }
        let keptTypes = keys.map(\.type.joinKeyType) + view.features.map(\.type)
        let bytesPerRow = max(1, keptTypes.reduce(0) { $0 + TrainingSetBuilder.width(of: $1) })
        var dictionary = KeyDictionary()
        var bestEvent: [Int64] = []
        var bestCreated: [Int64] = []
        var bestRow: [Int] = []
        var retained = RetainedRows()
        var rowsRead = 0
        for reader in sourceReaders {
            try Prefetch.scan(reader, columns: scanned, filter: filter, threads: threads) { batch in
                let typed = try TypedSourceBatch(
                    batch, source: source, columns: columns, keys: keys, features: view.features, view: view.name)
                let ids = dictionary.ids(for: typed.keys)
                let (events, created) = (typed.events, typed.created)
                let kept = typed.keys + typed.features
                if dictionary.count > bestEvent.count {
                    let extra = dictionary.count - bestEvent.count
                    bestEvent.append(contentsOf: repeatElement(Int64.min, count: extra))
                    bestCreated.append(contentsOf: repeatElement(Int64.min, count: extra))
                    bestRow.append(contentsOf: repeatElement(-1, count: extra))
                }
                let base = retained.append(kept, count: batch.rowCount)
                Materializer.keepLatest(
                    ids: ids, events: events, created: created, firstRow: base, start: start.microseconds,
                    end: end.microseconds, bestEvent: &bestEvent, bestCreated: &bestCreated, bestRow: &bestRow)
                rowsRead += batch.rowCount
                if retained.rows > retainedRowLimit ?? max(2 * bestRow.count, (256 << 20) / bytesPerRow) {
                    try retained.compact(&bestRow, types: keptTypes)
                }
                progress(rowsRead)
            }
        }

        // Emit the winners, `batchRows` entities at a time.
        let schema = outputSchema(of: view)
        let winners = dictionary.idsInKeyOrder().map(Int.init).filter { bestRow[$0] >= 0 }
        for first in stride(from: 0, to: winners.count, by: max(1, batchRows)) {
            let slice = Array(winners[first..<min(winners.count, first + max(1, batchRows))])
            let references = slice.map { bestRow[$0] }
            var out: [Column] = []
            for (k, type) in keptTypes.enumerated() where k < keys.count {
                out.append(try retained.take(column: k, type: type, references))
            }
            out.append(.timestamp(slice.map { bestEvent[$0] }))
            let created = slice.map { bestCreated[$0] }
            out.append(
                .timestamp(created.map { $0 == Int64.min ? 0 : $0 }, validity: Bitmap(created.map { $0 != Int64.min })))
            for k in keys.count..<keptTypes.count {
                out.append(try retained.take(column: k, type: keptTypes[k], references))
            }
            try emit(try RecordBatch(schema: schema, columns: out))
        }
        return Stats(view: view.name, rowsRead: rowsRead, entities: winners.count)
    }

    /// Pass 1's inner loop: remembers, per entity, the row with the greatest (event, created),
    /// a later row winning a tie. Rows outside `start ... end` or with a null event time are skipped.
    static func keepLatest(
        ids: [Int32], events: Column, created: Column?, firstRow: Int, start: Int64, end: Int64,
        bestEvent: inout [Int64], bestCreated: inout [Int64], bestRow: inout [Int]
    ) {
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
                                    if br[g] < 0 || e > be[g] || (e == be[g] && c >= bc[g]) {
                                        be[g] = e
                                        bc[g] = c
                                        br[g] = firstRow + row
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

}
