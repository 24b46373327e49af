import PostgresNIO
import Synchronization
import TesseraCore
import TesseraOnline
import TesseraPostgres

/// The online store in PostgreSQL (`online_store: {type: postgres, url: postgresql://…}`),
/// for teams that already run PostgreSQL and want every replica to read one shared store.
///
/// **Layout**, four tables in the store's schema (`tessera` by default), created on first use:
/// - `online_views(id, name)`: the views written, each with a small integer id;
/// - `online_rows(view_id, key, event_ts, created_ts, layout, value)`, primary key
///   `(view_id, key)`: one row per (view, entity) — the encoded entity key (`EntityKey`),
///   the row's times in microseconds, the id of its value layout and the features encoded
///   as in the embedded store (`RowLayout`), so a read decodes only the requested features;
/// - `online_layouts(id, spec)`: the layouts, keyed by a digest of their names and types
///   (writers on many machines need no coordination);
/// - `online_states(view_id, key, state)`: aggregation state of window-aggregated views.
///
/// A lookup of any number of keys of one view is one statement
/// (`… WHERE v.name = $1 AND r.key = ANY($2)`). A write is one transaction across all its
/// batches and states: every row of every view, or nothing. Rows are upserted in chunks of
/// `Configuration.rowsPerStatement` with `unnest` over arrays, and `ON CONFLICT … DO UPDATE
/// … WHERE` the stored row is not newer, so writers racing from several machines cannot let
/// an older row win. State updates of one view serialize on a transaction-scoped advisory
/// lock: the held states they read cannot change before they commit.
///
/// Calls block the calling thread (never an event loop's) on one of
/// `Configuration.connections` connections; a broken connection is reopened by the next call.
public final class PostgresOnlineStore: OnlineStore {
    public struct Configuration: Sendable {
        /// The schema of the store's tables.
        public var schema = "tessera"
        /// Connections per process: how many calls run at once.
        public var connections = 4
        /// How long a connect may take.
        public var timeout: Duration = .seconds(5)
        /// How long one statement may run before PostgreSQL cancels it.
        public var statementTimeout: Duration = .seconds(60)
        /// Rows (or states) per `INSERT` of a large write.
        public var rowsPerStatement = 5_000

        public init() {}
    }

    public let endpoint: PostgresEndpoint
    public let configuration: Configuration
    let connections: PostgresConnections
    /// Layouts by id, as read from or written to `online_layouts` (rows are never written
    /// before their layout, and layouts are never removed).
    let layouts = Mutex<[Int64: RowLayout]>([:])
    let tables: Tables

    /// A store on the server at `endpoint`. Nothing is connected until the first call, so a
    /// server that is down at start-up is an error of the calls, not of opening.
    public init(endpoint: PostgresEndpoint, configuration: Configuration = Configuration()) {
        self.endpoint = endpoint
        self.configuration = configuration
        let tables = Tables(schema: configuration.schema)
        self.tables = tables
        connections = PostgresConnections(
            endpoint: endpoint, connections: configuration.connections, timeout: configuration.timeout,
            statementTimeout: configuration.statementTimeout
        ) { (connection, place) throws(PostgresFailure) in
            try tables.create(on: connection, place: place)
        }
    }

    /// How errors name the server (never the password).
    var place: String { connections.place }

    func storeError(_ failure: PostgresFailure) -> OnlineStoreError {
        switch failure.kind {
        case .unreachable: OnlineStoreError(.io, "the PostgreSQL online store is unavailable: \(failure.description)")
        case .refused: OnlineStoreError(.io, "the PostgreSQL online store failed: \(failure.description)")
        }
    }

    /// One statement on any connection.
    @discardableResult
    func run(_ query: PostgresQuery) throws(OnlineStoreError) -> PostgresQueryResult {
        do throws(PostgresFailure) {
            return try connections.run(query)
        } catch {
            throw storeError(error)
        }
    }

    /// One statement on `connection` (inside a transaction).
    @discardableResult
    func run(_ query: PostgresQuery, on connection: PostgresConnection) throws(OnlineStoreError)
        -> PostgresQueryResult
    {
        do throws(PostgresFailure) {
            return try PostgresConnections.run(query, on: connection, place: place)
        } catch {
            throw storeError(error)
        }
    }

    /// `body` in one transaction; rolled back when it throws.
    func transaction<T: Sendable>(_ body: (PostgresConnection) throws(OnlineStoreError) -> T)
        throws(OnlineStoreError) -> T
    {
        try connections.transaction({ [self] in storeError($0) }, body)
    }

    /// Decodes the columns of a result row, or fails as a damaged store.
    func decode<T>(_ what: String, _ body: () throws -> T) throws(OnlineStoreError) -> T {
        do {
            return try body()
        } catch {
            throw OnlineStoreError(.corrupt, "a stored \(what) in \(place) does not decode: \(error)")
        }
    }

    public func viewNames() throws(OnlineStoreError) -> [String] {
        let result = try run(
            """
            SELECT name FROM \(unescaped: tables.views) v
            WHERE EXISTS (SELECT 1 FROM \(unescaped: tables.rows) r WHERE r.view_id = v.id)
               OR EXISTS (SELECT 1 FROM \(unescaped: tables.states) s WHERE s.view_id = v.id)
            """)
        var names: [String] = []
        for row in result { names.append(try decode("view name") { try row.decode(String.self) }) }
        return names.sorted()
    }

    public func rowCount(view: String) throws(OnlineStoreError) -> Int {
        try count(tables.rows, view)
    }

    public func stateCount(view: String) throws(OnlineStoreError) -> Int {
        try count(tables.states, view)
    }

    private func count(_ table: String, _ view: String) throws(OnlineStoreError) -> Int {
        let result = try run(
            """
            SELECT count(*) FROM \(unescaped: table) t JOIN \(unescaped: tables.views) v ON v.id = t.view_id
            WHERE v.name = \(view)
            """)
        guard let row = result.first else { return 0 }
        return Int(try decode("count") { try row.decode(Int64.self) })
    }

    public func dropView(_ view: String) throws(OnlineStoreError) {
        try transaction { (connection) throws(OnlineStoreError) in
            // Deleting the view's catalog row first locks it: a writer that resolved the view
            // waits for this to commit, then finds it gone and makes it anew.
            let deleted = try run(
                "DELETE FROM \(unescaped: tables.views) WHERE name = \(view) RETURNING id", on: connection)
            guard let row = deleted.first else { return }
            let id = try decode("view id") { try row.decode(Int32.self) }
            try run("DELETE FROM \(unescaped: tables.rows) WHERE view_id = \(id)", on: connection)
            try run("DELETE FROM \(unescaped: tables.states) WHERE view_id = \(id)", on: connection)
        }
    }
}

/// The store's table names, and their creation.
struct Tables: Sendable {
    let schema: String
    let views: String
    let rows: String
    let states: String
    let layouts: String

    init(schema: String) {
        self.schema = schema
        views = "\"\(schema)\".online_views"
        rows = "\"\(schema)\".online_rows"
        states = "\"\(schema)\".online_states"
        layouts = "\"\(schema)\".online_layouts"
    }

    /// Creates what is missing.
    func create(on connection: PostgresConnection, place: String) throws(PostgresFailure) {
        try PostgresConnections.create(
            [
                "CREATE SCHEMA IF NOT EXISTS \"\(schema)\"",
                """
                CREATE TABLE IF NOT EXISTS \(views)(
                    id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE)
                """,
                "CREATE TABLE IF NOT EXISTS \(layouts)(id BIGINT PRIMARY KEY, spec TEXT NOT NULL)",
                """
                CREATE TABLE IF NOT EXISTS \(rows)(
                    view_id INTEGER NOT NULL, key BYTEA NOT NULL, event_ts BIGINT NOT NULL,
                    created_ts BIGINT NOT NULL, layout BIGINT NOT NULL, value BYTEA NOT NULL,
                    PRIMARY KEY (view_id, key))
                """,
                """
                CREATE TABLE IF NOT EXISTS \(states)(
                    view_id INTEGER NOT NULL, key BYTEA NOT NULL, state BYTEA NOT NULL, PRIMARY KEY (view_id, key))
                """,
            ], lock: 7_368_757_374, on: connection, place: place)
    }
}
