/// The one rule that decides which of two rows of an entity is "the latest": the greatest
/// event time, then the greatest created time, and on a full tie the row that came later.
///
/// Training sets (both as-of joins), materialization, online writes and the SQL the stores
/// run all decide with it, so a value served online is the one a training set would pick.
/// A missing created time counts as `Int64.min`, older than any present one.
public enum LatestWins {
    /// Whether a row `(event, created)` that arrives after the held row `(heldEvent,
    /// heldCreated)` replaces it. Equal times replace: the later row wins a full tie, so
    /// loading the same rows again is idempotent.
    @inline(__always)
    public static func replaces(event: Int64, created: Int64, heldEvent: Int64, heldCreated: Int64) -> Bool {
        event > heldEvent || (event == heldEvent && created >= heldCreated)
    }

    /// The order in which rows become the latest: ascending `(event, created, arrival)`; the
    /// last row of an entity in this order is its latest.
    @inline(__always)
    public static func precedes(
        _ a: (event: Int64, created: Int64, arrival: Int), _ b: (event: Int64, created: Int64, arrival: Int)
    ) -> Bool {
        (a.event, a.created, a.arrival) < (b.event, b.created, b.arrival)
    }

    /// The rule as a SQL condition: whether the row `new` (the incoming one) replaces `old`,
    /// given the names of their event- and created-time columns (integers, microseconds).
    public static func sqlReplaces(new: (event: String, created: String), old: (event: String, created: String))
        -> String
    {
        "\(new.event) > \(old.event) OR (\(new.event) = \(old.event) AND \(new.created) >= \(old.created))"
    }
}
