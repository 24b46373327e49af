import Logging
import NIOCore
import PostgresNIO
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraPostgres
import TesseraSQL

/// Reads a `type: postgres` source: its columns from the server's catalog, its rows through
/// a cursor in batches of `fetchRows` (memory bounded by one batch in flight and one being
/// decoded), with the engine's time filter in the `WHERE` clause.
public struct PostgresSourceReader: EstimatingSourceReader {
    public let source: String
    public let relation: PostgresRelation
    public let pool: PostgresConnections
    /// Rows per `FETCH`: large enough that round trips are a small share of the time.
    public var fetchRows = 50_000
    private let columns = ColumnCache()

    init(source: String, relation: PostgresRelation, pool: PostgresConnections) {
        self.source = source
        self.relation = relation
        self.pool = pool
    }

    static let logger: Logger = {
        var logger = Logger(label: "tessera.source.postgres")
        logger.logLevel = .critical
        return logger
    }()

    /// The source's columns as the server describes them, in order, each with how it is read.
    public func columnTypes() throws(PostgresSourceError) -> [(name: String, reading: PostgresColumnType)] {
        if let known = columns.value.withLock({ $0 }) { return known }
        let catalog = """
            SELECT a.attname::text, a.atttypid::int8, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """
        let found: [(name: String, reading: PostgresColumnType)]
        do {
            found = try pool.withConnection({ $0 }) { (connection) throws(PostgresFailure) in
                let place = pool.place
                func describe(_ relation: String) throws(PostgresFailure) -> [(String, PostgresColumnType)] {
                    var binds = PostgresBindings()
                    binds.append(relation)
                    let result = try PostgresConnections.run(
                        PostgresQuery(unsafeSQL: catalog, binds: binds), on: connection, place: place)
                    var out: [(String, PostgresColumnType)] = []
                    for row in result.rows {
                        do {
                            let (name, oid, type) = try row.decode((String, Int64, String).self)
                            out.append((name, PostgresColumnType(oid: oid, serverType: type)))
                        } catch {
                            throw PostgresFailure(.refused, "\(place) described a column unreadably: \(error)")
                        }
                    }
                    return out
                }
                if relation.table != nil { return try describe(relation.fromClause) }
                // A query's columns: those of a temporary view of it, dropped by the rollback.
                try PostgresConnections.run("BEGIN", on: connection, place: place)
                do throws(PostgresFailure) {
                    try PostgresConnections.run(
                        PostgresQuery(
                            unsafeSQL: "CREATE TEMPORARY VIEW tessera_source_probe AS SELECT * FROM "
                                + relation.fromClause), on: connection, place: place)
                    let out = try describe("pg_temp.tessera_source_probe")
                    try PostgresConnections.run("ROLLBACK", on: connection, place: place)
                    return out
                } catch {
                    _ = try? PostgresConnections.run("ROLLBACK", on: connection, place: place)
                    throw error
                }
            }
        } catch {
            throw PostgresSourceError(source: source, error.description)
        }
        if found.isEmpty {
            throw PostgresSourceError(source: source, "\(pool.place) shows no columns for \(shown)")
        }
        columns.value.withLock { $0 = found }
        return found
    }

    /// The table, or "its query", for messages.
    public var shown: String { relation.table.map { "table \($0)" } ?? "its query" }

    public func schema() throws -> Schema {
        Schema(try columnTypes().map { Field($0.name, $0.reading.type) })
    }

    public func estimatedRows() -> Int? {
        guard relation.table != nil else { return nil }
        var binds = PostgresBindings()
        binds.append(relation.fromClause)
        let sql = "SELECT reltuples::int8 FROM pg_class WHERE oid = $1::regclass"
        guard let result = try? pool.run(PostgresQuery(unsafeSQL: sql, binds: binds)),
            let count = try? result.rows.first?.decode(Int64.self), count >= 0
        else { return nil }
        return Int(count)
    }

    /// The statement a scan runs: the columns (cast where needed) of the table or query,
    /// the time filter as a `WHERE` clause on a timestamp column.
    static func selectSQL(
        columns: [(name: String, reading: PostgresColumnType)], from: String, filter: TimeFilter?,
        filterType: PostgresColumnType?
    ) -> String {
        let list = columns.map { $0.reading.select(PostgresRelation.quoted($0.name)) }.joined(separator: ", ")
        var sql = "SELECT \(list.isEmpty ? "1" : list) FROM \(from)"
        if let filter, let cast = filterType?.filterCast {
            let column = PostgresRelation.quoted(filter.column)
            var conditions: [String] = []
            if let lower = filter.lower {
                conditions.append("\(column) >= \(SQLDialect.postgres.timestamp(lower, cast: cast))")
            }
            if let upper = filter.upper {
                conditions.append("\(column) <= \(SQLDialect.postgres.timestamp(upper, cast: cast))")
            }
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        }
        return sql
    }

    public func scan(columns names: [String], filter: TimeFilter?, threads: Int, _ body: (RecordBatch) throws -> Void)
        throws
    {
        let known = try columnTypes()
        var selected: [(name: String, reading: PostgresColumnType)] = []
        for name in names {
            guard let column = known.first(where: { $0.name == name }) else {
                throw PostgresSourceError(
                    source: source,
                    "\(shown) has no column '\(name)' (its columns: \(known.map(\.name).joined(separator: ", ")))")
            }
            selected.append(column)
        }
        let filterType = filter.flatMap { f in known.first { $0.name == f.column }?.reading }
        let sql = Self.selectSQL(
            columns: selected, from: relation.fromClause, filter: filter, filterType: filterType)
        let schema = Schema(selected.map { Field($0.name, $0.reading.type) })
        let place = pool.place
        let source = source
        let fetchRows = fetchRows
        do {
            try pool.withConnection({ $0 as any Error }) { (connection) throws(any Error) in
                try PostgresConnections.run("BEGIN READ ONLY", on: connection, place: place)
                do {
                    try Self.cursor(sql, on: connection, place: place, fetchRows: fetchRows) { rows, firstRow in
                        try body(try Self.batch(rows, schema: schema, columns: selected, firstRow: firstRow))
                    }
                    try PostgresConnections.run("COMMIT", on: connection, place: place)
                } catch {
                    _ = try? PostgresConnections.run("ROLLBACK", on: connection, place: place)
                    throw error
                }
            }
        } catch let error as PostgresFailure {
            throw PostgresSourceError(source: source, error.description)
        } catch let error as PostgresDecodeFailure {
            throw PostgresSourceError(source: source, "\(place): \(error.description)")
        }
    }

    /// Runs `sql` through a cursor inside the connection's open transaction, handing `body`
    /// each batch of at most `fetchRows` rows with the 0-based number of its first row; the
    /// next batch travels while `body` works on this one. The cursor is closed at the end.
    public static func cursor(
        _ sql: String, on connection: PostgresConnection, place: String, fetchRows: Int, name: String = "tessera_scan",
        _ body: ([PostgresRow], Int) throws -> Void
    ) throws {
        let fetch = PostgresQuery(unsafeSQL: "FETCH FORWARD \(fetchRows) FROM \(name)")
        func send() throws(PostgresFailure) -> EventLoopFuture<PostgresQueryResult> {
            // A query written to a closed connection is dropped unanswered (see PostgresConnections.run).
            guard !connection.isClosed else {
                throw PostgresFailure(.unreachable, "cannot reach \(place): the connection is closed")
            }
            return connection.query(fetch, logger: Self.logger)
        }
        var pending: EventLoopFuture<PostgresQueryResult>? = nil
        do {
            try PostgresConnections.run(
                PostgresQuery(unsafeSQL: "DECLARE \(name) NO SCROLL CURSOR FOR " + sql), on: connection, place: place)
            pending = try send()
            var firstRow = 0
            while let next = pending {
                pending = nil
                let result: PostgresQueryResult
                do {
                    result = try next.wait()
                } catch {
                    throw PostgresConnections.failure(error, place: place)
                }
                if result.rows.count == fetchRows { pending = try send() }
                try body(result.rows, firstRow)
                firstRow += result.rows.count
            }
            try PostgresConnections.run(PostgresQuery(unsafeSQL: "CLOSE \(name)"), on: connection, place: place)
        } catch {
            if let pending { _ = try? pending.wait() }
            throw error
        }
    }

    /// One fetched batch as columns, after the first `skip` cells of each row (a caller's own).
    public static func batch(
        _ rows: [PostgresRow], schema: Schema, columns: [(name: String, reading: PostgresColumnType)], firstRow: Int,
        skip: Int = 0
    ) throws -> RecordBatch {
        var decoders = columns.map {
            PostgresColumnDecoder(name: $0.name, reading: $0.reading, capacity: rows.count)
        }
        for (offset, row) in rows.enumerated() {
            var index = -skip
            for cell in row {
                defer { index += 1 }
                guard index >= 0 else { continue }
                guard index < decoders.count else { break }
                do {
                    try decoders[index].append(cell.bytes)
                } catch {
                    throw PostgresDecodeFailure(
                        row: firstRow + offset + 1, column: decoders[index].name,
                        type: decoders[index].reading.serverType, reason: error.reason)
                }
            }
        }
        return try RecordBatch(schema: schema, columns: decoders.map { $0.finish() })
    }
}

/// The columns a reader found, kept for its later calls (each scan of a training set or a
/// materialization asks again).
final class ColumnCache: Sendable {
    let value = Mutex<[(name: String, reading: PostgresColumnType)]?>(nil)
}

/// A failure reading a PostgreSQL source: the source's name, then the server and reason.
public struct PostgresSourceError: Error, CustomStringConvertible {
    public var description: String
    init(source: String, _ reason: String) {
        description = "source '\(source)': \(reason)"
    }
}

/// A value the reader could not decode, with the row of the scan (1-based) and its column.
public struct PostgresDecodeFailure: Error, CustomStringConvertible {
    var row: Int
    var column: String
    var type: String
    var reason: String
    public var description: String { "row \(row) of the scan, column '\(column)' (\(type)): \(reason)" }
}
