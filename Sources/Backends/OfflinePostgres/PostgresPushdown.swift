import PostgresNIO
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraPostgres
import TesseraSQL
import TesseraSourcePostgres

/// The as-of joins and window aggregations of one training set, run by PostgreSQL on one
/// connection inside the engine's transaction: entity rows uploaded once per key set and
/// window starts, one query per view.
final class PostgresPushdown: AsOfJoinPushdown {
    let engine: PostgresOfflineEngine
    let definitions: Definitions
    let connection: PostgresConnection
    /// The views PostgreSQL joins, placed by the engine for this request.
    let placements: [String: PostgresOfflineEngine.Placement]
    /// Uploaded entity tables, by key types and ttl.
    private var tables: [String: String] = [:]

    init(
        engine: PostgresOfflineEngine, definitions: Definitions, connection: PostgresConnection,
        placements: [String: PostgresOfflineEngine.Placement]
    ) {
        self.engine = engine
        self.definitions = definitions
        self.connection = connection
        self.placements = placements
    }

    func join(_ step: PushdownStep) throws -> PushdownResult? {
        guard let placement = placements[step.view.name] else { return nil }
        let entities = try upload(step)
        let (scan, names) = engine.scan(
            placement, view: step.view, features: step.features, definitions: definitions, lower: step.lower,
            upper: step.timeRange.1)
        let sql = PointInTimeSQL(
            entities: entities, scan: scan, bounded: step.view.ttl.microseconds > 0,
            createdNotAfterTime: step.createdNotAfterTime
        ).sql(.postgres)
        var collector = PushdownCollector(features: step.features, entityRows: step.entityTimes.count)
        try engine.run(sql, purpose: "the point-in-time join of \(step.view.name)", on: connection) { rows, first in
            let batch = try PostgresOfflineEngine.decode(
                rows, names: names, placement: placement, skip: 1, firstRow: first)
            let typed = try TypedSourceBatch(
                batch, source: placement.source, columns: placement.sourceColumns, keys: step.keys,
                features: step.features, view: step.view.name)
            var entityRows: [Int] = []
            entityRows.reserveCapacity(rows.count)
            for row in rows {
                guard let bytes = row.first?.bytes, bytes.readableBytes == 8,
                    let at = bytes.getInteger(at: bytes.readerIndex, as: Int64.self)
                else {
                    throw PostgresEngineError.unexpected("a row without its entity row number", view: step.view.name)
                }
                entityRows.append(Int(truncatingIfNeeded: at))
            }
            try collector.add(typed.features, rows: entityRows, view: step.view.name)
        }
        return try collector.result()
    }

    func aggregate(_ step: AggregationStep) throws -> PushdownResult? {
        guard let placement = placements[step.view.name],
            case .success(let (partials, scan)) = engine.aggregationScan(
                placement, view: step.view, features: step.features, definitions: definitions, range: step.timeRange)
        else { return nil }
        let entities = try upload(
            keys: step.keys, entityKeys: step.entityKeys, times: step.entityTimes,
            lows: Self.lows(of: partials))
        let sql = WindowAggregationSQL(entities: entities, scan: scan, partials: partials).sql(.postgres)
        let readings =
            [Self.int8] + partials.banded.map { _ in Self.int8 }
            + partials.parts.map { engine.reading(of: $0, partials: partials, placement: placement) }
        let names = readings.indices.map { "p\($0)" }
        let schema = Schema(zip(names, readings).map { Field($0, $1.type) })
        var collector = AggregationCollector(partials: partials, features: step.features, entityTimes: step.entityTimes)
        try engine.run(sql, purpose: "the window aggregations of \(step.view.name)", on: connection) { rows, first in
            let batch = try PostgresSourceReader.batch(
                rows, schema: schema, columns: Array(zip(names, readings)), firstRow: first)
            let bands = partials.banded.indices.map { batch.columns[1 + $0] }
            let parts = partials.parts.indices.map { batch.columns[1 + partials.banded.count + $0] }
            let entityRows = (batch.columns[0].int64Values ?? []).map { Int($0) }
            try collector.add(rows: entityRows, bands: bands, parts: parts, view: step.view.name)
        }
        return try collector.result(view: step.view.name)
    }

    static let int8 = PostgresColumnType(oid: 20, serverType: "bigint")

    /// The window starts of an aggregation's entity table: `__lo0…`, null for lifetime.
    static func lows(of partials: AggregationPartials) -> [(name: String, span: Int64?)] {
        partials.windows.enumerated().map { ("__lo\($0)", $1) }
    }

    /// The window start of a join's entity table: `__lo`, the time minus the ttl.
    static func lows(ttl: Int64) -> [(name: String, span: Int64?)] { [("__lo", ttl > 0 ? ttl : nil)] }

    /// What makes two steps' entity tables the same: the keys' upload types and the window starts.
    static func signature(keys: [JoinKey], lows: [(name: String, span: Int64?)]) -> String {
        keys.map { PostgresArrayParameter.Element(key: $0.type)?.sqlType ?? "?" }.joined(separator: ",") + "/"
            + lows.map { "\($0.name)=\($0.span.map(String.init) ?? "-")" }.joined(separator: ",")
    }

    func upload(_ step: PushdownStep) throws -> String {
        try upload(
            keys: step.keys, entityKeys: step.entityKeys, times: step.entityTimes,
            lows: Self.lows(ttl: step.view.ttl.microseconds))
    }

    /// The temporary table of the entity rows (`__row`, `__k0…`, `__ts`, then each of `lows`:
    /// the time minus its span, null without one), uploaded on first use. Rows with a null
    /// key or time can match nothing and are left out.
    func upload(keys: [JoinKey], entityKeys: [Column], times: Column, lows: [(name: String, span: Int64?)]) throws
        -> String
    {
        let elements = keys.compactMap { PostgresArrayParameter.Element(key: $0.type) }
        let signature = Self.signature(keys: keys, lows: lows)
        if let known = tables[signature] { return known }
        let table = "tessera_entities_\(tables.count)"
        let place = engine.pool.place
        var columns = ["__row int8"]
        columns += elements.enumerated().map { "__k\($0) \($1.sqlType)" }
        columns += ["__ts timestamptz"] + lows.map { "\($0.name) timestamptz" }
        try PostgresConnections.run(
            PostgresQuery(
                unsafeSQL: "CREATE TEMPORARY TABLE \(table) (\(columns.joined(separator: ", "))) ON COMMIT DROP"),
            on: connection, place: place)
        let values = times.int64Values ?? []
        var rows: [Int] = []
        rows.reserveCapacity(times.count)
        for row in 0..<times.count where times.isValid(row) && entityKeys.allSatisfy({ $0.isValid(row) }) {
            rows.append(row)
        }
        let starts = lows.map { low in
            Column(
                type: .timestamp, data: .int64(low.span.map { span in values.map { $0 &- span } } ?? values),
                validity: low.span == nil ? Bitmap(count: times.count, value: false) : times.validity)
        }
        let types = ["int8"] + elements.map(\.sqlType) + Array(repeating: "timestamptz", count: 1 + lows.count)
        let placeholders = types.enumerated().map { "$\($0 + 1)::\($1)[]" }
        let insert =
            "INSERT INTO \(table) SELECT * FROM unnest(\(placeholders.joined(separator: ", ")))"
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + engine.uploadRows)]
            var binds = PostgresBindings()
            binds.append(PostgresArrayParameter(column: nil, element: .int64, rows: chunk))
            for (key, element) in zip(entityKeys, elements) {
                binds.append(PostgresArrayParameter(column: key, element: element, rows: chunk))
            }
            binds.append(PostgresArrayParameter(column: times, element: .timestamp, rows: chunk))
            for low in starts { binds.append(PostgresArrayParameter(column: low, element: .timestamp, rows: chunk)) }
            try PostgresConnections.run(PostgresQuery(unsafeSQL: insert, binds: binds), on: connection, place: place)
            start += chunk.count
        }
        // Sizes for the planner: without them it guesses a small table and may pick a nested loop.
        try PostgresConnections.run(PostgresQuery(unsafeSQL: "ANALYZE \(table)"), on: connection, place: place)
        tables[signature] = table
        return table
    }
}

extension PostgresEngineError {
    static func unexpected(_ what: String, view: String) -> PostgresEngineError {
        PostgresEngineError(description: "PostgreSQL returned \(what) for the point-in-time join of \(view)")
    }

    init(description: String) { self.description = description }
}
