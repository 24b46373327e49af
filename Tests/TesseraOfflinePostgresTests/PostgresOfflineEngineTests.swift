import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOffline
import TesseraPostgres
import TesseraSQL
import TesseraSourcePostgres
import TesseraTesting
import Testing

@testable import TesseraOfflinePostgres

/// `offline_store: {type: postgres}` against a real server: random tables with heavy ties,
/// null keys, times and created times, each joined by PostgreSQL and compared value by value
/// with the native engine reading the same table and with the rules written plainly.
@Suite(.serialized) struct PostgresOfflineEngineTests {
    static let base = Timestamp(microseconds: 1_767_225_600_000_000)  // 2026-01-01T00:00:00Z

    /// One random case: source rows and entity rows over a few keys and ~30 seconds, so that
    /// equal event times, equal created times and windows' edges are common.
    struct Case {
        var keys: [Int64?] = []
        var events: [Int64?] = []
        var created: [Int64?] = []
        var values: [Double?] = []
        var names: [String?] = []
        var counts: [Int32?] = []
        var entityKeys: [Int64?] = []
        var entityTimes: [Int64?] = []
        var ttlSeconds: Int64
        var hasCreated: Bool
        var stringKeys: Bool

        init(seed: UInt64) {
            var rng = SplitMixRNG(seed: seed)
            ttlSeconds = [0, 1, 5, 12][rng.below(4)]
            hasCreated = rng.below(3) != 0
            stringKeys = rng.below(4) == 0
            func maybe<T>(_ value: T, nullOneIn n: Int) -> T? { rng.below(n) == 0 ? nil : value }
            for _ in 0..<(rng.below(60) + 1) {
                keys.append(maybe(Int64(rng.below(6)), nullOneIn: 12))
                events.append(maybe(Int64(rng.below(12)), nullOneIn: 15))
                created.append(maybe(Int64(rng.below(3)), nullOneIn: 6))
                values.append(maybe(Double(rng.below(1000)) / 8 - 40, nullOneIn: 5))
                names.append(maybe(["a", "b", "ç", "a b", ""][rng.below(5)], nullOneIn: 5))
                counts.append(maybe(Int32(rng.below(100)) - 50, nullOneIn: 5))
            }
            for _ in 0..<(rng.below(40)) {
                entityKeys.append(maybe(Int64(rng.below(7)), nullOneIn: 10))
                entityTimes.append(maybe(Int64(rng.below(16)), nullOneIn: 10))
            }
        }

        func instant(_ seconds: Int64) -> Int64 { PostgresOfflineEngineTests.base.microseconds + seconds * 1_000_000 }

        /// The source as SQL statements, rows inserted in order (their physical order).
        func sql(table: String) -> String {
            func literal<T>(_ value: T?, _ show: (T) -> String) -> String { value.map(show) ?? "NULL" }
            let key = stringKeys ? "text" : "bigint"
            var out =
                "CREATE TABLE \(table) (driver_id \(key), ts timestamptz, created timestamptz, value float8, name text, n integer);\n"
            guard !keys.isEmpty else { return out }
            let rows = keys.indices.map { i in
                let k = literal(keys[i]) { stringKeys ? "'k\($0)'" : "\($0)" }
                let e = literal(events[i]) { "'\(Timestamp(microseconds: instant($0)).iso8601)'" }
                let c = literal(created[i]) { "'\(Timestamp(microseconds: instant($0)).iso8601)'" }
                let v = literal(values[i]) { "\($0)" }
                let s = literal(names[i]) { "'\($0)'" }
                let n = literal(counts[i]) { "\($0)" }
                return "(\(k), \(e), \(c), \(v), \(s), \(n))"
            }
            out += "INSERT INTO \(table) VALUES " + rows.joined(separator: ", ") + ";\n"
            return out
        }

        var entities: RecordBatch {
            get throws {
                let keyColumn: Column =
                    stringKeys
                    ? Column(type: .string, scalars: entityKeys.map { $0.map { .string("k\($0)") } ?? .null })!
                    : Column(type: .int64, scalars: entityKeys.map { $0.map { .int64($0) } ?? .null })!
                let times = Column(
                    type: .timestamp,
                    scalars: entityTimes.map { $0.map { .timestamp(Timestamp(microseconds: instant($0))) } ?? .null })!
                let labels = Column.int64(entityKeys.indices.map { Int64($0) })
                return try RecordBatch(
                    schema: Schema([
                        Field("driver_id", keyColumn.type), Field("event_timestamp", .timestamp),
                        Field("label", .int64),
                    ]), columns: [keyColumn, times, labels])
            }
        }

        /// The rules, written plainly: every source row considered for every entity row, the
        /// later row winning a full tie.
        func chosen(createdNotAfterTime: Bool) -> [Int] {
            entityKeys.indices.map { i in
                guard let key = entityKeys[i], let t = entityTimes[i] else { return -1 }
                var best = -1
                var bestKey: (Int64, Int64) = (0, 0)
                for j in keys.indices {
                    guard keys[j] == key, let e = events[j] else { continue }
                    let c = hasCreated ? (created[j] ?? Int64.min) : Int64.min
                    if e > t || (ttlSeconds > 0 && e < t - ttlSeconds) { continue }
                    if createdNotAfterTime && hasCreated && c != Int64.min && c > t { continue }
                    if best < 0 || (e, c) >= bestKey {
                        best = j
                        bestKey = (e, c)
                    }
                }
                return best
            }
        }
    }

    static func definitions(url: String, table: String, relation: PostgresRelation? = nil, case c: Case)
        -> Definitions
    {
        Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", c.stringKeys ? .string : .int64)])],
            sources: [
                DataSource(
                    name: "stats", kind: .postgres(relation ?? PostgresRelation(url: url, table: table)),
                    timestampField: "ts", createdTimestampField: c.hasCreated ? "created" : nil)
            ],
            featureViews: [
                FeatureView(
                    name: "driver_stats", entities: ["driver"], source: "stats",
                    features: [Feature("value", .float64), Feature("name", .string), Feature("n", .int64)],
                    ttl: .seconds(c.ttlSeconds))
            ])
    }

    /// A server, a folder for the repository's files, and the server's URL.
    static func fixture(_ name: String) throws -> (PostgresServerProcess, TemporaryDirectory, String) {
        let server = try PostgresServerProcess()
        let dir = try TemporaryDirectory(name)
        return (server, dir, "postgresql://postgres:\(server.password)@127.0.0.1:\(server.port)/postgres")
    }

    /// What a test of the engine runs on: a PostgreSQL server, a directory, and both engines.
    struct Setup {
        let server: PostgresServerProcess
        let dir: TemporaryDirectory
        let url: String
        let native: NativeEngine
        let engine: PostgresOfflineEngine
    }

    /// Runs `body` with a fresh server and directory (stopped and removed after it), off
    /// Swift's cooperative threads: minutes of blocking work would starve the async (HTTP)
    /// tests that run beside these suites on a 2-core machine.
    static func withEngines(_ name: String, _ body: @escaping @Sendable (Setup) throws -> Void) async throws {
        try await runOffPool {
            let (server, dir, url) = try fixture(name)
            defer {
                server.stop()
                dir.remove()
            }
            let (native, engine) = engines(server, root: dir.path)
            try body(Setup(server: server, dir: dir, url: url, native: native, engine: engine))
        }
    }

    static func engines(_ server: PostgresServerProcess, root: String) -> (NativeEngine, PostgresOfflineEngine) {
        let native = NativeEngine(root: root, threads: 2, connectors: [PostgresSourceConnector()])
        var engine = PostgresOfflineEngine(
            endpoint: PostgresEndpoint(
                host: "127.0.0.1", port: server.port, user: "postgres", password: server.password,
                database: "postgres"),
            native: native)
        engine.fetchRows = 7  // several batches per result
        engine.uploadRows = 5  // several upload statements per entity table
        return (native, engine)
    }

    @Test func randomCasesEqualTheNativeEngineAndTheRules() async throws {
        try await Self.withEngines("pg-engine") { setup in
            let (server, url, native, engine) = (setup.server, setup.url, setup.native, setup.engine)
            let cases = (0..<40).map { Case(seed: UInt64($0) &* 7919 &+ 17) }
            try server.psql(cases.enumerated().map { $1.sql(table: "t\($0)") }.joined())
            var pushed = 0
            for (i, c) in cases.enumerated() {
                let definitions = Self.definitions(url: url, table: "t\(i)", case: c)
                let entities = try c.entities
                for guardCreated in [false, true] {
                    let request = TrainingSetRequest(
                        spine: .entities(entities, name: "entities"), selection: .features(["driver_stats"]),
                        createdNotAfterTime: guardCreated, threads: 2)
                    let ours = try engine.trainingSet(request, definitions: definitions) { _ in }
                    let theirs = try native.trainingSet(request, definitions: definitions) { _ in }
                    #expect(ours.batch == theirs.batch, "case \(i), no-future-created \(guardCreated)")
                    #expect(ours.rowsWithAllFeatures == theirs.rowsWithAllFeatures, "case \(i)")
                    if try !engine.placements(for: request, definitions: definitions).isEmpty { pushed += 1 }
                    // The rules: the chosen row's values, or nulls.
                    let chosen = c.chosen(createdNotAfterTime: guardCreated)
                    let values = try #require(ours.batch.column(named: "value"))
                    let names = try #require(ours.batch.column(named: "name"))
                    let counts = try #require(ours.batch.column(named: "n"))
                    for (row, pick) in chosen.enumerated() {
                        let expected: (ScalarValue, ScalarValue, ScalarValue) =
                            pick < 0
                            ? (.null, .null, .null)
                            : (
                                c.values[pick].map { .float64($0) } ?? .null,
                                c.names[pick].map { .string($0) } ?? .null,
                                c.counts[pick].map { .int64(Int64($0)) } ?? .null
                            )
                        #expect(
                            values.value(at: row) == expected.0 && names.value(at: row) == expected.1
                                && counts.value(at: row) == expected.2,
                            "case \(i) row \(row) no-future-created \(guardCreated): chose \(pick)")
                    }
                }
            }
            #expect(pushed > 50, "most cases have entity rows with keys and times, and run in PostgreSQL")
        }
    }

    @Test func latestRowsEqualTheNativeEngines() async throws {
        try await Self.withEngines("pg-engine-latest") { setup in
            let (server, url, native, engine) = (setup.server, setup.url, setup.native, setup.engine)
            let cases = (0..<20).map { Case(seed: UInt64($0) &* 104_729 &+ 3) }
            try server.psql(cases.enumerated().map { $1.sql(table: "t\($0)") }.joined())
            for (i, c) in cases.enumerated() {
                let definitions = Self.definitions(url: url, table: "t\(i)", case: c)
                let view = try #require(definitions.featureView("driver_stats"))
                for (start, end) in [(0, 12), (3, 8), (40, 50)] as [(Int64, Int64)] {
                    let request = LatestRowsRequest(
                        view: view, start: Timestamp(microseconds: c.instant(start)),
                        end: Timestamp(microseconds: c.instant(end)), batchRows: 3)
                    func rows(_ engine: any OfflineEngine) throws -> [[ScalarValue]] {
                        var out: [[ScalarValue]] = []
                        _ = try engine.latestRows(request, definitions: definitions, progress: { _ in }) { batch in
                            #expect(batch.rowCount <= 3)
                            #expect(batch.schema == LatestRows.schema(of: view, definitions: definitions))
                            let columns = batch.columns.map(\.values)
                            for r in 0..<batch.rowCount { out.append(columns.map { $0[r] }) }
                        }
                        return out.sorted { "\($0[0])" < "\($1[0])" }
                    }
                    #expect(try rows(engine) == rows(native), "case \(i), \(start)...\(end)")
                }
            }
        }
    }

    @Test func viewsElsewhereRunNativelyAndExplainSaysWhere() throws {
        let (server, dir, url) = try Self.fixture("pg-engine-mixed")
        defer {
            server.stop()
            dir.remove()
        }
        let (native, engine) = Self.engines(server, root: dir.path)
        let c = Case(seed: 99)
        try server.psql(c.sql(table: "stats"))
        // The same rows as a CSV file: a view over it is joined natively.
        var csv = "driver_id,ts,created,value,name,n\n"
        for i in c.keys.indices {
            let key = c.keys[i].map { c.stringKeys ? "k\($0)" : "\($0)" } ?? ""
            let e = c.events[i].map { Timestamp(microseconds: c.instant($0)).iso8601 } ?? ""
            let cr = c.created[i].map { Timestamp(microseconds: c.instant($0)).iso8601 } ?? ""
            csv +=
                "\(key),\(e),\(cr),\(c.values[i].map { "\($0)" } ?? ""),\(c.names[i] ?? ""),\(c.counts[i].map { "\($0)" } ?? "")\n"
        }
        try csv.write(toFile: dir.file("stats.csv"), atomically: true, encoding: .utf8)
        var definitions = Self.definitions(url: url, table: "stats", case: c)
        definitions.sources.append(
            DataSource(
                name: "stats_file", kind: .file(path: "stats.csv", format: .csv), timestampField: "ts",
                createdTimestampField: c.hasCreated ? "created" : nil))
        definitions.featureViews.append(
            FeatureView(
                name: "file_stats", entities: ["driver"], source: "stats_file",
                features: [Feature("n", .int64)], ttl: .seconds(c.ttlSeconds)))
        let request = TrainingSetRequest(
            spine: .entities(try c.entities, name: "entities"),
            selection: .features(["driver_stats:value", "file_stats:n"]), fullFeatureNames: true, threads: 2)
        let ours = try engine.trainingSet(request, definitions: definitions) { _ in }
        let theirs = try native.trainingSet(request, definitions: definitions) { _ in }
        #expect(ours.batch == theirs.batch)
        let plan = try engine.explain(request, definitions: definitions)
        #expect(plan.contains("driver_stats: as-of join of value in PostgreSQL"), "\(plan)")
        #expect(plan.contains("SELECT DISTINCT ON (e.__row)"), "\(plan)")
        #expect(
            plan.contains(
                "file_stats: as-of join of n over source 'stats_file' by the native engine (its source 'stats_file' is not a PostgreSQL table or query)"
            ), "\(plan)")
        #expect(!plan.contains(server.password))
        let nativePlan = try native.explain(request, definitions: definitions)
        #expect(nativePlan.contains("runs no SQL") && nativePlan.contains("driver_stats: as-of join of value"))
    }

    @Test func aRefusedQueryNamesTheServersReasonAndSavesTheSQL() throws {
        let (server, dir, url) = try Self.fixture("pg-engine-error")
        defer {
            server.stop()
            dir.remove()
        }
        let (_, engine) = Self.engines(server, root: dir.path)
        var c = Case(seed: 5)
        c.ttlSeconds = 0
        c.stringKeys = false
        c.entityKeys = [1, 2]
        c.entityTimes = [20, 25]
        c.keys = [1, 2]
        c.events = [10, 11]
        c.created = [1, 1]
        c.values = [1, 2]
        c.names = ["a", "b"]
        c.counts = [3, 3]
        try server.psql(c.sql(table: "stats"))
        // A query whose value column divides by zero: PostgreSQL fails while joining.
        let relation = PostgresRelation(
            url: url,
            query: "SELECT driver_id, ts, created, value / (n - n) AS value, name, n FROM stats")
        let definitions = Self.definitions(url: url, table: "stats", relation: relation, case: c)
        let request = TrainingSetRequest(
            spine: .entities(try c.entities, name: "entities"), selection: .features(["driver_stats"]))
        var message = ""
        do {
            _ = try engine.trainingSet(request, definitions: definitions) { _ in }
            Issue.record("the training set was built")
        } catch {
            message = "\(error)"
        }
        #expect(message.contains("point-in-time join of driver_stats"), "\(message)")
        #expect(message.contains("division by zero") || message.contains("division_by_zero"), "\(message)")
        #expect(!message.contains(server.password), "\(message)")
        let path = try #require(
            message.components(separatedBy: "the query is in ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let saved = try String(contentsOfFile: path, encoding: .utf8)
        #expect(saved.contains("SELECT DISTINCT ON (e.__row)") && saved.contains("value / (n - n)"), "\(saved)")
        // The connection is usable afterwards.
        let fine = Self.definitions(url: url, table: "stats", case: c)
        let built = try engine.trainingSet(request, definitions: fine) { _ in }
        #expect(built.rowsWithAllFeatures == 2)
    }

    /// The reference workload S (1M source rows in a table, 100,000 entity rows) joined by
    /// PostgreSQL equals DuckDB's exact-rules join of the same Parquet files, row by row.
    @Test func workloadSEqualsDuckDB() async throws {
        try await Self.withEngines("pg-engine-oracle") { setup in
            let (server, dir, url) = (setup.server, setup.dir, setup.url)
            var fast = setup.engine
            fast.fetchRows = 50_000
            fast.uploadRows = 100_000
            try TrainingSetOracle.writeWorkload("S", into: dir.path)
            try server.load(
                parquet: dir.file("driver_stats.parquet"), table: "driver_stats", scratch: dir.file("stats.csv"))
            let definitions = TrainingSetOracle.definitions(
                ttl: .days(2), source: .postgres(PostgresRelation(url: url, table: "driver_stats")))
            let request = TrainingSetRequest(
                spine: .entities(try Dataset.open(dir.file("entity_df.parquet")).read(), name: "entity_df"),
                selection: .features(["driver_hourly_stats"]))
            #expect(try !fast.placements(for: request, definitions: definitions).isEmpty)
            let ours = try fast.trainingSet(request, definitions: definitions) { _ in }
            #expect(ours.rows == 100_000)
            TrainingSetOracle.compare(ours.batch, try TrainingSetOracle.duckdb(dir.path, ttlSeconds: 2 * 86_400), "S")
        }
    }

    @Test func theGeneratedJoinHasTheDocumentedShapeInBothDialects() {
        let scan = SourceScanSQL(
            source: #""public"."stats""#, keys: [#""driver_id""#], eventColumn: "ts", createdColumn: "created",
            outputs: [#""driver_id""#, #""value""#], rowOrder: ["ctid"], lower: 0, upper: 1_000_000)
        let join = PointInTimeSQL(entities: "tessera_entities_0", scan: scan, bounded: true, createdNotAfterTime: true)
        #expect(
            join.sql(.postgres) == """
                SELECT DISTINCT ON (e.__row) e.__row, s.c0, s.c1
                FROM tessera_entities_0 e
                JOIN (SELECT "driver_id" AS __k0, "ts" AS __ts, "created" AS __cr, ctid AS __tb0, "driver_id" AS c0, "value" AS c1 FROM "public"."stats" WHERE "ts" >= '1970-01-01T00:00:00Z'::timestamptz AND "ts" <= '1970-01-01T00:00:01Z'::timestamptz) s
                  ON s.__k0 = e.__k0 AND s.__ts <= e.__ts AND s.__ts >= e.__lo AND (s.__cr IS NULL OR s.__cr <= e.__ts)
                ORDER BY e.__row, s.__ts DESC, s.__cr DESC NULLS LAST, s.__tb0 DESC
                """)
        let spark = join.sql(.spark)
        #expect(spark.contains("ROW_NUMBER() OVER (PARTITION BY e.__row ORDER BY s.__ts DESC, s.__cr DESC NULLS LAST"))
        #expect(spark.contains("`ts` >= TIMESTAMP '1970-01-01T00:00:00Z'") && spark.contains("WHERE __rank = 1"))
        let latest = LatestRowsSQL(scan: scan).sql(.postgres)
        #expect(latest.hasPrefix("SELECT DISTINCT ON (__k0) c0, c1\nFROM (SELECT"))
        #expect(latest.hasSuffix("WHERE __k0 IS NOT NULL\nORDER BY __k0, __ts DESC, __cr DESC NULLS LAST, __tb0 DESC"))
        #expect(SQLDialect.postgres.quoted(#"a"b"#) == #""a""b""#)
        #expect(SQLDialect.spark.quoted("a`b") == "`a``b`")
    }
}
