import PostgresNIO
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraPostgres
import TesseraSQL
import TesseraSourcePostgres

/// The as-of joins of one training set, run by PostgreSQL on one connection inside the
/// engine's transaction: entity rows uploaded once per key set and ttl, one query per view.
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

    /// What makes two steps' entity tables the same: the keys' upload types and the ttl.
    static func signature(keys: [JoinKey], ttl: Int64) -> String {
        keys.map { PostgresArrayParameter.Element(key: $0.type)?.sqlType ?? "?" }.joined(separator: ",") + "/\(ttl)"
    }

    /// The temporary table of the step's entity rows (`__row`, `__k0…`, `__ts`, `__lo`),
    /// uploaded on first use. Rows with a null key or time can match nothing and are left out.
    func upload(_ step: PushdownStep) throws -> String {
        let elements = step.keys.compactMap { PostgresArrayParameter.Element(key: $0.type) }
        let ttl = step.view.ttl.microseconds
        let signature = Self.signature(keys: step.keys, ttl: ttl)
        if let known = tables[signature] { return known }
        let table = "tessera_entities_\(tables.count)"
        let place = engine.pool.place
        var columns = ["__row int8"]
        columns += elements.enumerated().map { "__k\($0) \($1.sqlType)" }
        columns += ["__ts timestamptz", "__lo timestamptz"]
        try PostgresConnections.run(
            PostgresQuery(
                unsafeSQL: "CREATE TEMPORARY TABLE \(table) (\(columns.joined(separator: ", "))) ON COMMIT DROP"),
            on: connection, place: place)
        let times = step.entityTimes
        let values = times.int64Values ?? []
        var rows: [Int] = []
        rows.reserveCapacity(times.count)
        for row in 0..<times.count where times.isValid(row) && step.entityKeys.allSatisfy({ $0.isValid(row) }) {
            rows.append(row)
        }
        var lows = values
        if ttl > 0 { for i in lows.indices { lows[i] = lows[i] &- ttl } }
        let low = Column(
            type: .timestamp, data: .int64(lows),
            validity: ttl > 0 ? times.validity : Bitmap(count: times.count, value: false))
        let placeholders = (1...(elements.count + 3)).map { i -> String in
            let type = i == 1 ? "int8" : (i <= elements.count + 1 ? elements[i - 2].sqlType : "timestamptz")
            return "$\(i)::\(type)[]"
        }
        let insert =
            "INSERT INTO \(table) SELECT * FROM unnest(\(placeholders.joined(separator: ", ")))"
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + engine.uploadRows)]
            var binds = PostgresBindings()
            binds.append(PostgresArrayParameter(column: nil, element: .int64, rows: chunk))
            for (key, element) in zip(step.entityKeys, elements) {
                binds.append(PostgresArrayParameter(column: key, element: element, rows: chunk))
            }
            binds.append(PostgresArrayParameter(column: times, element: .timestamp, rows: chunk))
            binds.append(PostgresArrayParameter(column: low, element: .timestamp, rows: chunk))
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
