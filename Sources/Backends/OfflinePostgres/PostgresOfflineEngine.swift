import Foundation
import PostgresNIO
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraPostgres
import TesseraSQL
import TesseraSourcePostgres

/// `offline_store: {type: postgres}`: training sets and materializations computed by
/// PostgreSQL, where the sources' tables are, with the SQL of `TesseraSQL`.
///
/// Each view whose source is a `type: postgres` table or query in the engine's database is
/// joined by the server: the entity rows are uploaded once per key set into a temporary
/// table, one query per view picks every entity row's source row, and only the chosen rows
/// come back, typed exactly as the native engine types them. Window aggregations run there
/// too, as exact partial states Tessera merges (`AggregationPartials`). What the SQL does
/// not express yet (sketches, first/last, variances, views with a filter or derived features, sources elsewhere,
/// rows pushed to the local push log) runs in the native engine, reading through the same
/// connector, so every request gives the native engine's result; `tessera training-set
/// --explain` shows which part runs where.
public struct PostgresOfflineEngine: NativeBackedEngine {
    public let endpoint: PostgresEndpoint
    /// Runs what PostgreSQL does not, and reads sources for checks.
    public let native: NativeEngine
    let pool: PostgresConnections
    /// Rows per `FETCH` of a result.
    public var fetchRows = 50_000
    /// Rows per upload statement of the entity rows.
    public var uploadRows = 100_000
    /// Where the SQL of a failed query is saved (named in the error).
    public var failedSQLFolder: String
    /// Whether window aggregations are computed in SQL (`aggregations: sql`, the default)
    /// or natively from the source's rows (`aggregations: native`).
    public var aggregationsInSQL = true

    public init(endpoint: PostgresEndpoint, native: NativeEngine, connections: Int = 2, failedSQLFolder: String? = nil)
    {
        self.endpoint = endpoint
        self.native = native
        pool = PostgresConnections(endpoint: endpoint, connections: connections, timeout: .seconds(10))
        self.failedSQLFolder = failedSQLFolder ?? native.root + "/.tessera/sql"
    }

    // MARK: Training sets

    public func trainingSet(
        _ request: TrainingSetRequest, definitions: Definitions, progress: @escaping @Sendable (String) -> Void
    ) throws -> TrainingSet {
        let builder = TrainingSetBuilder(definitions: definitions) { [native] source in
            try native.sources(definitions).readers(for: source)
        }
        let placements = try placements(for: request, definitions: definitions)
        guard !placements.isEmpty else { return try builder.build(request, progress: progress) }
        return try session(readOnly: false) { connection in
            let pushdown = PostgresPushdown(
                engine: self, definitions: definitions, connection: connection, placements: placements)
            return try builder.build(request, pushdown: pushdown, progress: progress)
        }
    }

    /// The requested views whose joins run in PostgreSQL, by name, each placed once per
    /// request (its columns read from the catalog once); empty: no connection is opened.
    func placements(for request: TrainingSetRequest, definitions: Definitions) throws -> [String: Placement] {
        try FeatureResolution.placements(for: request, in: definitions) { view in
            try? placement(of: view, definitions: definitions).get()
        }
    }

    /// `body` on one connection inside a transaction that is rolled back at the end (the
    /// temporary tables go with it), with times compared in UTC.
    func session<T: Sendable>(readOnly: Bool, _ body: (PostgresConnection) throws -> T) throws -> T {
        let place = pool.place
        return try pool.withConnection({ $0 as any Error }) { (connection) throws(any Error) -> T in
            try PostgresConnections.run(
                PostgresQuery(unsafeSQL: readOnly ? "BEGIN READ ONLY" : "BEGIN"), on: connection, place: place)
            do {
                try PostgresConnections.run("SET LOCAL TimeZone = 'UTC'", on: connection, place: place)
                // PostgreSQL 14+ notices within a second that the client is gone (Ctrl-C, kill)
                // and stops the query, instead of at its next write.
                let version = try PostgresConnections.run(
                    "SELECT current_setting('server_version_num')::int4", on: connection, place: place)
                if let number = try? version.rows.first?.decode(Int32.self), number >= 140_000 {
                    try PostgresConnections.run(
                        "SET LOCAL client_connection_check_interval = '1s'", on: connection, place: place)
                }
                let result = try body(connection)
                try PostgresConnections.run("ROLLBACK", on: connection, place: place)
                return result
            } catch {
                _ = try? PostgresConnections.run("ROLLBACK", on: connection, place: place)
                throw error
            }
        }
    }

    public func explain(_ request: TrainingSetRequest, definitions: Definitions) throws -> String {
        var tables: [String: String] = [:]
        let header = "-- PostgreSQL at \(endpoint.host):\(endpoint.port), database \(endpoint.database)"
        func entities(_ view: FeatureView, lows: [(name: String, span: Int64?)], into lines: inout [String]) -> String {
            let keys = definitions.joinKeys(of: view)
            let signature = PostgresPushdown.signature(keys: keys, lows: lows)
            if let known = tables[signature] { return known }
            let table = "tessera_entities_\(tables.count)"
            tables[signature] = table
            let columns = keys.indices.map { "__k\($0)" }.joined(separator: ", ")
            let starts = lows.map { low in
                "\(low.name) = __ts - \(low.span.map { TimeSpan(microseconds: $0).formatted } ?? "nothing (null)")"
            }
            lines.append(
                "-- the entity rows (their position __row, keys \(columns), time __ts and \(starts.joined(separator: ", "))) are uploaded into the temporary table \(table)"
            )
            return table
        }
        return try TrainingSetExplanation.sqlEngine(
            request, definitions: definitions, header: header,
            plain: { plain, lower, upper in
                placement(of: plain.view, definitions: definitions).map { placement in
                    let view = plain.view
                    var lines: [String] = []
                    let table = entities(
                        view, lows: PostgresPushdown.lows(ttl: view.ttl.microseconds), into: &lines)
                    let (scan, _) = self.scan(
                        placement, view: view, features: plain.features, definitions: definitions, lower: lower,
                        upper: upper)
                    lines.append(
                        "-- \(view.name): as-of join of \(plain.features.map(\.name).joined(separator: ", ")) in PostgreSQL"
                    )
                    lines.append(
                        PointInTimeSQL(
                            entities: table, scan: scan, bounded: view.ttl.microseconds > 0,
                            createdNotAfterTime: request.createdNotAfterTime
                        ).sql(.postgres) + ";")
                    return lines
                }
            },
            aggregated: { aggregated, range in
                placement(of: aggregated.view, definitions: definitions).flatMap { placement in
                    aggregationScan(
                        placement, view: aggregated.view, features: aggregated.features, definitions: definitions,
                        range: range)
                }.map { partials, scan in
                    let view = aggregated.view
                    var lines: [String] = []
                    let table = entities(view, lows: PostgresPushdown.lows(of: partials), into: &lines)
                    lines.append(
                        "-- \(view.name): window aggregations \(aggregated.features.map(\.name).joined(separator: ", ")) in PostgreSQL (exact partial sums, merged and rounded once by Tessera)"
                    )
                    lines.append(
                        WindowAggregationSQL(entities: table, scan: scan, partials: partials).sql(.postgres) + ";")
                    return lines
                }
            })
    }

    // MARK: Where a view runs

    /// A view PostgreSQL can compute: its source's reader and columns.
    struct Placement {
        var reader: PostgresSourceReader
        var source: DataSource
        var columns: [(name: String, reading: PostgresColumnType)]
        var sourceColumns: SourceColumns
        /// The view's filter as a condition on the source's columns, or `nil`.
        var condition: String?

        func reading(_ name: String) -> PostgresColumnType? {
            columns.first { $0.name == name }?.reading
        }
    }

    /// Where `view` is computed: in PostgreSQL (`success`), or natively, with the reason.
    func placement(of view: FeatureView, definitions: Definitions) -> Result<Placement, NativeReason> {
        guard let source = definitions.source(view.source) else {
            return .failure(NativeReason("its source '\(view.source)' is not defined"))
        }
        let readers: [any SourceReader]
        do {
            readers = try native.sources(definitions).readers(for: source)
        } catch {
            return .failure(NativeReason("its source cannot be read: \(error)"))
        }
        guard readers.count == 1, let reader = readers.first as? PostgresSourceReader else {
            if case .push = source.kind, readers.count > 1 {
                return .failure(NativeReason("rows pushed to '\(source.name)' are in the local push log"))
            }
            return .failure(NativeReason("its source '\(source.name)' is not a PostgreSQL table or query"))
        }
        let theirs = reader.pool.endpoint
        guard theirs.host == endpoint.host, theirs.port == endpoint.port, theirs.database == endpoint.database else {
            return .failure(
                NativeReason(
                    "its source is in database \(theirs.database) at \(theirs.host):\(theirs.port), not the offline store's"
                ))
        }
        let columns: [(name: String, reading: PostgresColumnType)]
        do {
            columns = try reader.columnTypes()
        } catch {
            return .failure(NativeReason("\(error)"))
        }
        var placement = Placement(
            reader: reader, source: source, columns: columns, sourceColumns: definitions.sourceColumns(of: source))
        let quoted = PostgresRelation.quoted
        switch FilterSQL.transforms(
            of: view, columns: placement.sourceColumns, dialect: .postgres,
            { name in placement.reading(name).map { ($0.select(quoted(name)), $0.type) } })
        {
        case .success(let condition): placement.condition = condition
        case .failure(let why): return .failure(why)
        }
        // Keys and times the server compares as the native engine would; anything else is
        // left to the native engine, whose checks name the problem.
        for key in definitions.joinKeys(of: view) {
            guard PostgresArrayParameter.Element(key: key.type) != nil,
                let reading = placement.reading(placement.sourceColumns.sourceColumn(for: key.name)),
                reading.cast.isEmpty, Column.canJoin(reading.type, as: key.type)
            else {
                return .failure(NativeReason("join key '\(key.name)' is not compared in PostgreSQL as natively"))
            }
        }
        for time in [placement.sourceColumns.timestamp] + [placement.sourceColumns.created].compactMap({ $0 }) {
            guard placement.reading(time)?.filterCast != nil else {
                return .failure(NativeReason("column '\(time)' is not a PostgreSQL timestamp or date"))
            }
        }
        return .success(placement)
    }

    /// The scan of a view's source returning, for each chosen row, the source columns
    /// `TypedSourceBatch` reads (keys, times, `features`), under their source names.
    func scan(
        _ placement: Placement, view: FeatureView, features: [Feature], definitions: Definitions, lower: Int64?,
        upper: Int64
    ) -> (sql: SourceScanSQL, names: [String]) {
        let columns = placement.sourceColumns
        let keys = definitions.joinKeys(of: view).map { columns.sourceColumn(for: $0.name) }
        let names = columns.joinColumns(
            keys: definitions.joinKeys(of: view).map(\.name), features: features.map(\.name))
        let quoted = PostgresRelation.quoted
        let outputs = names.map { name in placement.reading(name).map { $0.select(quoted(name)) } ?? quoted(name) }
        let sql = SourceScanSQL(
            source: placement.reader.relation.fromClause, keys: keys.map(quoted), eventColumn: columns.timestamp,
            createdColumn: columns.created, outputs: outputs,
            rowOrder: placement.reader.relation.table == nil ? [] : ["ctid"], lower: lower, upper: upper,
            filterCast: placement.reading(columns.timestamp)?.filterCast ?? "timestamptz",
            condition: placement.condition)
        return (sql, names)
    }

    /// The partials of a view's aggregated `features` and the scan returning their inputs
    /// (`c0…`, in the partials' order), or why PostgreSQL does not compute them.
    func aggregationScan(
        _ placement: Placement, view: FeatureView, features: [Feature], definitions: Definitions,
        range: (Int64, Int64)
    ) -> Result<(AggregationPartials, SourceScanSQL), NativeReason> {
        guard aggregationsInSQL else { return .failure(NativeReason("offline_store sets aggregations: native")) }
        let columns = placement.sourceColumns
        let quoted = PostgresRelation.quoted
        let partials: AggregationPartials
        let outputs: [String]
        switch WindowAggregationSQL.inputs(
            of: features, columns: columns, engine: "PostgreSQL",
            { name, type in
                placement.reading(name).flatMap {
                    AggregationPartials.reads($0.type, as: type) ? $0.select(quoted(name)) : nil
                }
            })
        {
        case .success(let found): (partials, outputs) = found
        case .failure(let why): return .failure(why)
        }
        let keys = definitions.joinKeys(of: view).map { quoted(columns.sourceColumn(for: $0.name)) }
        let scan = SourceScanSQL(
            source: placement.reader.relation.fromClause, keys: keys, eventColumn: columns.timestamp,
            createdColumn: columns.created, outputs: outputs, rowOrder: [], lower: partials.lower(earliest: range.0),
            upper: range.1, filterCast: placement.reading(columns.timestamp)?.filterCast ?? "timestamptz",
            condition: placement.condition)
        return .success((partials, scan))
    }

    /// How a part's result column is read: counts and bands as int8, exact sums as text,
    /// extremes as their input column is.
    func reading(of part: AggregationPartials.Part, partials: AggregationPartials, placement: Placement)
        -> PostgresColumnType
    {
        switch part {
        case .integerSum, .bandSum, .squareSum: return PostgresColumnType(oid: 25, serverType: "text")
        case .extreme(let k, _, _):
            let name = placement.sourceColumns.sourceColumn(for: partials.inputs[k].name)
            return placement.reading(name) ?? PostgresPushdown.int8
        default: return PostgresPushdown.int8
        }
    }

    /// Runs `sql` through a cursor on `connection`, handing `body` each batch of rows; a
    /// refusal is reported with the server's message and position, and the SQL saved to a
    /// file the message names.
    func run(
        _ sql: String, purpose: String, on connection: PostgresConnection, _ body: ([PostgresRow], Int) throws -> Void
    ) throws {
        do {
            try PostgresSourceReader.cursor(sql, on: connection, place: pool.place, fetchRows: fetchRows, body)
        } catch let error as PostgresFailure {
            throw PostgresEngineError(failure: error, sql: sql, purpose: purpose, folder: failedSQLFolder)
        }
    }

    // MARK: Materialization

    public func latestRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> LatestRowsStats {
        guard case .success(let placement) = placement(of: request.view, definitions: definitions) else {
            return try native.latestRows(request, definitions: definitions, progress: progress, emit: emit)
        }
        let view = request.view
        let (scan, names) = scan(
            placement, view: view, features: view.plainFeatures, definitions: definitions,
            lower: request.start.microseconds, upper: request.end.microseconds)
        let sql = LatestRowsSQL(scan: scan).sql(.postgres)
        let schema = LatestRows.schema(of: view, definitions: definitions)
        let keys = definitions.joinKeys(of: view)
        var entities = 0
        var engine = self
        engine.fetchRows = min(fetchRows, request.batchRows)
        try session(readOnly: true) { connection in
            try engine.run(sql, purpose: "the latest rows of \(view.name)", on: connection) { rows, first in
                let batch = try Self.decode(rows, names: names, placement: placement, skip: 0, firstRow: first)
                try emit(
                    try TypedSourceBatch.latestRows(
                        batch, source: placement.source, columns: placement.sourceColumns, view: view, keys: keys,
                        schema: schema))
                entities += batch.rowCount
                progress(entities)
            }
        }
        return LatestRowsStats(view: view.name, rowsRead: entities, entities: entities)
    }

    /// Result rows as a batch named `names` (after `skip` leading cells), each column read
    /// with its source column's reading.
    static func decode(_ rows: [PostgresRow], names: [String], placement: Placement, skip: Int, firstRow: Int) throws
        -> RecordBatch
    {
        let columns = names.map { name in
            (name: name, reading: placement.reading(name) ?? PostgresColumnType(oid: 25, serverType: "text"))
        }
        let schema = Schema(columns.map { Field($0.name, $0.reading.type) })
        return try PostgresSourceReader.batch(rows, schema: schema, columns: columns, firstRow: firstRow, skip: skip)
    }

}

/// A query PostgreSQL refused or could not finish: the server's message (with the position
/// in the query when it gave one), what the query was for, and the file holding the SQL.
public struct PostgresEngineError: Error, CustomStringConvertible {
    public var description: String

    init(failure: PostgresFailure, sql: String, purpose: String, folder: String) {
        var message = "PostgreSQL could not compute \(purpose): \(failure.description)"
        let fm = FileManager.default
        let name = "failed-\(Timestamp.now.microseconds)-\(ProcessInfo.processInfo.processIdentifier).sql"
        let path = folder + "/" + name
        if (try? fm.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil,
            fm.createFile(atPath: path, contents: Data((sql + "\n").utf8))
        {
            message += "\n    the query is in \(path)"
        } else {
            message += "\n    the query:\n" + sql
        }
        description = message
    }
}
