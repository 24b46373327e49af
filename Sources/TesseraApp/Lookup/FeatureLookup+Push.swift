import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraOnline

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

/// Where pushed rows go (Feast's `PushMode`).
public enum PushTarget: String, Sendable, CaseIterable {
    case online
    case offline
    case onlineAndOffline = "online_and_offline"

    public var online: Bool { self != .offline }
    public var offline: Bool { self != .online }
}

/// A validated push: typed columns for the offline log and one write per fed view.
public struct PreparedPush: Sendable {
    /// The push source.
    public let source: DataSource
    /// The views the source feeds (their online rows are written).
    public let views: [String]
    /// The pushed rows, typed: join keys, event time, created time (when sent), then every
    /// feature of the fed views. This is what the offline store appends.
    public let batch: RecordBatch
    /// The push's content digest: the same push sent twice has the same id (see `PushLog`).
    public let pushID: String
    let writes: [OnlineWriteBatch]
    /// The aggregation state updates of the fed views with window aggregations (for a store
    /// without a pushed-event log).
    let states: [OnlineStateUpdate]
    /// The same rows as log records (for a store with a log).
    let records: [PendingStates.Record]
    /// Per view with window aggregations: pushed rows and the keys they update.
    let stateCounts: [String: (rows: Int, keys: Int)]
}

extension FeatureLookup {
    /// Checks a push against the registry and types its columns; writes nothing.
    ///
    /// - Throws: `LookupError` naming the column or value at fault.
    public func preparePush(_ request: PushRequest) throws(LookupError) -> PreparedPush {
        let catalog = catalog()
        let name = Echo.clip(request.source)
        guard let source = catalog.definitions.source(request.source) else {
            throw LookupError(
                .notFound, field: "push_source_name", "no push source named '\(name)'",
                hint: Suggestions.hint(for: request.source, in: catalog.pushTargets.keys))
        }
        guard let targets = catalog.pushTargets[request.source] else {
            throw LookupError(
                .invalidRequest, field: "push_source_name",
                "source '\(name)' is a \(source.kind.name) source; only push sources take pushes")
        }
        guard !targets.isEmpty else {
            throw LookupError(
                .invalidRequest, field: "push_source_name",
                "push source '\(name)' feeds no feature view, so a push has nowhere to go",
                hint: "set 'source: \(name)' on the views it should update, and apply")
        }
        // A push source may inherit its timestamp columns and renames from its batch source.
        let sourceColumns = catalog.definitions.sourceColumns(of: source)
        let typed = try TypedColumns(
            request.columns, mapping: sourceColumns.mapping, maxRows: configuration.maxEntityRows,
            latest: configuration.maxFutureTime.map { configuration.now() + $0 })
        for info in targets {
            for key in info.joinKeys {
                try typed.add(
                    key.name, key.type, required: true, owner: "join key of '\(info.view.name)'", nullable: false)
            }
        }
        try typed.add(
            sourceColumns.timestamp, .timestamp, required: true, owner: "event timestamp", nullable: false,
            bounded: true)
        if let created = sourceColumns.created {
            try typed.add(
                created, .timestamp, required: false, owner: "created timestamp", nullable: true, bounded: true)
        }
        for info in targets {
            for feature in info.view.plainFeatures where feature.expression == nil {
                try typed.add(
                    feature.name, feature.type, required: true, owner: "feature of '\(info.view.name)'", nullable: true)
            }
            // Derived features and filters are computed from the source columns they read.
            for (name, type) in (info.view.expressionInputs ?? [:]).sorted(by: { $0.key < $1.key }) {
                try typed.add(
                    name, type, required: true, owner: "read by an expression of '\(info.view.name)'", nullable: true)
            }
            // Window aggregations read their input columns from pushed rows (in training sets).
            for feature in info.view.aggregatedFeatures {
                // An expression's input is computed from the columns it reads (added above).
                guard let column = feature.aggregation?.column, let input = feature.aggregation?.inputType,
                    feature.aggregation?.expression == nil
                else {
                    continue
                }
                try typed.add(
                    column, input, required: true, owner: "input of aggregation '\(info.view.name):\(feature.name)'",
                    nullable: true)
            }
        }
        let batch = try typed.batch()
        var writes: [OnlineWriteBatch] = []
        var states: [OnlineStateUpdate] = []
        var records: [PendingStates.Record] = []
        var stateCounts: [String: (rows: Int, keys: Int)] = [:]
        let now = configuration.now().microseconds
        let pushID = PushID.of(source: source.name, batch: batch)
        for info in targets where info.view.online {
            let writesRows = !info.view.plainFeatures.isEmpty
            guard writesRows || info.aggregation != nil else { continue }
            // The rows the view takes (its filter's, its expressions computed), once for both uses.
            let rows = try TypedColumns.rows(batch, of: info)
            if writesRows {
                writes.append(
                    try TypedColumns.write(
                        rows, view: info.view, joinKeys: info.joinKeys, event: sourceColumns.timestamp,
                        created: sourceColumns.created))
            }
            guard let program = info.aggregation else { continue }
            let (keys, rowsOf, events) = try TypedColumns.events(
                rows, for: program, joinKeys: info.joinKeys, event: sourceColumns.timestamp,
                created: sourceColumns.created)
            stateCounts[info.view.name] = (batch.rowCount, keys.count)
            states.append(
                OnlineStateUpdate(view: info.view.name, keys: keys) { index, held in
                    program.merged(held, with: events, rows: rowsOf[index], now: now, push: pushID)
                })
            records.append(
                PendingStates.Record(
                    view: info.view.name, push: pushID, program: program, keys: keys, rows: rowsOf, events: events))
        }
        return PreparedPush(
            source: source, views: targets.map(\.view.name), batch: batch,
            pushID: pushID, writes: writes, states: states, records: records,
            stateCounts: stateCounts)
    }

    /// Checks rows for one view's online store (Feast's `write_to_online_store`): join keys,
    /// the event time (the source's column, or Feast's `event_timestamp`), the created time
    /// if sent (the source's column, or Feast's `created`), and the view's features.
    public func prepareWrite(view name: String, columns: [(name: String, values: [ScalarValue])])
        throws(LookupError) -> OnlineWriteBatch
    {
        let catalog = catalog()
        guard let info = catalog.views[name] else {
            throw LookupError(
                .notFound, field: "feature_view_name", "no feature view named '\(Echo.clip(name))'",
                hint: Suggestions.hint(for: name, in: catalog.views.keys))
        }
        let source = catalog.definitions.source(info.view.source)
        let sourceColumns = source.map { catalog.definitions.sourceColumns(of: $0) }
        let sent = Set(columns.map(\.name))
        // Feast's client names the times `event_timestamp` and `created`, whatever the source calls them.
        var event = sourceColumns?.timestamp ?? "event_timestamp"
        if !sent.contains(event) && sent.contains("event_timestamp") { event = "event_timestamp" }
        var created = sourceColumns?.created
        if created.map({ !sent.contains($0) }) ?? true, sent.contains("created") { created = "created" }
        let typed = try TypedColumns(
            columns, mapping: sourceColumns?.mapping ?? [:], maxRows: configuration.maxEntityRows,
            latest: configuration.maxFutureTime.map { configuration.now() + $0 })
        for key in info.joinKeys {
            try typed.add(key.name, key.type, required: true, owner: "join key of '\(name)'", nullable: false)
        }
        try typed.add(event, .timestamp, required: true, owner: "event timestamp", nullable: false, bounded: true)
        if let created {
            try typed.add(
                created, .timestamp, required: false, owner: "created timestamp", nullable: true, bounded: true)
        }
        guard info.view.aggregatedFeatures.isEmpty else {
            throw LookupError(
                .invalidRequest, field: "feature_view_name",
                "feature view '\(name)' has window aggregations, which are computed from its source, not written",
                hint: "push the source rows instead (POST /push)")
        }
        for feature in info.view.features {
            try typed.add(feature.name, feature.type, required: true, owner: "feature of '\(name)'", nullable: true)
        }
        return try TypedColumns.write(
            try typed.batch(), view: info.view, joinKeys: info.joinKeys, event: event, created: created)
    }

    /// Writes a prepared push to the online store, keeping the latest row per entity, in one
    /// atomic write across every fed view.
    ///
    /// - Returns: what each view's write did, by view name.
    /// - Throws: `LookupError.unavailable` when the store fails (then nothing is written).
    @discardableResult
    public func writeOnline(_ push: PreparedPush) throws(LookupError) -> [String: OnlineWriteSummary] {
        let summaries: [OnlineWriteSummary]
        do {
            if store.keepsStateLog && !push.records.isEmpty {
                // Rows for window aggregations go to the pushed-event log, read merged until folded.
                let log = OnlineLogChange(append: push.records.map { ($0.view, PendingStates.payload($0)) })
                let written = try store.write(push.writes, states: [], log: log)
                summaries = written.summaries
                pending.add(push.records, seqs: written.appended)
                switch pending.foldDue {
                case .none: break
                case .hotKeys:
                    try pending.fold(
                        store, programs: programs(), now: configuration.now().microseconds, hotKeysOnly: true)
                case .all: pending.foldInBackground { [self] () throws(OnlineStoreError) in try foldPending() }
                case .behind: try foldPending(wait: true)
                }
            } else {
                summaries = try store.write(push.writes, states: push.states)
            }
        } catch {
            throw LookupError(.unavailable, field: "online_store", error.description)
        }
        var out: [String: OnlineWriteSummary] = [:]
        for (write, summary) in zip(push.writes, summaries) { out[write.view] = summary }
        for (view, counts) in push.stateCounts where out[view] == nil {
            // Every pushed row of a window-aggregated view enters its key's state.
            out[view] = OnlineWriteSummary(received: counts.rows, written: counts.rows, skipped: 0)
        }
        return out
    }
}

extension FeatureLookup {
    /// The programs of the served views with window aggregations, by view name.
    func programs() -> @Sendable (String) -> AggregationProgram? {
        let views = catalog().views
        return { views[$0]?.aggregation }
    }

    /// Merges every pushed row still pending into the stored states now (pushes do it when
    /// enough are pending; `tessera` commands that exit soon after a push need not).
    /// - Parameter wait: when a fold is running already, wait for it and fold after it
    ///   (else return at once: the running fold takes the rows).
    public func foldPending(wait: Bool = false) throws(OnlineStoreError) {
        try pending.fold(store, programs: programs(), now: configuration.now().microseconds, wait: wait)
    }

    /// The aggregation states of a read's keys, with the rows pushed since they were stored.
    func states(_ read: PreparedLookup.Read) throws(OnlineStoreError) -> [[UInt8]?] {
        guard let program = read.aggregation else { return try store.readStates(view: read.view, keys: read.keys) }
        // The catalog is looked at only when the log is followed (rarely), not on every read.
        return try pending.states(
            view: read.view, keys: read.keys, program: program, store: store,
            now: configuration.now().microseconds, programs: { self.catalog().views[$0]?.aggregation })
    }
}

/// Request columns typed one by one against what the definitions declare, collecting the
/// typed columns under the names views use; errors name the column and row.
final class TypedColumns {
    private var sent: [String: (original: String, values: [ScalarValue])] = [:]
    private let rows: Int
    private let latest: Timestamp?
    private(set) var fields: [Field] = []
    private(set) var columns: [Column] = []
    private var index: [String: Int] = [:]
    private let sentNames: [String]

    init(
        _ request: [(name: String, values: [ScalarValue])], mapping: [String: String], maxRows: Int, latest: Timestamp?
    ) throws(LookupError) {
        guard let first = request.first else {
            throw LookupError(.invalidRequest, field: "df", "no columns given")
        }
        let rows = first.values.count
        for column in request where column.values.count != rows {
            throw LookupError(
                .invalidRequest, field: "df.\(Echo.clip(column.name))",
                "has \(column.values.count) values but '\(Echo.clip(first.name))' has \(rows)",
                hint: "every column needs one value per row")
        }
        guard rows <= maxRows else {
            throw LookupError(
                .tooLarge, field: "df", "\(rows) rows; this server takes at most \(maxRows) per request",
                hint: "split the rows over several requests")
        }
        self.rows = rows
        self.latest = latest
        // Source column name → the name views use (field_mapping).
        for column in request { sent[mapping[column.name] ?? column.name] = (column.name, column.values) }
        sentNames = request.map(\.name)
    }

    func add(
        _ name: String, _ type: ValueType, required: Bool, owner: String, nullable: Bool, bounded: Bool = false
    ) throws(LookupError) {
        guard index[name] == nil else { return }
        guard let (original, values) = sent[name] else {
            guard required else { return }
            throw LookupError(
                .invalidRequest, field: "df", "missing column '\(name)' (\(owner))",
                hint: Suggestions.hint(for: name, in: sentNames))
        }
        var builder = ColumnBuilder(type: type, capacity: rows)
        for (row, value) in values.enumerated() {
            guard let converted = ValueCoercion.convert(value, to: type), nullable || !converted.isNull,
                builder.append(converted)
            else {
                throw LookupError(
                    .invalidRequest, field: "df.\(Echo.clip(original))[\(row)]",
                    "'\(Echo.clip(original))' is \(type.name) but got \(ValueCoercion.explain(value, as: type))")
            }
            if bounded, let latest, case .timestamp(let time) = converted, time > latest {
                throw LookupError(
                    .invalidRequest, field: "df.\(Echo.clip(original))[\(row)]",
                    "\(owner) \(time) is later than this server accepts (now + its max_push_future, \(latest))",
                    hint: "check the client's clock and the unit (seconds, not milliseconds)")
            }
        }
        index[name] = columns.count
        fields.append(Field(name, type, nullable: nullable))
        columns.append(builder.finish())
    }

    /// The typed column a view names `name`, if it was added.
    func column(_ name: String) -> Column? { index[name].map { columns[$0] } }

    /// The rows a view takes from a push: those its filter keeps, with its derived features
    /// and expression inputs computed, as training sets take them from the same rows.
    static func rows(_ batch: RecordBatch, of info: ServingCatalog.ViewInfo) throws(LookupError) -> RecordBatch {
        guard info.view.hasTransforms else { return batch }
        guard let transform = info.transform else {
            throw LookupError(
                .unavailable, field: "push_source_name",
                "the expressions of feature view '\(info.view.name)' do not check against the applied definitions",
                hint: "run tessera plan to see why, then apply")
        }
        do {
            return try transform.apply(batch, column: { batch.column(named: $0) }, outputName: { $0 })
        } catch {
            throw LookupError(.invalidRequest, field: "df", "\(error)")
        }
    }

    /// A view's rows (`rows(_:of:)`) as aggregation events of `program` (event and created
    /// times, input columns), the keys they belong to and each key's row numbers.
    static func events(
        _ table: RecordBatch, for program: AggregationProgram, joinKeys: [JoinKey], event: String, created: String?
    )
        throws(LookupError) -> (keys: [EntityKey], rows: [ArraySlice<Int>], events: AggregationProgram.Events)
    {
        let rows = table.rowCount
        func column(_ name: String) -> Column? { table.column(named: name) }
        let keyColumns = joinKeys.compactMap { column($0.name) }
        let encoded: EncodedKeys
        do {
            encoded = try EncodedKeys(columns: keyColumns, rows: rows)
        } catch {
            throw LookupError(.invalidRequest, field: "df", error.description)
        }
        let (keys, grouped, starts) = encoded.grouped()
        let rowsOf = keys.indices.map { grouped[starts[$0]..<starts[$0 + 1]] }
        let times = column(event)?.int64Values ?? []
        let createdColumn = created.flatMap { column($0) }
        let createdTimes = createdColumn?.int64Values
        let inputs = program.inputColumns.map { column($0.name) ?? Column(empty: $0.type) }
        let events = AggregationProgram.Events(
            event: (0..<rows).map { times.indices.contains($0) ? times[$0] : 0 },
            created: (0..<rows).map { row in
                guard let createdTimes, createdColumn?.isValid(row) ?? false else { return Int64.min }
                return createdTimes[row]
            },
            inputs: inputs)
        return (keys, rowsOf, events)
    }

    func batch() throws(LookupError) -> RecordBatch {
        do {
            return try RecordBatch(schema: Schema(fields), columns: columns)
        } catch {
            throw LookupError(.invalidRequest, field: "df", error.description)
        }
    }

    /// A view's online rows (`rows(_:of:)`) as a write batch.
    static func write(_ table: RecordBatch, view: FeatureView, joinKeys: [JoinKey], event: String, created: String?)
        throws(LookupError) -> OnlineWriteBatch
    {
        do {
            func named(_ name: String) -> Column? { table.column(named: name) }
            guard let events = named(event) else { throw LookupError(.invalidRequest, field: "df", "no '\(event)'") }
            var batch = try OnlineWriteBatch(
                view: view.name, joinKeys: joinKeys.compactMap { named($0.name) }, eventTimestamps: events,
                createdTimestamps: created.flatMap { named($0) },
                features: view.plainFeatures.compactMap { f in named(f.name).map { (f.name, $0) } })
            batch.ttl = view.ttl
            return batch
        } catch let error as LookupError {
            throw error
        } catch {
            throw LookupError(.invalidRequest, field: "df", "\(error)")
        }
    }
}
