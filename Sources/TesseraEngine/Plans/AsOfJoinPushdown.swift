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
    public var lower: Int64? {
        view.ttl.microseconds > 0 ? timeRange.0 &- view.ttl.microseconds : nil
    }

    /// The view's source.
    public var source: DataSource? { definitions.source(view.source) }
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
