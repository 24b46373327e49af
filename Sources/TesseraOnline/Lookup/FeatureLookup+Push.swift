import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// Rows pushed to a push source, column by column (Feast's `/push` `df`).
public struct PushRequest: Sendable {
    /// The push source's name.
    public var source: String
    /// Columns in request order: name and one value per row.
    public var columns: [(name: String, values: [ScalarValue])]

    public init(source: String, columns: [(name: String, values: [ScalarValue])]) {
        self.source = source
        self.columns = columns
    }
}

/// A validated push: typed columns for the offline log and one write per fed view.
public struct PreparedPush: Sendable {
    /// The push source.
    public let source: DataSource
    /// The views the source feeds (their online rows are written).
    public let views: [String]
    /// The pushed rows, typed: join keys, event time, created time (when sent), then every
    /// feature of the fed views. This is what an `OfflinePushSink` appends.
    public let batch: RecordBatch
    let writes: [OnlineWriteBatch]
}

extension FeatureLookup {
    /// Checks a push against the registry and types its columns; writes nothing.
    ///
    /// - Throws: `LookupError` naming the column or value at fault.
    public func preparePush(_ request: PushRequest) throws(LookupError) -> PreparedPush {
        let catalog = catalog()
        guard let source = catalog.definitions.source(request.source) else {
            throw LookupError(
                .notFound, field: "push_source_name", "no push source named '\(request.source)'",
                hint: Suggestions.hint(for: request.source, in: catalog.pushTargets.keys))
        }
        guard let targets = catalog.pushTargets[request.source] else {
            throw LookupError(
                .invalidRequest, field: "push_source_name",
                "source '\(request.source)' is a \(source.kind.name) source; only push sources take pushes")
        }
        guard !targets.isEmpty else {
            throw LookupError(
                .invalidRequest, field: "push_source_name",
                "push source '\(request.source)' feeds no feature view, so a push has nowhere to go",
                hint: "set 'source: \(request.source)' on the views it should update, and apply")
        }
        guard let first = request.columns.first else {
            throw LookupError(.invalidRequest, field: "df", "no columns given")
        }
        let rows = first.values.count
        for column in request.columns where column.values.count != rows {
            throw LookupError(
                .invalidRequest, field: "df.\(column.name)",
                "has \(column.values.count) values but '\(first.name)' has \(rows)",
                hint: "every column needs one value per row")
        }
        // A push source may inherit its timestamp columns and renames from its batch source.
        let sourceColumns = catalog.definitions.sourceColumns(of: source)
        // Source column name → the name views use (field_mapping), and back.
        var sent: [String: [ScalarValue]] = [:]
        for column in request.columns { sent[sourceColumns.mapping[column.name] ?? column.name] = column.values }
        var fields: [Field] = []
        var columns: [Column] = []
        var index: [String: Int] = [:]
        func add(_ name: String, _ type: ValueType, required: Bool, owner: String, nullable: Bool) throws(LookupError) {
            guard index[name] == nil else { return }
            guard let values = sent[name] else {
                guard required else { return }
                throw LookupError(
                    .invalidRequest, field: "df", "missing column '\(name)' (\(owner))",
                    hint: Suggestions.hint(for: name, in: request.columns.map(\.name)))
            }
            var builder = ColumnBuilder(type: type, capacity: rows)
            for (row, value) in values.enumerated() {
                guard let converted = ValueCoercion.convert(value, to: type), nullable || !converted.isNull,
                    builder.append(converted)
                else {
                    throw LookupError(
                        .invalidRequest, field: "df.\(name)[\(row)]",
                        "'\(name)' is \(type.name) but got \(ValueCoercion.describe(value))")
                }
            }
            index[name] = columns.count
            fields.append(Field(name, type, nullable: nullable))
            columns.append(builder.finish())
        }
        for info in targets {
            for key in info.joinKeys {
                try add(key.name, key.type, required: true, owner: "join key of '\(info.view.name)'", nullable: false)
            }
        }
        try add(sourceColumns.timestamp, .timestamp, required: true, owner: "event timestamp", nullable: false)
        if let created = sourceColumns.created {
            try add(created, .timestamp, required: false, owner: "created timestamp", nullable: true)
        }
        for info in targets {
            for feature in info.view.features {
                try add(
                    feature.name, feature.type, required: true, owner: "feature of '\(info.view.name)'", nullable: true)
            }
        }
        let batch: RecordBatch
        do {
            batch = try RecordBatch(schema: Schema(fields), columns: columns)
        } catch {
            throw LookupError(.invalidRequest, field: "df", error.description)
        }
        var writes: [OnlineWriteBatch] = []
        for info in targets {
            do {
                writes.append(
                    try OnlineWriteBatch(
                        view: info.view.name, joinKeys: info.joinKeys.compactMap { index[$0.name].map { columns[$0] } },
                        eventTimestamps: columns[index[sourceColumns.timestamp] ?? 0],
                        createdTimestamps: sourceColumns.created.flatMap { index[$0] }.map { columns[$0] },
                        features: info.view.features.compactMap { f in index[f.name].map { (f.name, columns[$0]) } }))
            } catch {
                throw LookupError(.invalidRequest, field: "df", error.description)
            }
        }
        return PreparedPush(source: source, views: targets.map(\.view.name), batch: batch, writes: writes)
    }

    /// Writes a prepared push to the online store, keeping the newest row per entity.
    ///
    /// - Returns: what each view's write did, by view name.
    /// - Throws: `LookupError.unavailable` when the store fails (nothing of that view is written).
    @discardableResult
    public func writeOnline(_ push: PreparedPush) throws(LookupError) -> [String: OnlineWriteSummary] {
        var summaries: [String: OnlineWriteSummary] = [:]
        for write in push.writes {
            do {
                summaries[write.view] = try store.write(write)
            } catch {
                throw LookupError(.unavailable, field: "online_store", error.description)
            }
        }
        return summaries
    }
}
