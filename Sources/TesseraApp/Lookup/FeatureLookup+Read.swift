import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraExpressions
import TesseraOffline
import TesseraOnline

/// A lookup checked and resolved against the served definitions, ready for the store reads:
/// the join-key columns of the answer and, per view, the keys and features to read.
public struct PreparedLookup: Sendable {
    /// One store read.
    struct Read: Sendable {
        var view: String
        var keys: [EntityKey]
        var features: [String]
        var ttl: TimeSpan
        /// The view's window aggregations, when some requested feature is one.
        var aggregation: AggregationProgram?
        /// Per feature: whether it is computed from aggregation state (never expires).
        var aggregated: [Bool]
        /// The features read from stored rows.
        var plainFeatures: [String] = []
        /// The aggregated features, as positions in `aggregation`.
        var aggregatedSelection: [Int] = []
    }

    let rows: Int
    let reads: [Read]
    /// Output names of the join-key columns, then of the features.
    let names: [String]
    /// The join-key columns of the answer.
    let keyVectors: [OnlineFeaturesResponse.FeatureVector]
    /// On-demand features, computed from the reads and the request data.
    var onDemand: [LookupPlan.OnDemandRead] = []
    /// The request fields' values, in `LookupPlan.requestFields` order, as their types.
    var requestValues: [[ScalarValue]] = []
    /// Positions among the reads' features read only for on-demand features.
    var hidden: Set<Int> = []
}

extension FeatureLookup {
    /// Answers a request: the entity join keys first, then each requested feature, with
    /// values, statuses and event times (Feast's `get_online_features`).
    ///
    /// Ttl is applied at `configuration.now()`.
    /// - Throws: `LookupError` naming the field at fault (unknown feature with close names,
    ///   missing entity column, wrong key type, unequal column lengths, name collisions, limits).
    /// - Complexity: one store read per requested view, of one key per entity row.
    public func onlineFeatures(_ request: LookupRequest) throws(LookupError) -> OnlineFeaturesResponse {
        try onlineFeatures(try prepare(request))
    }

    /// The store reads of a prepared lookup, synchronously, and the answer (on a thread that
    /// may block).
    public func onlineFeatures(_ prepared: PreparedLookup) throws(LookupError) -> OnlineFeaturesResponse {
        var records: [ReadResult] = []
        records.reserveCapacity(prepared.reads.count)
        for read in prepared.reads {
            do {
                if read.aggregation != nil && read.plainFeatures.isEmpty {
                    records.append(.states(try states(read)))
                } else if read.aggregation != nil {
                    records.append(.records(try aggregatedRecords(read, plain: nil)))
                } else {
                    records.append(
                        .records(try store.readRecords(view: read.view, keys: read.keys, features: read.features)))
                }
            } catch let error as LookupError {
                throw error
            } catch {
                throw LookupError(.unavailable, field: "online_store", "\(error)")
            }
        }
        return assemble(prepared, records: records)
    }

    /// Appends the answer columns of a read whose features are all window aggregations,
    /// evaluated from the keys' `states`: what `aggregatedRecords` and the record path of
    /// `assemble` give for it, without building a record per key. Aggregated values never
    /// expire; a null is `NULL_VALUE`; the event time is the key's newest event (or `now`).
    func appendAggregated(
        _ read: PreparedLookup.Read, states: [[UInt8]?], now: Timestamp,
        to results: inout [OnlineFeaturesResponse.FeatureVector]
    ) {
        guard let program = read.aggregation else { return }
        let rows = read.keys.count
        let (values, newest) = program.values(states, selected: read.aggregatedSelection, at: now.microseconds)
        let timestamps: [Timestamp?] = newest.map {
            $0.map { Timestamp(microseconds: min($0, now.microseconds)) } ?? now
        }
        let present = [FeatureStatus](repeating: .present, count: rows)
        for s in read.aggregatedSelection.indices {
            let column = Array(values[(s * rows)..<((s + 1) * rows)])
            var statuses = present
            for row in 0..<rows where column[row].isNull { statuses[row] = .nullValue }
            results.append(.init(values: column, statuses: statuses, eventTimestamps: timestamps))
        }
    }

    /// `statuses`, or an equal array already in `patterns` (so equal columns share one
    /// buffer); new patterns are kept, up to a few.
    static func shared(_ statuses: [FeatureStatus], in patterns: inout [[FeatureStatus]]) -> [FeatureStatus] {
        if let same = patterns.first(where: { $0 == statuses }) { return same }
        if patterns.count < 4 { patterns.append(statuses) }
        return statuses
    }

    /// The records of a read with window aggregations: its plain features from the stored
    /// rows (`plain`, or read here), its aggregated ones evaluated from each key's state at
    /// `now`. Every key gets a record: a key without events has counts of 0 and nulls, as
    /// a training set at `now` gives it.
    func aggregatedRecords(_ read: PreparedLookup.Read, plain given: [OnlineRecord?]?) throws -> [OnlineRecord?] {
        guard let program = read.aggregation else { return given ?? [] }
        let now = configuration.now()
        var plain = given
        if plain == nil && !read.plainFeatures.isEmpty {
            plain = try store.readRecords(view: read.view, keys: read.keys, features: read.plainFeatures)
        }
        let states = try states(read)
        let rows = read.keys.count
        let (columns, newestEvents) = program.values(states, selected: read.aggregatedSelection, at: now.microseconds)
        var out: [OnlineRecord?] = []
        out.reserveCapacity(read.keys.count)
        for row in read.keys.indices {
            let record = plain?[row]
            var values: [ScalarValue?] = []
            values.reserveCapacity(read.features.count)
            var p = 0
            var a = 0
            for isAggregated in read.aggregated {
                if isAggregated {
                    values.append(columns[a * rows + row])
                    a += 1
                } else {
                    values.append(record.flatMap { p < $0.values.count ? $0.values[p] : nil })
                    p += 1
                }
            }
            // The newest event the key's values reflect: its stored row's, else its newest aggregated event.
            let newest = newestEvents[row].map {
                Timestamp(microseconds: min($0, now.microseconds))
            }
            let event = record?.eventTimestamp ?? newest ?? now
            out.append(
                OnlineRecord(
                    eventTimestamp: event, createdTimestamp: record?.createdTimestamp ?? event, values: values))
        }
        return out
    }

    /// The same answer without blocking, when the store can call back
    /// (`CallbackOnlineStore`) and every requested view is read from stored rows: the
    /// request is checked and resolved on the calling thread, the views are read at once,
    /// and `done` gets the answer on the thread the last reply arrived on.
    /// - Returns: `nil` when the answer is under way (`done` will be called, once); else the
    ///   resolved lookup, to answer with `onlineFeatures(_:)` on a thread that may block (a
    ///   view is window-aggregated: its pending pushes are merged in process), and `done` is
    ///   never called. Call it only when `store` is a `CallbackOnlineStore`: resolving may read
    ///   the registry.
    public func onlineFeatures(
        _ request: LookupRequest, done: @escaping @Sendable (Result<OnlineFeaturesResponse, LookupError>) -> Void
    ) -> PreparedLookup? {
        let prepared: PreparedLookup
        do {
            prepared = try prepare(request)
        } catch {
            done(.failure(error))
            return nil
        }
        guard let network = store as? any CallbackOnlineStore, prepared.reads.allSatisfy({ $0.aggregation == nil })
        else { return prepared }
        guard !prepared.reads.isEmpty else {
            done(.success(assemble(prepared, records: [])))
            return nil
        }
        let gathered = ReadGathering(count: prepared.reads.count)
        let lookup = self
        for (index, read) in prepared.reads.enumerated() {
            network.readRecords(view: read.view, keys: read.keys, features: read.features) { result in
                guard let all = gathered.add(index, result) else { return }
                switch all {
                case .success(let records):
                    done(.success(lookup.assemble(prepared, records: records.map { .records($0) })))
                case .failure(let error):
                    done(.failure(LookupError(.unavailable, field: "online_store", error.description)))
                }
            }
        }
        return nil
    }

    /// Checks and resolves a request; reads nothing from the store.
    public func prepare(_ request: LookupRequest) throws(LookupError) -> PreparedLookup {
        let catalog = catalog()
        if case .references(let list) = request.features, list.count > configuration.maxFeatures {
            throw LookupError(
                .tooLarge, field: "features",
                "\(list.count) features requested; this server answers at most \(configuration.maxFeatures) per request",
                hint: "split the request")
        }
        let plan = try catalog.plan(for: request.features, fullFeatureNames: request.fullFeatureNames)
        if plan.featureNames.count > configuration.maxFeatures {
            throw LookupError(
                .tooLarge, field: "feature_service",
                "the request reads \(plan.featureNames.count) features; this server answers at most \(configuration.maxFeatures) per request"
            )
        }
        let rows = try FeatureLookup.rowCount(request.entities)
        guard rows <= configuration.maxEntityRows else {
            throw LookupError(
                .tooLarge, field: "entities",
                "\(rows) entity rows; this server answers at most \(configuration.maxEntityRows) per request",
                hint: "split the request")
        }
        // The entity columns that are join keys of the requested views, coerced to the key types.
        var keyColumns: [String: [ScalarValue]] = [:]
        var names: [String] = []
        var vectors: [OnlineFeaturesResponse.FeatureVector] = []
        names.reserveCapacity(request.entities.count + plan.featureNames.count)
        for column in request.entities {
            guard let key = plan.joinKeys[column.name], keyColumns[column.name] == nil else { continue }
            let values = try FeatureLookup.coerceKeys(column.values, to: key)
            keyColumns[column.name] = values
            names.append(column.name)
            vectors.append(
                .init(
                    values: values, statuses: Array(repeating: .present, count: rows),
                    eventTimestamps: Array(repeating: nil, count: rows)))
        }
        var reads: [PreparedLookup.Read] = []
        reads.reserveCapacity(plan.reads.count)
        for read in plan.reads {
            let keys = try FeatureLookup.entityKeys(read.info, keyColumns, rows: rows, provided: request.entities)
            reads.append(
                .init(
                    view: read.info.view.name, keys: keys, features: read.features, ttl: read.info.view.ttl,
                    aggregation: read.aggregatedSelection.isEmpty ? nil : read.info.aggregation,
                    aggregated: read.aggregated, plainFeatures: read.plainFeatures,
                    aggregatedSelection: read.aggregatedSelection))
        }
        var prepared = PreparedLookup(rows: rows, reads: reads, names: names + plan.featureNames, keyVectors: vectors)
        if !plan.onDemand.isEmpty {
            prepared.onDemand = plan.onDemand
            prepared.hidden = plan.hidden
            prepared.requestValues = try FeatureLookup.requestValues(plan, request, rows: rows)
        }
        return prepared
    }

    /// The request fields on-demand features read, from `entities` or `request_context`,
    /// converted to their declared types (nulls stay null).
    static func requestValues(_ plan: LookupPlan, _ request: LookupRequest, rows: Int) throws(LookupError)
        -> [[ScalarValue]]
    {
        var out: [[ScalarValue]] = []
        for field in plan.requestFields {
            let place: String
            let values: [ScalarValue]
            if let found = request.entities.first(where: { $0.name == field.name }) {
                place = "entities"
                values = found.values
            } else if let found = request.requestContext.first(where: { $0.name == field.name }) {
                place = "request_context"
                values = found.values
            } else {
                throw LookupError(
                    .invalidRequest, field: "entities.\(field.name)",
                    "missing request field '\(field.name)' of request source '\(field.source)', which on-demand view '\(field.view)' reads",
                    hint:
                        "send it beside the join keys in 'entities', or in 'request_context', one value per entity row")
            }
            guard values.count == rows else {
                throw LookupError(
                    .invalidRequest, field: "\(place).\(field.name)",
                    "has \(values.count) values but there are \(rows) entity rows",
                    hint: "send one value per entity row")
            }
            var converted: [ScalarValue] = []
            converted.reserveCapacity(rows)
            for (row, value) in values.enumerated() {
                guard let typed = ValueCoercion.convert(value, to: field.type) else {
                    throw LookupError(
                        .invalidRequest, field: "\(place).\(field.name)[\(row)]",
                        "request field '\(field.name)' is \(field.type.name) but got \(ValueCoercion.explain(value, as: field.type))"
                    )
                }
                converted.append(typed)
            }
            out.append(converted)
        }
        return out
    }

    /// What one read of a lookup found: stored records per key, or (reads of aggregated
    /// features only) each key's state.
    enum ReadResult {
        case records([OnlineRecord?])
        /// Each key's aggregation state, for a read of aggregated features only.
        case states([[UInt8]?])
    }

    /// The answer from the store's records (one result per read, in `prepared.reads` order),
    /// with statuses and ttl through `OnlineStatusRules` (as `OnlineStore.read` does per row).
    func assemble(_ prepared: PreparedLookup, records: [ReadResult]) -> OnlineFeaturesResponse {
        let rows = prepared.rows
        let now = configuration.now()
        var results = prepared.keyVectors
        results.reserveCapacity(prepared.names.count)
        for (r, result) in records.enumerated() where r < prepared.reads.count {
            let found: [OnlineRecord?]
            switch result {
            case .states(let states):
                appendAggregated(prepared.reads[r], states: states, now: now, to: &results)
                continue
            case .records(let records): found = records
            }
            // The fields this loop needs, not a copy of the whole read.
            let width = prepared.reads[r].features.count
            let ttl = prepared.reads[r].ttl
            let aggregated = prepared.reads[r].aggregated
            // Every feature of a read shares the rows' event times and, mostly, one pattern of
            // statuses: built once and shared (copy-on-write), a lookup allocates one array
            // per feature instead of three.
            var timestamps: [Timestamp?] = []
            var expired: [Bool] = []
            timestamps.reserveCapacity(found.count)
            expired.reserveCapacity(found.count)
            for record in found {
                timestamps.append(record?.eventTimestamp)
                expired.append(
                    record.map { OnlineStatusRules.isExpired(eventTime: $0.eventTimestamp, ttl: ttl, now: now) }
                        ?? false)
            }
            var statuses = [FeatureStatus](repeating: .present, count: found.count)
            var patterns: [[FeatureStatus]] = []
            for f in 0..<width {
                var values: [ScalarValue] = []
                values.reserveCapacity(rows)
                for (row, record) in found.enumerated() {
                    guard let record else {
                        values.append(.null)
                        statuses[row] = .notFound
                        continue
                    }
                    // Aggregated values are computed at `now` over their windows: they do not expire.
                    let (value, status) = OnlineStatusRules.serve(
                        f < record.values.count ? record.values[f] : nil, expired: expired[row] && !aggregated[f])
                    values.append(value)
                    statuses[row] = status
                }
                results.append(
                    .init(
                        values: values, statuses: FeatureLookup.shared(statuses, in: &patterns),
                        eventTimestamps: timestamps))
            }
        }
        guard !prepared.onDemand.isEmpty else {
            return OnlineFeaturesResponse(featureNames: prepared.names, results: results)
        }
        let keys = prepared.keyVectors.count
        var row: [ScalarValue] = []  // one row's inputs, reused by every row-by-row feature
        for onDemand in prepared.onDemand {
            for (f, (expression, slots)) in zip(onDemand.selection.expressions, onDemand.slots).enumerated() {
                // A few rows: one at a time, without building columns (the same values, checked
                // against the vectors by the expression oracle tests).
                var values: [ScalarValue] = []
                values.reserveCapacity(rows)
                if rows <= FeatureLookup.rowByRowLimit && onDemand.rowByRow[f] {
                    if row.count < slots.count { row = [ScalarValue](repeating: .null, count: slots.count) }
                    for r in 0..<rows {
                        for (k, slot) in slots.enumerated() {
                            switch slot {
                            case .read(let at): row[k] = results[keys + at].values[r]
                            case .request(let at): row[k] = prepared.requestValues[at][r]
                            }
                        }
                        values.append(row.withUnsafeBufferPointer { expression.value(row: $0) })
                    }
                } else {
                    var inputs: [Column] = []
                    inputs.reserveCapacity(slots.count)
                    for (column, slot) in zip(expression.columns, slots) {
                        switch slot {
                        case .read(let at):
                            inputs.append(FeatureLookup.column(results[keys + at].values, as: column.type))
                        case .request(let at):
                            inputs.append(FeatureLookup.column(prepared.requestValues[at], as: column.type))
                        }
                    }
                    let column = expression.evaluate(inputs, rows: rows)
                    for r in 0..<rows { values.append(column.value(at: r)) }
                }
                // Computed now: no event time; null when the expression gives null.
                results.append(
                    OnlineFeaturesResponse.FeatureVector(
                        values: values, statuses: values.map { $0.isNull ? .nullValue : .present },
                        eventTimestamps: Array(repeating: nil, count: rows)))
            }
        }
        if !prepared.hidden.isEmpty {
            results = results.enumerated().filter { !prepared.hidden.contains($0.offset - keys) }.map(\.element)
        }
        return OnlineFeaturesResponse(featureNames: prepared.names, results: results)
    }

    /// Requests of at most this many rows evaluate on-demand features row by row.
    static let rowByRowLimit = 16

    /// Served values as a column of `type` for an expression (values that do not convert are null).
    static func column(_ values: [ScalarValue], as type: ValueType) -> Column {
        var builder = ColumnBuilder(type: type, capacity: values.count)
        for value in values {
            if !builder.append(ValueCoercion.convert(value, to: type) ?? .null) { builder.appendNull() }
        }
        return builder.finish()
    }

    /// The number of entity rows; every column must have it.
    static func rowCount(_ entities: [(name: String, values: [ScalarValue])]) throws(LookupError) -> Int {
        guard let first = entities.first else {
            throw LookupError(.invalidRequest, field: "entities", "no entity columns given", hint: "send the join keys")
        }
        for column in entities where column.values.count != first.values.count {
            throw LookupError(
                .invalidRequest, field: "entities.\(Echo.clip(column.name))",
                "has \(column.values.count) values but '\(first.name)' has \(first.values.count)",
                hint: "every entity column needs one value per entity row")
        }
        return first.values.count
    }

    /// The encoded keys of one view for every entity row.
    static func entityKeys(
        _ info: ServingCatalog.ViewInfo, _ columns: [String: [ScalarValue]], rows: Int,
        provided: [(name: String, values: [ScalarValue])]
    ) throws(LookupError) -> [EntityKey] {
        var parts: [[ScalarValue]] = []
        for key in info.joinKeys {
            guard let values = columns[key.name] else {
                throw LookupError(
                    .invalidRequest, field: "entities",
                    "missing entity column '\(key.name)', the join key of feature view '\(info.view.name)'",
                    hint: Suggestions.hint(for: key.name, in: provided.map(\.name)))
            }
            parts.append(values)
        }
        var keys: [EntityKey] = []
        keys.reserveCapacity(rows)
        for row in 0..<rows {
            if parts.count == 1, case .int64(let v) = parts[0][row] {
                keys.append(EntityKey(int64: v))
                continue
            }
            do {
                keys.append(try EntityKey(parts.map { $0[row] }))
            } catch {
                // `coerceKeys` already refused nulls and lists; this is a safety net, never a silent skip.
                throw LookupError(.invalidRequest, field: "entities", "entity row \(row): \(error)")
            }
        }
        return keys
    }

    /// Checks and converts a join-key column to its declared type.
    static func coerceKeys(_ values: [ScalarValue], to key: JoinKey) throws(LookupError) -> [ScalarValue] {
        var out: [ScalarValue] = []
        out.reserveCapacity(values.count)
        for (row, value) in values.enumerated() {
            guard let converted = ValueCoercion.convert(value, to: key.type), !converted.isNull else {
                throw LookupError(
                    .invalidRequest, field: "entities.\(key.name)[\(row)]",
                    "join key '\(key.name)' is \(key.type.name) but got \(ValueCoercion.explain(value, as: key.type))")
            }
            out.append(converted)
        }
        return out
    }
}

/// The replies of a lookup's concurrent reads, until the last one arrives.
final class ReadGathering: Sendable {
    private let state: Mutex<(results: [[OnlineRecord?]?], left: Int, failed: Bool)>

    init(count: Int) { state = Mutex((Array(repeating: nil, count: count), count, false)) }

    /// Records reply `index`; every reply (or the first failure) once complete, else `nil`.
    func add(_ index: Int, _ result: Result<[OnlineRecord?], OnlineStoreError>) -> Result<
        [[OnlineRecord?]], OnlineStoreError
    >? {
        state.withLock { state in
            guard !state.failed else { return nil }
            switch result {
            case .failure(let error):
                state.failed = true
                return .failure(error)
            case .success(let records):
                state.results[index] = records
                state.left -= 1
                return state.left == 0 ? .success(state.results.map { $0 ?? [] }) : nil
            }
        }
    }
}
