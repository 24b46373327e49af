import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraOnline
import TesseraRegistry

/// What to load into the online store.
public struct MaterializeRequest: Sendable {
    /// The event times to load.
    public enum Interval: Sendable {
        /// `start ... end`, inclusive, for every selected view.
        case range(start: Timestamp, end: Timestamp)
        /// Each view from its watermark (minus `lateness`, for rows that arrive late) to `end`;
        /// a view never materialized starts at `end - ttl` (or at the beginning, for ttl 0).
        case incremental(end: Timestamp, lateness: TimeSpan)
    }

    public var interval: Interval
    /// Views to load; `nil`: every online view.
    public var views: [String]?
    /// Cores to use; `nil`: the offline engine's setting.
    public var threads: Int?
    /// Entities per write to the online store (each write is one transaction).
    public var batchRows: Int
    /// Keep memory near this many bytes: a plain view's entities are found in parts by key
    /// hash, each part reading the source again (native engine; `nil`: one pass).
    public var memoryLimit: Int?

    public init(_ interval: Interval, views: [String]? = nil, threads: Int? = nil, batchRows: Int = 262_144) {
        self.interval = interval
        self.views = views
        self.threads = threads
        self.batchRows = max(1, batchRows)
    }
}

/// Progress of a materialization, for a progress bar.
public struct MaterializeProgress: Sendable {
    public var view: String
    /// Source rows read so far, and entities written so far.
    public var rowsRead: Int
    public var entitiesWritten: Int
    /// The rows the view's source holds, when the engine can tell cheaply.
    public var estimatedRows: Int?
}

/// What a materialization did, view by view.
public struct MaterializeSummary: Sendable, Encodable {
    public struct View: Sendable, Encodable {
        public var view: String
        public var start: Timestamp
        public var end: Timestamp
        public var rowsRead: Int
        public var entitiesWritten: Int
        public var seconds: Double
        /// Why a run loaded less than its interval suggests (a window-aggregated view whose
        /// events all end before the windows of now), or `nil`.
        public var note: String? = nil
        /// Under a memory limit: the key-hash parts the view's entities were found in.
        public var parts: Int? = nil

        enum CodingKeys: String, CodingKey {
            case view, start, end, seconds, note, parts
            case rowsRead = "rows_read"
            case entitiesWritten = "entities_written"
        }
    }

    public var views: [View]
    public var seconds: Double
}

extension FeatureStore {
    /// Loads each selected online view's latest values into the online store — the latest
    /// row per entity by `LatestWins`, the rule of training sets — and records each view's
    /// watermark once its rows are all written.
    ///
    /// Idempotent: a stored value is never replaced by an older one (a newer pushed value
    /// survives), so a run killed at any point and started again ends as an uninterrupted one.
    /// Drops an interrupted apply left pending are finished first.
    /// - Throws: `FeatureStoreError` for unknown or offline-only views; the engine's and the
    ///   store's errors otherwise (views loaded before the failure keep their watermarks).
    public func materialize(
        _ request: MaterializeRequest, progress: (MaterializeProgress) -> Void = { _ in }
    ) throws -> MaterializeSummary {
        let definitions = try applied().definitions
        let selected = try onlineViews(request.views, in: definitions)
        try finishOnlineDrops()
        let store = try onlineStore()
        let watermarks = try registry.with { (registry) throws(RegistryError) in try registry.watermarks() }
        let began = MonotonicClock.nanoseconds()
        var results: [MaterializeSummary.View] = []
        for view in selected {
            let (start, end) = interval(request.interval, view: view, watermark: watermarks[view.name])
            let viewBegan = MonotonicClock.nanoseconds()
            let keyNames = definitions.joinKeys(of: view).map(\.name)
            let estimate = offline.estimatedRows(of: view, definitions: definitions)
            var written = 0
            var read = 0
            if !view.aggregatedFeatures.isEmpty {
                // Window aggregations: every key's state rebuilt from the source, in one write.
                let built = try rebuildAggregationState(
                    view, end: end, definitions: definitions, request: request, into: store, progress: progress)
                let recordedAt = configuration.now()
                try registry.with { (registry) throws(RegistryError) in
                    try registry.recordMaterialization([
                        MaterializationWatermark(view: view.name, start: built.start, end: end, recordedAt: recordedAt)
                    ])
                }
                results.append(
                    MaterializeSummary.View(
                        view: view.name, start: built.start, end: end, rowsRead: built.rowsRead,
                        entitiesWritten: built.keys, seconds: Double(MonotonicClock.nanoseconds() &- viewBegan) / 1e9,
                        note: built.note))
                if view.plainFeatures.isEmpty { continue }
            }
            let stats = try latestRows(
                LatestRowsRequest(
                    view: view, start: start, end: end, batchRows: request.batchRows, threads: request.threads),
                memoryLimit: request.memoryLimit, definitions: definitions,
                progress: { rows in
                    read = rows
                    progress(
                        MaterializeProgress(
                            view: view.name, rowsRead: rows, entitiesWritten: written, estimatedRows: estimate))
                },
                emit: { batch in
                    var write = try OnlineWriteBatch(
                        view: view.name, batch: batch, joinKeys: keyNames, eventTimestamp: LatestRows.eventColumn,
                        createdTimestamp: LatestRows.createdColumn)
                    write.ttl = view.ttl
                    try store.write(write)
                    written += batch.rowCount
                    progress(
                        MaterializeProgress(
                            view: view.name, rowsRead: read, entitiesWritten: written, estimatedRows: estimate))
                })
            let recordedAt = configuration.now()
            try registry.with { (registry) throws(RegistryError) in
                try registry.recordMaterialization([
                    MaterializationWatermark(view: view.name, start: start, end: end, recordedAt: recordedAt)
                ])
            }
            results.append(
                MaterializeSummary.View(
                    view: view.name, start: start, end: end, rowsRead: stats.rowsRead, entitiesWritten: stats.entities,
                    seconds: Double(MonotonicClock.nanoseconds() &- viewBegan) / 1e9, parts: stats.parts))
        }
        return MaterializeSummary(views: results, seconds: Double(MonotonicClock.nanoseconds() &- began) / 1e9)
    }

    /// What `materialize` reserves of a memory limit for what does not grow with the entities
    /// (the runtime, the registry, source batches being decoded, the store's page cache).
    static let reservedBytes = 192 << 20

    /// The latest rows of a plain view, within `memoryLimit` when the engine can split the
    /// entities by key hash: one pass with a budget of entities; if the budget is passed, the
    /// pass lets its rows go and counts the distinct entities to the end (HyperLogLog), and
    /// the view is found in as many parts as they fill (at least twice as many), each part
    /// reading the source again. Parts already written are written again after a
    /// re-split, which the store's newest-wins writes make harmless.
    func latestRows(
        _ request: LatestRowsRequest, memoryLimit: Int?, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> LatestRowsStats {
        guard let memoryLimit, offline.partitionsEntities else {
            return try offline.latestRows(request, definitions: definitions, progress: progress, emit: emit)
        }
        let view = request.view
        // Per entity: its key dictionary slot and best times, the retained rows (up to one and
        // a half per entity before compaction, twice that while compacting) and the emitted
        // winners. Calibrated at workload L.
        let keyWidth = definitions.joinKeys(of: view).reduce(0) {
            $0 + TrainingSetBuilder.width(of: $1.type.joinKeyType)
        }
        let featureWidth = view.plainFeatures.reduce(0) { $0 + TrainingSetBuilder.width(of: $1.type) + 1 }
        let perEntity = 40 + 3 * (keyWidth + featureWidth + 2) + 2 * (keyWidth + 16 + featureWidth)
        let budget = max(1_024, (memoryLimit - Self.reservedBytes) / perEntity)
        var parts = 1
        var part = 0
        var total = LatestRowsStats(view: view.name, rowsRead: 0, entities: 0)
        while part < parts {
            var partRequest = request
            partRequest.keyPartition = KeyPartition(index: part, count: parts)
            partRequest.entityBudget = budget
            // Rows kept between compactions: one and a half times the part's entities (a
            // compaction leaves one per entity), not the 256 MB default.
            partRequest.retainedRowLimit = request.retainedRowLimit ?? budget + budget / 2
            let before = total.rowsRead
            let stats = try offline.latestRows(
                partRequest, definitions: definitions, progress: { progress(before + $0) }, emit: emit)
            total.rowsRead += stats.rowsRead
            if let over = stats.overBudget {
                // The pass counted the part's distinct entities (a HyperLogLog, within a few
                // percent): as many parts as they fill, with room for the estimate's error.
                let entities = Double(over.entities) * Double(parts)
                parts = max(2 * parts, Int((entities * 1.15 / Double(budget)).rounded(.up)))
                part = 0
                total.entities = 0
                continue
            }
            total.entities += stats.entities
            part += 1
        }
        total.parts = parts
        return total
    }

    /// Rebuilds the aggregation state of every key of `view` from its source: the rows some
    /// window at or after now can hold (event in `now − longest window ... end`), replacing
    /// the view's whole state in one transaction. A run killed midway leaves the old state;
    /// running again gives the same end state.
    func rebuildAggregationState(
        _ view: FeatureView, end: Timestamp, definitions: Definitions, request: MaterializeRequest,
        into store: any OnlineStore, progress: (MaterializeProgress) -> Void
    ) throws -> (start: Timestamp, rowsRead: Int, keys: Int, note: String?) {
        let program = AggregationProgram(view: view)
        let now = configuration.now().microseconds
        // A lifetime window reads every event there is; the state folds the old ones into
        // running aggregates as it is built.
        let longest = program.longestWindow
        let start = Timestamp(microseconds: longest.map { now &- $0 } ?? Int64.min / 2)
        let keyNames = definitions.joinKeys(of: view).map(\.name)
        let estimate = offline.estimatedRows(of: view, definitions: definitions)
        var batches: [RecordBatch] = []
        let rowsRead = try offline.aggregationRows(
            LatestRowsRequest(view: view, start: start, end: end, threads: request.threads), definitions: definitions,
            progress: { rows in
                progress(
                    MaterializeProgress(view: view.name, rowsRead: rows, entitiesWritten: 0, estimatedRows: estimate))
            },
            emit: { batches.append($0) })
        let rows = batches.isEmpty ? nil : try RecordBatch.concatenate(batches)
        batches = []
        var keys: [EntityKey] = []
        var grouped: [Int] = []
        var starts: [Int] = [0]
        var all = AggregationProgram.Events(event: [], created: [], inputs: [])
        if let rows, rows.rowCount > 0 {
            let keyColumns = keyNames.compactMap { rows.column(named: $0) }
            let (groupKeys, rowsOfGroup, groupStarts) = try EncodedKeys(columns: keyColumns, rows: rows.rowCount)
                .grouped()
            // Keys in byte order, the order the embedded store writes in: it then asks for
            // the states in index order, and `StateEncoder` encodes them ahead on every thread.
            let byKey = groupKeys.indices.sorted { groupKeys[$0] < groupKeys[$1] }
            keys = byKey.map { groupKeys[$0] }
            var order: [Int] = []
            order.reserveCapacity(rowsOfGroup.count)
            for g in byKey {
                order.append(contentsOf: rowsOfGroup[groupStarts[g]..<groupStarts[g + 1]])
                starts.append(order.count)
            }
            let times = rows.column(named: LatestRows.eventColumn)?.int64Values ?? []
            let created = rows.column(named: LatestRows.createdColumn)
            let createdTimes = created?.int64Values ?? []
            let inputs = program.inputColumns.map { rows.column(named: $0.name) ?? Column(empty: $0.type) }
            // One batch of every key's rows, gathered into that order once (a column at a
            // time), so each key's state is encoded from one contiguous run of rows: reading a
            // key's rows where the source had them costs a cache miss per row and column.
            all = AggregationProgram.Events(
                event: order.map { times[$0] },
                created: order.map { (created?.isValid($0) ?? false) ? createdTimes[$0] : Int64.min },
                inputs: inputs.map { $0.count == rows.rowCount ? $0.take(order) : $0 })
            grouped = Array(0..<order.count)
        }
        let (source, rowsOfKeys, startOf) = (all, grouped, starts)
        // Pushed rows logged so far are replaced too: the new states record the log's head as
        // their mark, so no reader merges those rows again (rows pushed to the offline store
        // as well are in the source).
        let head = store.keepsStateLog ? try store.readStateLog(after: Int64.max).head : 0
        let encoder = StateEncoder(count: keys.count, threads: request.threads) { index in
            program.merged(
                nil, with: source, rows: rowsOfKeys[startOf[index]..<startOf[index + 1]], now: now, mark: head)
        }
        try store.write(
            [],
            states: [
                OnlineStateUpdate(view: view.name, keys: keys, replacesAll: true) { index, _ in encoder.state(index) }
            ],
            log: store.keepsStateLog ? OnlineLogChange(discard: (view.name, head)) : OnlineLogChange())
        pending.discard(view: view.name, through: head)
        progress(
            MaterializeProgress(
                view: view.name, rowsRead: rowsRead, entitiesWritten: keys.count, estimatedRows: estimate))
        // An end older than every window of now: nothing a lookup now reads was there to load.
        guard let longest, start > end else { return (start, rowsRead, keys.count, nil) }
        let note =
            "every event up to \(end.iso8601) is older than the longest window (\(TimeSpan(microseconds: longest).formatted)) before now (\(Timestamp(microseconds: now).iso8601)): lookups are computed at the current time, so the state holds nothing; training sets compute any past time"
        return (end, rowsRead, keys.count, note)
    }

    /// The online views to load: those named, or all of them.
    func onlineViews(_ names: [String]?, in definitions: Definitions) throws -> [FeatureView] {
        guard let names else {
            let online = definitions.featureViews.filter(\.online)
            guard !online.isEmpty else { throw FeatureStoreError("no online feature views to materialize") }
            return online
        }
        var selected: [FeatureView] = []
        for name in names {
            guard let view = definitions.featureView(name) else {
                throw FeatureStoreError(
                    "no feature view named '\(Echo.clip(name))'",
                    hint: Suggestions.hint(for: name, in: definitions.featureViews.map(\.name))
                        ?? "applied views: \(definitions.featureViews.map(\.name).joined(separator: ", "))")
            }
            guard view.online else {
                throw FeatureStoreError("feature view '\(name)' is not online (online: false)")
            }
            if !selected.contains(where: { $0.name == name }) { selected.append(view) }
        }
        guard !selected.isEmpty else { throw FeatureStoreError("no feature views named to materialize") }
        return selected
    }

    /// The event-time interval of one view.
    func interval(_ interval: MaterializeRequest.Interval, view: FeatureView, watermark: MaterializationWatermark?)
        -> (Timestamp, Timestamp)
    {
        switch interval {
        case .range(let start, let end):
            return (start, end)
        case .incremental(let end, let lateness):
            if let watermark { return (watermark.end - lateness, end) }
            return (view.ttl.isZero ? Timestamp(microseconds: Int64.min / 2) : end - view.ttl, end)
        }
    }
}
