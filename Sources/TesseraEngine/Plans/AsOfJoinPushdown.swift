import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// Runs some steps' as-of joins where the data lives (a SQL engine) instead of here.
///
/// The training-set builder still plans the request — every name, type and collision error
/// is found the same way for every engine — and still assembles the output; for each view
/// it offers the join to the pushdown first and runs its own operator when the pushdown
/// declines (a source in another database, a view with a filter, …), so every request works
/// and only the place the join runs changes.
public protocol AsOfJoinPushdown {
    /// The step's features, one value per entity row, or `nil`: not handled here.
    func join(_ step: PushdownStep) throws -> PushdownResult?
    /// The step's window aggregations, one value per entity row, or `nil`: not handled here.
    func aggregate(_ step: AggregationStep) throws -> PushdownResult?
}

extension AsOfJoinPushdown {
    public func aggregate(_ step: AggregationStep) throws -> PushdownResult? { nil }
}

/// One view's as-of join, as the builder hands it to a pushdown.
public struct PushdownStep {
    public var view: FeatureView
    /// The requested plain features of the view (declared types).
    public var features: [Feature]
    public var keys: [JoinKey]
    /// The entity rows' key values, one column per key, already of the keys' types.
    public var entityKeys: [Column]
    /// The entity rows' times.
    public var entityTimes: Column
    /// Also require `created <= t`.
    public var createdNotAfterTime: Bool
    /// The smallest and largest entity time.
    public var timeRange: (Int64, Int64)
    public var definitions: Definitions

    /// The earliest event time any entity row can use (its time minus the ttl), or `nil`
    /// for a view without ttl.
    public var lower: Int64? { Self.lower(of: view, earliest: timeRange.0) }

    /// The earliest event time an entity row at `earliest` can use in `view`; `nil` without ttl.
    public static func lower(of view: FeatureView, earliest: Int64) -> Int64? {
        view.ttl.microseconds > 0 ? earliest &- view.ttl.microseconds : nil
    }
}

/// What a pushdown computed for a step.
public struct PushdownResult {
    /// Per entity row: whether a source row was chosen.
    public var matched: [Bool]
    /// The step's features in their declared types, aligned with the entity rows.
    public var columns: [Column]
    /// Source rows the remote engine returned (it reads the source itself).
    public var rowsReturned: Int

    public init(matched: [Bool], columns: [Column], rowsReturned: Int) {
        self.matched = matched
        self.columns = columns
        self.rowsReturned = rowsReturned
    }
}

/// Gathers a pushdown's chosen rows, batch by batch, into the step's columns: each batch
/// brings the features of some chosen source rows and, for each, the entity row it serves.
public struct PushdownCollector {
    let features: [Feature]
    let entityRows: Int
    private var picked: [Int]
    private var parts: [[Column]]
    private var returned = 0

    public init(features: [Feature], entityRows: Int) {
        self.features = features
        self.entityRows = entityRows
        picked = Array(repeating: -1, count: entityRows)
        parts = Array(repeating: [], count: features.count)
    }

    /// Adds one batch: `columns` (the features, typed) and the entity row of each of its rows.
    ///
    /// - Throws: `TrainingSetError` when an entity row number is not one of the request's
    ///   (a remote engine returned something it was not asked).
    public mutating func add(_ columns: [Column], rows: [Int], view: String) throws(TrainingSetError) {
        for (offset, row) in rows.enumerated() {
            guard row >= 0, row < entityRows else {
                throw TrainingSetError(
                    "the engine returned entity row \(row) for \(view), which the request does not have")
            }
            picked[row] = returned + offset
        }
        for (k, column) in columns.enumerated() where k < parts.count { parts[k].append(column) }
        returned += rows.count
    }

    /// The step's columns, aligned with the entity rows (nulls where nothing was chosen).
    public func result() throws -> PushdownResult {
        let columns = try zip(features, parts).map { feature, chunks in
            chunks.isEmpty ? Column(nulls: feature.type, count: entityRows) : try Column.take(from: chunks, picked)
        }
        return PushdownResult(matched: picked.map { $0 >= 0 }, columns: columns, rowsReturned: returned)
    }
}

/// Why a SQL engine leaves a view to the native engine (what `--explain` shows).
public struct NativeReason: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension FeatureResolution {
    /// The requested views that `place` can compute elsewhere, by name, each placed once for
    /// the request (a SQL engine reads a source's columns once); empty for a time-range
    /// spine, which is built natively.
    public static func placements<Placement>(
        for request: TrainingSetRequest, in definitions: Definitions, _ place: (FeatureView) -> Placement?
    ) throws -> [String: Placement] {
        guard case .entities = request.spine else { return [:] }
        let (selections, _, _) = try selections(for: request, in: definitions)
        var out: [String: Placement] = [:]
        for selection in selections where !selection.features.isEmpty {
            out[selection.view.name] = place(selection.view)
        }
        return out
    }
}

extension TrainingSetExplanation {
    /// What a SQL engine's `explain` prints: `header`, then per requested view the lines
    /// `plain` writes for its plain features (given the time filter the entity rows imply)
    /// and `aggregated` for its window aggregations (given the entity rows' time range), or
    /// the native engine's line with the reason either declines; on-demand features as natively.
    public static func sqlEngine(
        _ request: TrainingSetRequest, definitions: Definitions, header: String,
        plain sql: (_ plain: ViewSelection, _ lower: Int64?, _ upper: Int64) -> Result<[String], NativeReason>,
        aggregated aggregationSQL: (_ aggregated: ViewSelection, _ range: (Int64, Int64)) -> Result<
            [String], NativeReason
        >
    ) throws -> String {
        let (selections, _, onDemandViews) = try FeatureResolution.selections(for: request, in: definitions)
        var range: (Int64, Int64)? = nil
        if case .entities(let batch, _) = request.spine, let times = batch.column(named: request.timestampColumn),
            times.type == .timestamp
        {
            range = TrainingSetBuilder.range(of: times)
        }
        var lines = [header]
        for selection in selections {
            var plain = selection
            plain.features = selection.features.filter { !$0.isAggregated }
            var aggregated = selection
            aggregated.features = selection.features.filter(\.isAggregated)
            let spine: NativeReason? =
                if case .range = request.spine { NativeReason("a time-range spine is built natively") } else { nil }
            if !plain.features.isEmpty {
                let lower = PushdownStep.lower(of: selection.view, earliest: range?.0 ?? 0)
                switch spine.map({ .failure($0) }) ?? sql(plain, lower, range?.1 ?? 0) {
                case .success(let written): lines += written
                case .failure(let why): lines += native(plain, reason: why.description)
                }
            }
            if !aggregated.features.isEmpty {
                // What the SQL expresses is offered; the rest runs natively, with the reason.
                var remote = aggregated
                var local = aggregated
                (remote.features, local.features) = AggregationPartials.split(aggregated.features)
                var declined = remote.features.isEmpty ? nil : spine
                if declined == nil, !remote.features.isEmpty {
                    switch aggregationSQL(remote, range ?? (0, 0)) {
                    case .success(let written): lines += written
                    case .failure(let why): declined = why
                    }
                }
                if let declined {
                    lines += native(aggregated, reason: declined.description)
                } else if !local.features.isEmpty {
                    lines += native(local, reason: AggregationPartials.reason(local.features)?.description)
                }
            }
            if selection.features.isEmpty { lines += native(selection, reason: nil) }
        }
        lines += onDemand(onDemandViews)
        return lines.joined(separator: "\n")
    }
}
