/// A view's point-in-time join as one SQL query (docs/semantics.md's rules, docs/architecture.md's shape).
///
/// The entity rows are a relation of their own, uploaded by the engine: `__row` (their
/// position, what the output is ordered and matched by), `__k0…` (join-key values),
/// `__ts` (the time) and, for a view with a ttl, `__lo` (the time minus the ttl, computed
/// exactly by Tessera so no dialect's interval arithmetic is involved). The source is read
/// once, its time filter in the `WHERE` clause, and range-joined to them on equal keys and
/// `lo <= event <= t`; of each entity row's candidates the greatest
/// `(event, created, physical order)` is kept:
///
/// ```sql
/// SELECT DISTINCT ON (e.__row) e.__row, s.c0, s.c1, …            -- PostgreSQL
/// FROM entities e JOIN (SELECT key AS __k0, event AS __ts, created AS __cr, ctid AS __tb0,
///                              key AS c0, … FROM source WHERE event >= … AND event <= …) s
///   ON s.__k0 = e.__k0 AND s.__ts <= e.__ts AND s.__ts >= e.__lo
/// ORDER BY e.__row, s.__ts DESC, s.__cr DESC NULLS LAST, s.__tb0 DESC
/// ```
///
/// Spark writes the same join with `ROW_NUMBER() OVER (PARTITION BY e.__row …) = 1`.
/// Entity rows without a candidate are absent from the result; the engine leaves their
/// features null. Null keys and times never compare equal, so they match nothing, as
/// natively.
public struct PointInTimeSQL: Sendable {
    /// The entity relation (already quoted or qualified).
    public var entities: String
    /// The source rows the join reads.
    public var scan: SourceScanSQL
    /// Whether the entity relation has `__lo` (the view has a ttl).
    public var bounded: Bool
    /// Also require `created <= t` (`--no-future-created`).
    public var createdNotAfterTime: Bool

    public init(entities: String, scan: SourceScanSQL, bounded: Bool, createdNotAfterTime: Bool) {
        self.entities = entities
        self.scan = scan
        self.bounded = bounded
        self.createdNotAfterTime = createdNotAfterTime
    }

    /// The query, returning `__row` and `c0, c1, …` for every entity row with a match
    /// (PostgreSQL: in `__row` order; Spark: in no order, the engine places rows by `__row`).
    public func sql(_ dialect: SQLDialect) -> String {
        var on = scan.keys.indices.map { "s.__k\($0) = e.__k\($0)" }
        on.append("s.__ts <= e.__ts")
        if bounded { on.append("s.__ts >= e.__lo") }
        if createdNotAfterTime, scan.createdColumn != nil { on.append("(s.__cr IS NULL OR s.__cr <= e.__ts)") }
        let order = scan.latestFirst(prefix: "s.")
        let columns = scan.outputs.indices.map { "s.c\($0)" }
        let from = "FROM \(entities) e\nJOIN (\(scan.sql(dialect))) s\n  ON \(on.joined(separator: " AND "))"
        switch dialect {
        case .postgres:
            return """
                SELECT DISTINCT ON (e.__row) \((["e.__row"] + columns).joined(separator: ", "))
                \(from)
                ORDER BY \((["e.__row"] + order).joined(separator: ", "))
                """
        case .spark:
            let picked = scan.outputs.indices.map { "c\($0)" }
            return """
                SELECT \((["__row"] + picked).joined(separator: ", ")) FROM (
                SELECT \((["e.__row"] + columns).joined(separator: ", ")), ROW_NUMBER() OVER (PARTITION BY e.__row ORDER BY \(order.joined(separator: ", "))) AS __rank
                \(from)
                ) ranked WHERE __rank = 1
                """
        }
    }
}

/// Each entity's latest source row with event time in `start ... end` (materialization):
/// the same scan, one row per key by the same order.
///
/// ```sql
/// SELECT DISTINCT ON (__k0) c0, c1, … FROM (SELECT … FROM source WHERE event >= … AND event <= …) s
/// WHERE __k0 IS NOT NULL ORDER BY __k0, __ts DESC, __cr DESC NULLS LAST, __tb0 DESC
/// ```
public struct LatestRowsSQL: Sendable {
    public var scan: SourceScanSQL

    public init(scan: SourceScanSQL) { self.scan = scan }

    public func sql(_ dialect: SQLDialect) -> String {
        let keys = scan.keys.indices.map { "__k\($0)" }
        let columns = scan.outputs.indices.map { "c\($0)" }
        let notNull = keys.map { "\($0) IS NOT NULL" }.joined(separator: " AND ")
        let order = scan.latestFirst(prefix: "")
        switch dialect {
        case .postgres:
            return """
                SELECT DISTINCT ON (\(keys.joined(separator: ", "))) \(columns.joined(separator: ", "))
                FROM (\(scan.sql(dialect))) s
                WHERE \(notNull)
                ORDER BY \((keys + order).joined(separator: ", "))
                """
        case .spark:
            return """
                SELECT \(columns.joined(separator: ", ")) FROM (
                SELECT \(columns.joined(separator: ", ")), ROW_NUMBER() OVER (PARTITION BY \(keys.joined(separator: ", ")) ORDER BY \(order.joined(separator: ", "))) AS __rank
                FROM (\(scan.sql(dialect))) s
                WHERE \(notNull)
                ) ranked WHERE __rank = 1
                """
        }
    }
}

/// One read of a source: its keys, times and physical order under fixed names (`__k0…`,
/// `__ts`, `__cr`, `__tb0…`), the values a chosen row returns as `c0, c1, …`, and the time
/// filter in its `WHERE` clause.
public struct SourceScanSQL: Sendable {
    /// What the source is selected from: a quoted table, or a parenthesized query with an alias.
    public var source: String
    /// Select-list expressions of the join keys.
    public var keys: [String]
    /// The event-time and created-time columns (unquoted names).
    public var eventColumn: String
    public var createdColumn: String?
    /// The select-list expressions returned for a chosen row, in order (output `c0, c1, …`).
    public var outputs: [String]
    /// Expressions that order rows tied on event and created time, the last read winning
    /// (PostgreSQL: `ctid` of a table; none for a query, whose order the server does not keep).
    public var rowOrder: [String]
    /// Events outside `lower ... upper` are not read (nor rows without an event time).
    public var lower: Int64?
    public var upper: Int64
    /// The type the filter's literals are cast to (PostgreSQL: the event column's type).
    public var filterCast: String
    /// The view's filter as a condition on the source's columns (`FilterSQL`), or `nil`.
    public var condition: String?

    public init(
        source: String, keys: [String], eventColumn: String, createdColumn: String?, outputs: [String],
        rowOrder: [String], lower: Int64?, upper: Int64, filterCast: String = "timestamptz", condition: String? = nil
    ) {
        self.condition = condition
        self.source = source
        self.keys = keys
        self.eventColumn = eventColumn
        self.createdColumn = createdColumn
        self.outputs = outputs
        self.rowOrder = rowOrder
        self.lower = lower
        self.upper = upper
        self.filterCast = filterCast
    }

    public func sql(_ dialect: SQLDialect) -> String {
        let q = dialect.quoted
        let event = q(eventColumn)
        var list: [String] = keys.enumerated().map { "\($1) AS __k\($0)" }
        list.append("\(event) AS __ts")
        let noCreated = "CAST(NULL AS \(dialect == .postgres ? "timestamptz" : "TIMESTAMP"))"
        list.append("\(createdColumn.map(q) ?? noCreated) AS __cr")
        list += rowOrder.enumerated().map { "\($1) AS __tb\($0)" }
        list += outputs.enumerated().map { "\($1) AS c\($0)" }
        var filters: [String] = []
        if let lower { filters.append("\(event) >= \(dialect.timestamp(lower, cast: filterCast))") }
        filters.append("\(event) <= \(dialect.timestamp(upper, cast: filterCast))")
        if let condition { filters.append(condition) }
        return "SELECT \(list.joined(separator: ", ")) FROM \(source) WHERE \(filters.joined(separator: " AND "))"
    }

    /// The order that puts each group's winner first: latest event, then latest created
    /// (a row without one loses), then the last in physical order.
    func latestFirst(prefix: String) -> [String] {
        ["\(prefix)__ts DESC", "\(prefix)__cr DESC NULLS LAST"] + rowOrder.indices.map { "\(prefix)__tb\($0) DESC" }
    }
}
