import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraExpressions
import TesseraOffline

/// Builds point-in-time-correct training sets (see docs/semantics.md) with the native engine.
///
/// A build is a plan: the entity rows (the spine), then one step per requested view. Each
/// step holds the view's operator — today the as-of join (`AsOfJoinOperator`), beside which
/// window aggregations and expressions will sit — and one scan of the view's source feeds it.
/// The steps' columns are appended to the spine in request order.
public struct TrainingSetBuilder: Sendable {
    public let definitions: Definitions
    /// The readers of a source (a push source: its batch source's files and the pushed rows).
    public let readers: @Sendable (DataSource) throws -> [any SourceReader]

    public init(definitions: Definitions, readers: @escaping @Sendable (DataSource) throws -> [any SourceReader]) {
        self.definitions = definitions
        self.readers = readers
    }

    /// The entity rows and the steps of a request, checked: every error a request can have
    /// (names, columns, types, collisions) is found here, before any source is read.
    struct Plan {
        var entities: RecordBatch
        var entityName: String
        var times: Column
        var steps: [Step]
        var onDemand: [OnDemandSelection]
        /// Request field → the entity column that holds it, cast to the field's type.
        var requestColumns: [String: Column]
    }

    /// One view of the request: which features, which entity columns hold its keys.
    struct Step {
        var selection: ViewSelection
        var keys: [JoinKey]
        var entityKeys: [Column]
    }

    /// Makes the plan of `request` (reading the sources only for a range spine).
    func plan(_ request: TrainingSetRequest) throws -> Plan {
        var (selections, keyColumns, onDemand) = try FeatureResolution.selections(for: request, in: definitions)
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
        let groups =
            selections.map { ($0.view.name, $0.visibleOutputNames) } + onDemand.map { ($0.view.name, $0.outputNames) }
        for (view, names) in groups {
            for name in names where outputNames.contains(name) {
                throw TrainingSetError(
                    "feature '\(view):\(name)' would be named '\(name)', like a column of \(entityName)",
                    hint: "rename the entity column or use --full-feature-names")
            }
            outputNames.formUnion(names)
        }
        // On-demand features read request fields from the entity rows' columns of that name.
        var requestColumns: [String: Column] = [:]
        for selection in onDemand {
            for (source, field, type) in selection.requestFields where requestColumns[field] == nil {
                guard let found = entities.column(named: field) else {
                    throw TrainingSetError(
                        "\(entityName) has no column '\(field)', a field of request source '\(source)' that on-demand view '\(selection.view.name)' reads",
                        hint: Suggestions.hint(for: field, in: entities.schema.names)
                            ?? "training sets take request data from the entity rows: add a column '\(field)'")
                }
                guard let typed = found.type == type ? found : found.cast(to: type) else {
                    throw TrainingSetError(
                        "column '\(field)' of \(entityName) is \(found.type), but request source '\(source)' declares it \(type)",
                        hint: "write the column as \(type) values")
                }
                requestColumns[field] = typed
            }
        }
        var steps: [Step] = []
        for selection in selections {
            let keys = definitions.joinKeys(of: selection.view)
            let entityKeys = try keys.map { key throws(TrainingSetError) -> Column in
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
            steps.append(Step(selection: selection, keys: keys, entityKeys: entityKeys))
        }
        return Plan(
            entities: entities, entityName: entityName, times: times, steps: steps, onDemand: onDemand,
            requestColumns: requestColumns)
    }

    /// Builds the training set; `pushdown`, when given, is offered each view's as-of join first.
    public func build(
        _ request: TrainingSetRequest, pushdown: (any AsOfJoinPushdown)? = nil, progress: (String) -> Void = { _ in }
    ) throws -> TrainingSet {
        let plan = try plan(request)
        let entities = plan.entities
        var fields = entities.schema.fields
        var columns = entities.columns
        var matchedAll = [Bool](repeating: true, count: entities.rowCount)
        var stats: [TrainingSet.ViewStats] = []
        // Views keyed on the same join keys share the key index and the entity timeline.
        var indexCache: [[String]: (KeyIndex, EntityTimeline)] = [:]
        // Every joined feature column, hidden ones included: the inputs of on-demand features.
        var joined: [OnDemandInput: Column] = [:]
        let timeRange = TrainingSetBuilder.range(of: plan.times)
        for step in plan.steps {
            let view = step.selection.view
            progress("joining \(view.name)")
            let cacheKey = step.keys.map { "\($0.name):\($0.type)" }
            let (index, timeline) =
                indexCache[cacheKey]
                ?? {
                    let index = KeyIndex(keys: step.entityKeys)
                    return (
                        index,
                        EntityTimeline(
                            entityGroups: index.groupOfRow, groupCount: index.groupCount, entityTimes: plan.times)
                    )
                }()
            indexCache[cacheKey] = (index, timeline)
            // The step's plain features come from the as-of join, its aggregated ones from the
            // window operator; the columns go out in the order the request named the features.
            let features = step.selection.features
            let plain = features.filter { !$0.isAggregated }
            let aggregated = features.filter(\.isAggregated)
            var rowsRead = 0
            var kept = 0
            var matched = [Bool](repeating: true, count: entities.rowCount)
            var plainColumns: [Column] = []
            var aggregatedColumns: [Column] = []
            if !plain.isEmpty || aggregated.isEmpty {
                var plainStep = step
                plainStep.selection.features = plain
                let output = try join(
                    plainStep, index: index, timeline: timeline, times: plan.times, timeRange: timeRange, request,
                    pushdown: pushdown)
                for (i, row) in output.picked.enumerated() where row < 0 { matched[i] = false }
                plainColumns = output.columns
                rowsRead += output.rowsRead
                kept += output.kept
            }
            if !aggregated.isEmpty {
                let output = try aggregate(
                    step, features: aggregated, index: index, times: plan.times, timeRange: timeRange, request,
                    pushdown: pushdown)
                for (i, hit) in output.matched.enumerated() where !hit { matched[i] = false }
                aggregatedColumns = output.columns
                rowsRead += output.rowsRead
                kept += output.kept
            }
            var nextPlain = 0
            var nextAggregated = 0
            for (feature, name) in zip(features, step.selection.outputNames) {
                let column: Column
                if feature.isAggregated {
                    column = aggregatedColumns[nextAggregated]
                    nextAggregated += 1
                } else {
                    column = plainColumns[nextPlain]
                    nextPlain += 1
                }
                joined[.feature(view: view.name, feature: feature.name)] = column
                if step.selection.hidden.contains(feature.name) { continue }
                columns.append(column)
                fields.append(Field(name, feature.type))
            }
            for (i, hit) in matched.enumerated() where !hit { matchedAll[i] = false }
            stats.append(
                TrainingSet.ViewStats(
                    view: view.name, rowsRead: rowsRead, rowsKept: kept, matched: matched.filter { $0 }.count))
        }
        if !plan.onDemand.isEmpty { progress("computing on-demand features") }
        for selection in plan.onDemand {
            for (i, expression) in selection.expressions.enumerated() {
                let inputs = try expression.columns.map { (input) throws(TrainingSetError) -> Column in
                    let column: Column?
                    switch selection.inputs[input.name] {
                    case .feature(let view, let feature)?:
                        column = joined[.feature(view: view, feature: feature)]
                    case .request(_, let field)?:
                        column = plan.requestColumns[field]
                    case nil:
                        column = nil
                    }
                    guard let column else {
                        throw TrainingSetError(
                            "on-demand view '\(selection.view.name)' reads '\(input.name)', which was not joined")
                    }
                    return column.type == input.type ? column : column.cast(to: input.type) ?? column
                }
                columns.append(expression.evaluate(inputs, rows: entities.rowCount))
                fields.append(Field(selection.outputNames[i], selection.features[i].type))
            }
        }
        let batch = try RecordBatch(schema: Schema(fields), columns: columns)
        return TrainingSet(
            batch: batch, rows: batch.rowCount, rowsWithAllFeatures: matchedAll.filter { $0 }.count, views: stats)
    }

    /// Runs one step: its operator, fed by one scan of the view's source (none when no entity
    /// row can match).
    private func join(
        _ step: Step, index: KeyIndex, timeline: EntityTimeline, times: Column, timeRange: (Int64, Int64)?,
        _ request: TrainingSetRequest, pushdown: (any AsOfJoinPushdown)?
    ) throws -> AsOfJoinOperator.Output {
        let view = step.selection.view
        if let pushdown, let timeRange, index.groupCount > 0,
            let remote = try pushdown.join(
                PushdownStep(
                    view: view, features: step.selection.features, keys: step.keys, entityKeys: step.entityKeys,
                    entityTimes: times, createdNotAfterTime: request.createdNotAfterTime, timeRange: timeRange,
                    definitions: definitions))
        {
            return AsOfJoinOperator.Output(
                picked: remote.matched.map { $0 ? 0 : -1 }, columns: remote.columns, rowsRead: remote.rowsReturned,
                kept: remote.rowsReturned)
        }
        guard let timeRange, index.groupCount > 0 else {
            _ = try ViewScan(
                view: view, features: step.selection.features, definitions: definitions, lower: nil, upper: nil)
            return AsOfJoinOperator.Output(
                picked: Array(repeating: -1, count: times.count),
                columns: step.selection.features.map { Column(nulls: $0.type, count: times.count) }, rowsRead: 0,
                kept: 0)
        }
        let join = AsOfJoinOperator(
            index: index, timeline: timeline, entityTimes: times, features: step.selection.features, ttl: view.ttl,
            timeRange: timeRange, request: request)
        let bounds = join.timeBounds
        let scan = try ViewScan(
            view: view, features: step.selection.features, definitions: definitions, lower: bounds.lower,
            upper: bounds.upper)
        var state = join.makeState()
        try scan.run(readers: readers, threads: request.threads) { typed, rows in
            try join.consume(typed, rows: rows, into: &state)
        }
        return try join.finish(&state)
    }

    /// Runs a step's window aggregations: those a pushdown computes there, the others with
    /// `WindowAggregationOperator`, fed by one scan of the view's source (none when no entity
    /// row has a time).
    private func aggregate(
        _ step: Step, features: [Feature], index: KeyIndex, times: Column, timeRange: (Int64, Int64)?,
        _ request: TrainingSetRequest, pushdown: (any AsOfJoinPushdown)?
    ) throws -> WindowAggregationOperator.Output {
        let view = step.selection.view
        // What a remote engine can compute exactly is offered to it; the rest (sketches, …)
        // runs here, and the columns go back in the request's order.
        let (remote, local) = AggregationPartials.split(features)
        if let pushdown, let timeRange, index.groupCount > 0, !remote.isEmpty,
            let computed = try pushdown.aggregate(
                AggregationStep(
                    view: view, features: remote, keys: step.keys, entityKeys: step.entityKeys, entityTimes: times,
                    timeRange: timeRange, definitions: definitions))
        {
            var output = WindowAggregationOperator.Output(
                columns: computed.columns, rowsRead: computed.rowsReturned, kept: computed.rowsReturned,
                matched: computed.matched)
            guard !local.isEmpty else { return output }
            let rest = try aggregate(step, features: local, index: index, times: times, timeRange: timeRange, request)
            var columns: [Column] = []
            var (nextRemote, nextLocal) = (0, 0)
            for feature in features {
                if remote.contains(feature) {
                    columns.append(output.columns[nextRemote])
                    nextRemote += 1
                } else {
                    columns.append(rest.columns[nextLocal])
                    nextLocal += 1
                }
            }
            output.columns = columns
            // An entity row matched when every window of either part saw a row.
            for (i, hit) in rest.matched.enumerated() where !hit { output.matched[i] = false }
            output.rowsRead += rest.rowsRead
            output.kept += rest.kept
            return output
        }
        return try aggregate(step, features: features, index: index, times: times, timeRange: timeRange, request)
    }

    /// Runs a step's window aggregations natively.
    private func aggregate(
        _ step: Step, features: [Feature], index: KeyIndex, times: Column, timeRange: (Int64, Int64)?,
        _ request: TrainingSetRequest
    ) throws -> WindowAggregationOperator.Output {
        let view = step.selection.view
        let range = timeRange ?? (0, Int64.min)
        let window = WindowAggregationOperator(
            index: index, entityTimes: times, features: features, timeRange: range, threads: request.threads)
        var state = window.makeState()
        if timeRange != nil, index.groupCount > 0 {
            let scan = try ViewScan(
                view: view, features: [], definitions: definitions, lower: window.lower, upper: window.upper,
                inputs: window.inputs)
            try scan.run(readers: readers, threads: request.threads) { typed, rows in
                try window.consume(typed, rows: rows, into: &state)
            }
        }
        return try window.finish(&state)
    }

    /// About how many bytes a value of `type` takes in memory.
    public static func width(of type: ValueType) -> Int {
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
}
