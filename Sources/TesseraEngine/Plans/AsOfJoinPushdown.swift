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
