import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// Finds each entity's latest row of a view in a time interval — by the training-set
/// engine's rule (greatest event time, then greatest created time, then the later row) —
/// and hands the winners over in batches, with memory bounded by the number of entities.
///
/// Two passes over the source: the first reads only keys and times and remembers, per
/// entity, which row wins; the second reads the feature columns and emits those rows.
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
        var fields = definitions.joinKeys(of: view).map { Field($0.name, $0.type, nullable: false) }
        fields.append(Field(Materializer.eventColumn, .timestamp, nullable: false))
        fields.append(Field(Materializer.createdColumn, .timestamp))
        fields += view.features.map { Field($0.name, $0.type) }
        return Schema(fields)
    }

    public static let eventColumn = "__event_timestamp"
    public static let createdColumn = "__created_timestamp"

    /// Scans `view`'s source for rows with event time in `start ... end` (inclusive) and emits
    /// the latest row per entity, `batchRows` at a time.
    public func latestRows(
        of view: FeatureView, start: Timestamp, end: Timestamp, threads: Int = 1, batchRows: Int = 65_536,
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

        // Pass 1: per entity, the winning (event, created, row number in scan order).
        var dictionary = KeyDictionary()
        var bestEvent: [Int64] = []
        var bestCreated: [Int64] = []
        var bestRow: [Int] = []
        var rowNumber = 0
        let firstPass = keyNames + [columns.timestamp] + [columns.created].compactMap { $0 }
        for reader in sourceReaders {
            try reader.scan(columns: firstPass, filter: filter, threads: threads) { batch in
                let probe = try Materializer.keyColumns(batch, keys: keys, names: keyNames, source: source.name)
                let ids = dictionary.ids(for: probe)
                let (events, created) = try Materializer.times(batch, columns, source: source.name)
                if dictionary.count > bestEvent.count {
                    let extra = dictionary.count - bestEvent.count
                    bestEvent.append(contentsOf: repeatElement(Int64.min, count: extra))
                    bestCreated.append(contentsOf: repeatElement(Int64.min, count: extra))
                    bestRow.append(contentsOf: repeatElement(-1, count: extra))
                }
                let eventValues = events.int64Values ?? []
                let createdValues = created?.int64Values
                for row in 0..<batch.rowCount {
                    let id = Int(ids[row])
                    defer { rowNumber += 1 }
                    guard id >= 0, events.isValid(row) else { continue }
                    let e = eventValues[row]
                    guard e >= start.microseconds && e <= end.microseconds else { continue }
                    var c = Int64.min
                    if let createdValues, created?.isValid(row) == true { c = createdValues[row] }
                    if bestRow[id] < 0 || e > bestEvent[id] || (e == bestEvent[id] && c >= bestCreated[id]) {
                        bestEvent[id] = e
                        bestCreated[id] = c
                        bestRow[id] = rowNumber
                    }
                }
                progress(rowNumber)
            }
        }
        let rowsRead = rowNumber
        var winners = Bitmap(count: rowsRead, value: false)
        for row in bestRow where row >= 0 { winners[row] = true }

        // Pass 2: emit the winning rows with their features.
        let schema = outputSchema(of: view)
        let featureNames = view.features.map { columns.sourceColumn(for: $0.name) }
        var secondPass = firstPass
        for name in featureNames where !secondPass.contains(name) { secondPass.append(name) }
        var pending: [RecordBatch] = []
        var pendingRows = 0
        rowNumber = 0
        func flush() throws {
            guard pendingRows > 0 else { return }
            try emit(try RecordBatch.concatenate(pending))
            pending.removeAll()
            pendingRows = 0
        }
        for reader in sourceReaders {
            try reader.scan(columns: secondPass, filter: filter, threads: threads) { batch in
                var keep: [Int] = []
                for row in 0..<batch.rowCount where rowNumber + row < rowsRead && winners[rowNumber + row] {
                    keep.append(row)
                }
                rowNumber += batch.rowCount
                guard !keep.isEmpty else { return }
                var out = try Materializer.keyColumns(batch, keys: keys, names: keyNames, source: source.name)
                    .map { $0.take(keep) }
                let (events, created) = try Materializer.times(batch, columns, source: source.name)
                out.append(events.take(keep))
                out.append(created?.take(keep) ?? Column(nulls: .timestamp, count: keep.count))
                for (feature, name) in zip(view.features, featureNames) {
                    guard let column = batch.column(named: name) else {
                        throw TrainingSetError(
                            "source '\(source.name)' has no column '\(name)' (feature '\(feature.name)')")
                    }
                    guard let cast = column.cast(to: feature.type) else {
                        throw TrainingSetError(
                            "column '\(name)' of source '\(source.name)' is \(column.type) but feature '\(view.name):\(feature.name)' is \(feature.type)"
                        )
                    }
                    out.append(cast.take(keep))
                }
                pending.append(try RecordBatch(schema: schema, columns: out))
                pendingRows += keep.count
                if pendingRows >= batchRows { try flush() }
            }
        }
        try flush()
        return Stats(view: view.name, rowsRead: rowsRead, entities: bestRow.filter { $0 >= 0 }.count)
    }

    static func keyColumns(_ batch: RecordBatch, keys: [JoinKey], names: [String], source: String) throws -> [Column] {
        try zip(keys, names).map { key, name in
            guard let column = batch.column(named: name) else {
                throw TrainingSetError("source '\(source)' has no column '\(name)' (join key '\(key.name)')")
            }
            guard let cast = column.cast(to: key.type) else {
                throw TrainingSetError(
                    "column '\(name)' of source '\(source)' is \(column.type) but join key '\(key.name)' is \(key.type)"
                )
            }
            return cast
        }
    }

    static func times(_ batch: RecordBatch, _ columns: SourceColumns, source: String) throws -> (Column, Column?) {
        guard let events = batch.column(named: columns.timestamp), events.type == .timestamp else {
            throw TrainingSetError("column '\(columns.timestamp)' of source '\(source)' is missing or not a timestamp")
        }
        guard let name = columns.created else { return (events, nil) }
        guard let created = batch.column(named: name), created.type == .timestamp else {
            throw TrainingSetError("column '\(name)' of source '\(source)' is missing or not a timestamp")
        }
        return (events, created)
    }
}
