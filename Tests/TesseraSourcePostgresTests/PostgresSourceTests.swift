import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraTesting
import Testing

@testable import TesseraSourcePostgres

/// `type: postgres` sources: table names as the server resolves them, the statements a scan
/// sends, and every readable type against a real server, in batches, filtered at the server.
@Suite(.serialized) struct PostgresSourceTests {
    /// What `body` throws, as a user reads it.
    static func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            Issue.record("the call succeeded")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func tableNamesAreSplitAndFoldedAsPostgreSQLDoes() {
        #expect(PostgresRelation.tableParts("driver_stats") == ["driver_stats"])
        #expect(PostgresRelation.tableParts("Public.Driver_Stats") == ["public", "driver_stats"])
        #expect(PostgresRelation.tableParts(#""Mixed Case"."a""b""#) == ["Mixed Case", #"a"b"#])
        for bad in ["", "a.b.c", "1abc", "a;drop table x", #""unclosed"#, "a.", "a b", #""""#] {
            #expect(PostgresRelation.tableParts(bad) == nil, "\(bad)")
        }
        #expect(PostgresRelation(url: "", table: #"s."T""#).fromClause == #""s"."T""#)
        #expect(PostgresRelation(url: "", query: "SELECT 1;; \n").fromClause == "(\nSELECT 1\n) AS tessera_source")
    }

    @Test func theTimeFilterIsPushedIntoTheWhereClause() {
        let columns: [(name: String, reading: PostgresColumnType)] = [
            ("id", PostgresColumnType(oid: 20, serverType: "bigint")),
            ("amount", PostgresColumnType(oid: 1700, serverType: "numeric(10,2)")),
        ]
        let instant = PostgresColumnType(oid: 1184, serverType: "timestamp with time zone")
        let filter = TimeFilter(column: "ts", lower: 0, upper: 1_500_000)
        #expect(
            PostgresSourceReader.selectSQL(columns: columns, from: "t", filter: filter, filterType: instant)
                == #"SELECT "id", "amount"::float8 FROM t WHERE "ts" >= '1970-01-01T00:00:00Z'::timestamptz AND "ts" <= '1970-01-01T00:00:01.5Z'::timestamptz"#
        )
        let wall = PostgresColumnType(oid: 1114, serverType: "timestamp without time zone")
        let open = TimeFilter(column: "ts", lower: nil, upper: 0)
        #expect(
            PostgresSourceReader.selectSQL(columns: columns, from: "t", filter: open, filterType: wall)
                == #"SELECT "id", "amount"::float8 FROM t WHERE "ts" <= '1970-01-01T00:00:00Z'::timestamp"#)
        // A time column stored as text is filtered by the engine, not the server.
        let text = PostgresColumnType(oid: 25, serverType: "text")
        #expect(
            PostgresSourceReader.selectSQL(columns: columns, from: "t", filter: filter, filterType: text)
                == #"SELECT "id", "amount"::float8 FROM t"#)
    }

    static func server() throws -> (PostgresServerProcess, String) {
        let server = try PostgresServerProcess()
        return (server, "postgresql://postgres:\(server.password)@127.0.0.1:\(server.port)/postgres")
    }

    static func reader(_ url: String, table: String? = nil, query: String? = nil, fetchRows: Int = 50_000) throws
        -> PostgresSourceReader
    {
        let source = DataSource(
            name: "events", kind: .postgres(PostgresRelation(url: url, table: table, query: query)),
            timestampField: "ts")
        var reader = try #require(try PostgresSourceConnector().reader(for: source, root: "/") as? PostgresSourceReader)
        reader.fetchRows = fetchRows
        return reader
    }

    static func scan(_ reader: PostgresSourceReader, _ columns: [String], filter: TimeFilter? = nil) throws
        -> (batches: Int, rows: [[ScalarValue]])
    {
        var batches = 0
        var rows: [[ScalarValue]] = []
        try reader.scan(columns: columns, filter: filter, threads: 1) { batch in
            batches += 1
            #expect(batch.schema.names == columns)
            let columns = batch.columns.map(\.values)
            for r in 0..<batch.rowCount { rows.append(columns.map { $0[r] }) }
        }
        return (batches, rows)
    }

    @Test func everyTypeIsReadWithItsNullsInBatches() throws {
        let (server, url) = try Self.server()
        defer { server.stop() }
        try server.psql(
            """
            CREATE TYPE mood AS ENUM ('calm', 'busy');
            CREATE TABLE events (
              id bigint, small smallint, i integer, f real, d double precision, n numeric(12,3), b boolean,
              s text, v varchar(10), c char(4), bin bytea, ts timestamptz, wall timestamp, day date, u uuid,
              j jsonb, m mood, ints bigint[], words text[], reals double precision[]);
            INSERT INTO events VALUES
              (1, -2, 30, 1.5, -0.25, 1234.567, true, 'héllo', 'vc', 'ab', '\\x00ff', '2026-01-02 03:04:05.123456+00',
               '2026-01-02 03:04:05', '2026-01-02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": 1}', 'busy',
               '{1,NULL,3}', '{"a","b c"}', '{}'),
              (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'infinity', NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL);
            INSERT INTO events (id, ts) SELECT g, timestamptz '2026-01-03' + g * interval '1 second'
              FROM generate_series(3, 1002) g;
            """)
        let reader = try Self.reader(url, table: "events", fetchRows: 7)
        let schema = try reader.schema()
        #expect(
            schema.fields.map(\.type) == [
                .int64, .int32, .int32, .float32, .float64, .float64, .bool, .string, .string, .string, .bytes,
                .timestamp, .timestamp, .timestamp, .string, .string, .string, .list(.int64), .list(.string),
                .list(.float64),
            ])
        let all = schema.names
        let (batches, rows) = try Self.scan(reader, all)
        #expect(rows.count == 1002)
        #expect(batches == 1002 / 7 + 1, "rows come in batches of fetchRows")
        let noon = try #require(Timestamp(parsing: "2026-01-02T03:04:05.123456Z"))
        #expect(
            rows[0] == [
                .int64(1), .int32(-2), .int32(30), .float32(1.5), .float64(-0.25), .float64(1234.567), .bool(true),
                .string("héllo"), .string("vc"), .string("ab"), .bytes([0, 255]), .timestamp(noon),
                .timestamp(try #require(Timestamp(parsing: "2026-01-02T03:04:05Z"))),
                .timestamp(try #require(Timestamp(parsing: "2026-01-02T00:00:00Z"))),
                .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), .string(#"{"k": 1}"#), .string("busy"),
                .list([.int64(1), .null, .int64(3)]), .list([.string("a"), .string("b c")]), .list([]),
            ])
        // Nulls are nulls; an infinite timestamp has no instant and reads as null.
        #expect(rows[1] == [.int64(2)] + Array(repeating: ScalarValue.null, count: all.count - 1))
        #expect(rows.map { $0[0] } == (1...1002).map { .int64(Int64($0)) }, "in the table's order")

        // Projection, in the order asked for.
        let (_, projected) = try Self.scan(reader, ["ts", "id"])
        #expect(projected[0] == [.timestamp(noon), .int64(1)])
        // The filter is applied by the server: only rows inside it come back.
        let lower = try #require(Timestamp(parsing: "2026-01-03T00:00:10Z")).microseconds
        let upper = try #require(Timestamp(parsing: "2026-01-03T00:00:20Z")).microseconds
        let (_, filtered) = try Self.scan(reader, ["id"], filter: TimeFilter(column: "ts", lower: lower, upper: upper))
        #expect(filtered.map { $0[0] } == (10...20).map { .int64(Int64($0)) })
        // A timestamp column without time zone is filtered as UTC wall time.
        let wall = try Self.scan(
            reader, ["id"],
            filter: TimeFilter(column: "wall", lower: noon.microseconds - 123_456, upper: noon.microseconds))
        #expect(wall.rows == [[.int64(1)]])
        // Progress bars take the row count from the server's statistics.
        try server.psql("ANALYZE events")
        #expect(reader.estimatedRows() == 1002)
    }

    @Test func aQueryIsASourceAndErrorsNameTheSourceAndServer() throws {
        let (server, url) = try Self.server()
        defer { server.stop() }
        try server.psql("CREATE TABLE t (k bigint, ts timestamptz, note text)")
        try server.psql("INSERT INTO t VALUES (1, now(), 'a'), (2, now(), NULL), (3, now(), 'c')")
        let query = try Self.reader(url, query: "SELECT k * 10 AS k10, ts, upper(note) AS shout FROM t WHERE k <> 2;")
        #expect(try query.schema().fields.map(\.name) == ["k10", "ts", "shout"])
        #expect(
            try Self.scan(query, ["shout", "k10"]).rows == [[.string("A"), .int64(10)], [.string("C"), .int64(30)]])

        // A missing table, a missing column, bad SQL, a server not there: each names what and where.
        let place = "PostgreSQL at 127.0.0.1:\(server.port)"
        let missing = Self.message { _ = try Self.reader(url, table: "nope").schema() }
        #expect(
            missing.contains("source 'events'") && missing.contains(place) && missing.contains("\"nope\""), "\(missing)"
        )
        let column = Self.message { _ = try Self.scan(try Self.reader(url, table: "t"), ["k", "kk"]) }
        #expect(column.contains("no column 'kk'") && column.contains("k, ts, note"), "\(column)")
        let sql = Self.message { _ = try Self.reader(url, query: "SELEC 1").schema() }
        #expect(sql.contains("syntax error") && sql.contains(place), "\(sql)")
        let port = try TestServer.port(in: 22_000..<32_000)
        let down = Self.message {
            _ = try Self.reader("postgresql://postgres:s3cret-pw@127.0.0.1:\(port)/postgres", table: "t").schema()
        }
        #expect(down.contains("127.0.0.1:\(port)") && !down.contains("s3cret-pw"), "\(down)")
        for message in [missing, column, sql] { #expect(!message.contains(server.password)) }
    }
}
