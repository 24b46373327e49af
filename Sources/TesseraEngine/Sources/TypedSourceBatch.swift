import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// A batch of a source as the engine uses it: join keys ready to compare, event and created
/// times, and features in their declared types. One place checks a batch's columns, so the
/// training-set builder, the materializer and range spines apply the same rules and messages.
public struct TypedSourceBatch {
    public var keys: [Column]
    public var events: Column
    public var created: Column?
    public var features: [Column]
    /// Columns read by window aggregations, in the order asked for, cast to their input types.
    public var inputs: [Column] = []
    /// The rows read from the source for this batch, when a view's filter dropped some (the
    /// batch then holds fewer): what progress and summaries count as read.
    public var sourceRows: Int?

    /// The batch's rows `rows`, in that order (`sourceRows` kept).
    func taking(_ rows: [Int]) -> TypedSourceBatch {
        var out = self
        out.keys = keys.map { $0.take(rows) }
        out.events = events.take(rows)
        out.created = created?.take(rows)
        out.features = features.map { $0.take(rows) }
        out.inputs = inputs.map { $0.take(rows) }
        return out
    }

    /// Picks and checks the columns of `batch` (named as in the source's files).
    ///
    /// - Throws: `TrainingSetError` naming the source, the column and what it is for.
    public init(
        _ batch: RecordBatch, source: DataSource, columns: SourceColumns, keys: [JoinKey], features: [Feature],
        view: String, readCreated: Bool = true, inputs: [(name: String, type: ValueType)] = []
    ) throws(TrainingSetError) {
        func column(_ name: String, _ role: String) throws(TrainingSetError) -> Column {
            guard let found = batch.column(named: name) else {
                throw TrainingSetError(
                    "source '\(source.name)' has no column '\(name)' (\(role) of feature view '\(view)')",
                    hint: Suggestions.hint(for: name, in: batch.schema.names)
                        ?? "map it with field_mapping on the source, or fix the definition")
            }
            return found
        }
        func timestamp(_ name: String, _ role: String) throws(TrainingSetError) -> Column {
            let found = try column(name, role)
            guard found.type == .timestamp else {
                throw TrainingSetError(
                    "column '\(name)' of source '\(source.name)' is \(found.type), not a timestamp (\(role))",
                    hint: "store times as timestamps: Parquet TIMESTAMP, or ISO 8601 text in CSV")
            }
            return found
        }
        self.keys = []
        for key in keys {
            let name = columns.sourceColumn(for: key.name)
            let found = try column(name, "join key '\(key.name)'")
            guard let joinable = found.asJoinKey(key.type) else {
                throw TrainingSetError(
                    "column '\(name)' of source '\(source.name)' is \(found.type) but join key '\(key.name)' is \(key.type)"
                )
            }
            self.keys.append(joinable)
        }
        events = try timestamp(columns.timestamp, "event timestamp")
        created =
            readCreated
            ? try columns.created.map { (name) throws(TrainingSetError) in try timestamp(name, "created timestamp") }
            : nil
        func typed(_ field: String, _ type: ValueType, role: String, expected: String) throws(TrainingSetError)
            -> Column
        {
            let name = columns.sourceColumn(for: field)
            let found = try column(name, role)
            guard let cast = found.cast(to: type) else {
                throw TrainingSetError(
                    "column '\(name)' of source '\(source.name)' is \(found.type) but \(expected)")
            }
            return cast
        }
        self.features = try features.map { (feature) throws(TrainingSetError) in
            try typed(
                feature.name, feature.type, role: "feature '\(feature.name)'",
                expected: "feature '\(view):\(feature.name)' is \(feature.type)")
        }
        self.inputs = try inputs.map { (input) throws(TrainingSetError) in
            try typed(
                input.name, input.type, role: "input of a window aggregation",
                expected: "a window aggregation of feature view '\(view)' reads it as \(input.type)")
        }
    }
}

extension TypedSourceBatch {
    /// A remote engine's chosen rows of `view` (named as in the source) checked and typed,
    /// in the shape of `LatestRows.schema` (`schema`): keys, event time, created time (null
    /// without a created column), features.
    public static func latestRows(
        _ batch: RecordBatch, source: DataSource, columns: SourceColumns, view: FeatureView, keys: [JoinKey],
        schema: Schema
    ) throws -> RecordBatch {
        let typed = try TypedSourceBatch(
            batch, source: source, columns: columns, keys: keys, features: view.plainFeatures, view: view.name)
        let created = typed.created ?? Column(nulls: .timestamp, count: batch.rowCount)
        return try RecordBatch(schema: schema, columns: typed.keys + [typed.events, created] + typed.features)
    }
}
