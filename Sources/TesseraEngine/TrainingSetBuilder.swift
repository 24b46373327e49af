import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// Builds point-in-time-correct training sets (see docs/semantics.md).
public struct TrainingSetBuilder: Sendable {
    public let definitions: Definitions
    /// The readers of a source (a push source: its batch source's files and the pushed rows).
    public let readers: @Sendable (DataSource) throws -> [any SourceReader]

    public init(definitions: Definitions, readers: @escaping @Sendable (DataSource) throws -> [any SourceReader]) {
        self.definitions = definitions
        self.readers = readers
    }

    /// Resolves the request's features: the views, their features and output names; and which
    /// entity column holds each join key named differently (join key → column).
    public func selections(for request: TrainingSetRequest) throws(TrainingSetError) -> (
        [ViewSelection], keyColumns: [String: String]
    ) {
        var full = request.fullFeatureNames
        var serviceMap: [String: String] = [:]
        let references: [FeatureReference]
        switch request.selection {
        case .features(let list):
            guard !list.isEmpty else { throw TrainingSetError("no features requested") }
            references = try list.map { (text) throws(TrainingSetError) -> FeatureReference in
                guard let reference = FeatureReference(parsing: text) else {
                    throw TrainingSetError(
                        "'\(text)' is not a feature reference", hint: "write view:feature, view:[a,b] or view")
                }
                return reference
            }
        case .service(let name):
            guard let service = definitions.featureService(name) else {
                throw TrainingSetError(
                    "no feature service named '\(name)'",
                    hint: Suggestions.hint(for: name, in: definitions.featureServices.map(\.name)))
            }
            references = service.features
            full = full || service.fullFeatureNames
            serviceMap = service.joinKeyMap
        }
        let selections = try FeatureResolution.resolve(references, in: definitions, fullFeatureNames: full)
        let joinKeys = Set(selections.flatMap { definitions.joinKeys(of: $0.view).map(\.name) })
        // column → key maps, inverted; the request's entries replace the service's for the same key.
        var keyColumns: [String: String] = [:]
        for (map, origin) in [(serviceMap, "the service's join_key_map"), (request.joinKeyMap, "--join-key-map")] {
            var seen: [String: String] = [:]
            for (column, key) in map.sorted(by: { $0.key < $1.key }) {
                guard joinKeys.contains(key) else {
                    throw TrainingSetError(
                        "\(origin) maps column '\(column)' to '\(key)', which is not a join key of the requested views",
                        hint: Suggestions.hint(for: key, in: joinKeys)
                            ?? "their join keys: \(joinKeys.sorted().joined(separator: ", ")); write COLUMN=JOIN_KEY")
                }
                if let other = seen[key] {
                    throw TrainingSetError("\(origin) maps both '\(other)' and '\(column)' to join key '\(key)'")
                }
                seen[key] = column
                keyColumns[key] = column
            }
        }
        return (selections, keyColumns)
    }

    /// Builds the training set.
    public func build(_ request: TrainingSetRequest, progress: (String) -> Void = { _ in }) throws -> TrainingSet {
        var (selections, keyColumns) = try selections(for: request)
        let entities: RecordBatch
        let entityName: String
        switch request.spine {
        case .entities(let batch, let name):
            entities = batch
            entityName = name
        case .range(let start, let end):
            entities = try Spine.build(
                selections: selections, definitions: definitions, readers: readers, start: start, end: end,
                timestampColumn: request.timestampColumn, threads: request.threads)
            entityName = "the time range"
            keyColumns = [:]  // the rows are made with the join keys' own names
        }
        guard let timeIndex = entities.schema.index(of: request.timestampColumn) else {
            throw TrainingSetError(
                "\(entityName) has no column '\(request.timestampColumn)' (the time of each entity row)",
                hint: Suggestions.hint(for: request.timestampColumn, in: entities.schema.names).map {
                    "\($0) (--timestamp-column)"
                }
                    ?? "name it with --timestamp-column; columns: \(entities.schema.names.joined(separator: ", "))")
        }
        let times = entities.columns[timeIndex]
        guard times.type == .timestamp else {
            throw TrainingSetError(
                "column '\(request.timestampColumn)' of \(entityName) is \(times.type), not a timestamp",
                hint: "write it as ISO 8601 text in CSV, or as a Parquet TIMESTAMP column")
        }
        var outputNames = Set(entities.schema.names)
        for selection in selections {
            for name in selection.outputNames where outputNames.contains(name) {
                throw TrainingSetError(
                    "feature '\(selection.view.name):\(name)' would be named '\(name)', like a column of \(entityName)",
                    hint: "rename the entity column or use --full-feature-names")
            }
            outputNames.formUnion(selection.outputNames)
        }

        var fields = entities.schema.fields
        var columns = entities.columns
        var matchedAll = [Bool](repeating: true, count: entities.rowCount)
        var stats: [TrainingSet.ViewStats] = []
        var indexCache: [[String]: (KeyIndex, EntityTimeline)] = [:]
        let timeRange = TrainingSetBuilder.range(of: times)
        for selection in selections {
            progress("joining \(selection.view.name)")
            let keys = definitions.joinKeys(of: selection.view)
            let entityKeyColumns = try keys.map { key throws(TrainingSetError) -> Column in
                let column = keyColumns[key.name] ?? key.name
                guard let found = entities.column(named: column) else {
                    throw TrainingSetError(
                        "\(entityName) has no column '\(column)', the join key of feature view '\(selection.view.name)'",
                        hint: Suggestions.hint(for: column, in: entities.schema.names).map {
                            "\($0) Map a differently named column with --join-key-map COLUMN=\(key.name)"
                        } ?? "map a differently named column with --join-key-map COLUMN=\(key.name)")
                }
                guard let joinable = found.asJoinKey(key.type) else {
                    throw TrainingSetError(
                        "column '\(column)' of \(entityName) is \(found.type) but join key '\(key.name)' is \(key.type)"
                    )
                }
                return joinable
            }
            let cacheKey = keys.map { "\($0.name):\($0.type)" }
            // Views keyed on the same join keys share the index and the entity timeline.
            let (index, timeline) =
                indexCache[cacheKey]
                ?? {
                    let index = KeyIndex(keys: entityKeyColumns)
                    return (
                        index,
                        EntityTimeline(entityGroups: index.groupOfRow, groupCount: index.groupCount, entityTimes: times)
                    )
                }()
            indexCache[cacheKey] = (index, timeline)
            let (picked, viewStats) = try join(
                selection: selection, keys: keys, index: index, timeline: timeline, entityTimes: times,
                timeRange: timeRange, request: request)
            for (i, row) in picked.rows.enumerated() where row < 0 { matchedAll[i] = false }
            columns += picked.columns
            for (feature, name) in zip(selection.features, selection.outputNames) {
                fields.append(Field(name, feature.type))
            }
            stats.append(viewStats)
        }
        let batch = try RecordBatch(schema: Schema(fields), columns: columns)
        return TrainingSet(
            batch: batch, rows: batch.rowCount, rowsWithAllFeatures: matchedAll.filter { $0 }.count, views: stats)
    }

    /// About how many bytes a value of `type` takes in memory.
    static func width(of type: ValueType) -> Int {
        switch type {
        case .bool: 1
        case .int32, .float32: 4
        case .int64, .float64, .timestamp: 8
        case .string, .bytes: 24
        case .list: 48
        }
    }

    /// The smallest and largest non-null time.
    static func range(of times: Column) -> (Int64, Int64)? {
        guard let values = times.int64Values else { return nil }
        var lo = Int64.max
        var hi = Int64.min
        for (i, t) in values.enumerated() where times.isValid(i) {
            lo = min(lo, t)
            hi = max(hi, t)
        }
        return lo <= hi ? (lo, hi) : nil
    }

    /// Reads one view's rows (pruned by key and time) and picks each entity row's match.
    private func join(
        selection: ViewSelection, keys: [JoinKey], index: KeyIndex, timeline: EntityTimeline, entityTimes: Column,
        timeRange: (Int64, Int64)?,
        request: TrainingSetRequest
    ) throws -> (picked: (rows: [Int], columns: [Column]), stats: TrainingSet.ViewStats) {
        let view = selection.view
        guard let source = definitions.source(view.source) else {
            throw TrainingSetError("feature view '\(view.name)' reads source '\(view.source)', which is not defined")
        }
        let sourceColumns = definitions.sourceColumns(of: source)
        let keyColumns = keys.map { sourceColumns.sourceColumn(for: $0.name) }
        let featureColumns = selection.features.map { sourceColumns.sourceColumn(for: $0.name) }
        var wanted: [String] = []
        for name in keyColumns + [sourceColumns.timestamp] + [sourceColumns.created].compactMap({ $0 }) + featureColumns
        where !wanted.contains(name) {
            wanted.append(name)
        }
        let ttl = view.ttl.microseconds
        let lower: Int64? = timeRange.flatMap { ttl > 0 ? $0.0 &- ttl : nil }
        let upper: Int64? = timeRange?.1
        let filter = TimeFilter(column: sourceColumns.timestamp, lower: lower, upper: upper)

        var rowsRead = 0
        var kept = 0
        let options = AsOfJoin.Options(
            ttl: view.ttl, createdNotAfterTime: request.createdNotAfterTime, threads: request.threads)
        let streaming: Bool
        switch request.strategy {
        case .automatic: streaming = timeline.suitsStreaming
        case .streaming: streaming = true
        case .sorted: streaming = false
        }
        // Streaming: feature rows are offered to entity rows as they are read (one accumulator per
        // thread, each owning a range of key groups); the feature columns of every batch are kept and
        // gathered once at the end. Otherwise (a key with many entity rows): keep the rows that pass
        // key and time pruning, sort them per key, and binary-search for each entity row.
        var accumulator = AsOfAccumulator(entityRows: streaming ? entityTimes.count : 0, options: options)
        var groups: [Int32] = []
        var eventParts: [Column] = []
        var createdParts: [Column] = []
        var featureParts: [[Column]] = Array(repeating: [], count: featureColumns.count)
        var retained = RetainedRows()
        let featureTypes = selection.features.map(\.type)
        // Compact when the kept batches outgrow the rows entity rows can point at.
        // By default up to 256 MB of feature values, and never fewer rows than twice the entity rows.
        let bytesPerRow = max(1, featureTypes.reduce(0) { $0 + TrainingSetBuilder.width(of: $1) })
        let compactAbove = request.retainedRowLimit ?? max(2 * entityTimes.count, (256 << 20) / bytesPerRow)
        if timeRange != nil && index.groupCount > 0 {
            for reader in try readers(source) {
                try Prefetch.scan(reader, columns: wanted, filter: filter, threads: request.threads) { batch in
                    rowsRead += batch.rowCount
                    let typed = try TypedSourceBatch(
                        batch, source: source, columns: sourceColumns, keys: keys, features: selection.features,
                        view: view.name)
                    let (probe, events, created, features) = (typed.keys, typed.events, typed.created, typed.features)
                    var found = index.lookup(probe, threads: request.threads)
                    // Time pruning: rows outside [lower, upper] (and null times) never match.
                    let eventValues = events.int64Values ?? []
                    let lo = lower ?? Int64.min
                    let hi = upper ?? Int64.max
                    var keep: [Int] = []
                    if !streaming { keep.reserveCapacity(batch.rowCount) }
                    for row in 0..<batch.rowCount where found[row] >= 0 {
                        let t = eventValues[row]
                        if t < lo || t > hi || !events.isValid(row) {
                            found[row] = -1
                        } else {
                            kept += 1
                            if !streaming { keep.append(row) }
                        }
                    }
                    if streaming {
                        let base = retained.append(features, count: batch.rowCount)
                        accumulator.offer(
                            groups: found, eventTimes: events, createdTimes: created, referenceBase: base,
                            timeline: timeline, threads: request.threads)
                        if retained.rows > compactAbove {
                            try accumulator.compact(&retained, types: featureTypes)
                        }
                        return
                    }
                    if keep.isEmpty { return }
                    groups.reserveCapacity(groups.count + keep.count)
                    for row in keep { groups.append(found[row]) }
                    eventParts.append(events.take(keep))
                    if let created { createdParts.append(created.take(keep)) }
                    for (k, column) in features.enumerated() { featureParts[k].append(column.take(keep)) }
                }
            }
        }
        let picked: [Int]
        if streaming {
            picked = accumulator.reference
        } else {
            let events = eventParts.isEmpty ? Column(empty: .timestamp) : try Column.concatenate(eventParts)
            let created = createdParts.isEmpty ? nil : try Column.concatenate(createdParts)
            let sorted = AsOfJoin.SortedFeatures(
                featureGroups: groups, groupCount: index.groupCount, eventTimes: events, createdTimes: created,
                threads: request.threads)
            picked = AsOfJoin.match(
                entityGroups: index.groupOfRow, entityTimes: entityTimes, features: sorted, options: options)
        }
        var columns: [Column] = []
        if streaming {
            columns = try retained.take(columns: Array(featureTypes.indices), types: featureTypes, picked)
        }
        for (k, feature) in selection.features.enumerated() where !streaming {
            columns.append(
                featureParts[k].isEmpty
                    ? Column(nulls: feature.type, count: picked.count) : try Column.take(from: featureParts[k], picked))
        }
        let matched = picked.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        return (
            (picked, columns),
            TrainingSet.ViewStats(view: view.name, rowsRead: rowsRead, rowsKept: kept, matched: matched)
        )
    }
}
