import Foundation
import PostgresNIO
import TesseraCore
import TesseraDefinitions
import TesseraPostgres
import TesseraRegistry

/// The registry in PostgreSQL, shared by every machine of a deployment
/// (`registry: {type: postgres, url: postgresql://…}`).
///
/// The same tables as the embedded registry, in a schema of their own (`tessera` by
/// default), created on first use. An apply is one transaction that locks the versions
/// table, checks the version the plan was made against and inserts the new one: two
/// machines applying at once serialize on the lock, and the second fails with
/// "the registry moved on" and writes nothing.
///
/// Calls block the calling thread on one connection (`PostgresConnections`), reopened
/// after the server restarts.
public final class PostgresRegistry: RegistryStore {
    public let endpoint: PostgresEndpoint
    public let schema: String
    private let connections: PostgresConnections

    static let schemaVersion = 1

    public init(endpoint: PostgresEndpoint, schema: String = "tessera") {
        self.endpoint = endpoint
        self.schema = schema
        // An apply waits its turn on the versions table: no statement timeout.
        connections = PostgresConnections(endpoint: endpoint, connections: 1) {
            (connection, place) throws(PostgresFailure) in
            try PostgresRegistry.createTables(schema, on: connection, place: place)
        }
    }

    /// What errors name: the server, never the password.
    var place: String { endpoint.description }

    private var table: (String) -> String { { "\"\(self.schema)\".\($0)" } }

    private func fail(_ failure: PostgresFailure) -> RegistryError {
        RegistryError(.io, path: place, failure.description)
    }

    /// The registry's tables, created if missing, before the first statement of the process.
    private static func createTables(_ schema: String, on connection: PostgresConnection, place: String)
        throws(PostgresFailure)
    {
        let table = { (name: String) in "\"\(schema)\".\(name)" }
        try PostgresConnections.create(
            [
                "CREATE SCHEMA IF NOT EXISTS \"\(schema)\"",
                """
                CREATE TABLE IF NOT EXISTS \(table("versions"))(
                    version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL, "user" TEXT NOT NULL,
                    project TEXT NOT NULL, digest TEXT NOT NULL, plan TEXT NOT NULL, definitions TEXT NOT NULL)
                """,
                """
                CREATE TABLE IF NOT EXISTS \(table("watermarks"))(
                    view TEXT PRIMARY KEY, start BIGINT NOT NULL, "end" BIGINT NOT NULL, recorded_at BIGINT NOT NULL)
                """,
                "CREATE TABLE IF NOT EXISTS \(table("pending_drops"))(view TEXT PRIMARY KEY)",
            ], lock: 7_368_757_373, on: connection, place: place)
    }

    private func run(_ query: PostgresQuery) throws(RegistryError) -> PostgresQueryResult {
        do throws(PostgresFailure) {
            return try connections.run(query)
        } catch {
            throw fail(error)
        }
    }

    private func run(_ query: PostgresQuery, on connection: PostgresConnection) throws(RegistryError)
        -> PostgresQueryResult
    {
        do throws(PostgresFailure) {
            return try PostgresConnections.run(query, on: connection, place: place)
        } catch {
            throw fail(error)
        }
    }

    /// `body` inside `BEGIN … COMMIT` on one connection; rolled back when it throws.
    private func transaction<T: Sendable>(_ body: (PostgresConnection) throws(RegistryError) -> T)
        throws(RegistryError) -> T
    {
        try connections.transaction({ [place] in RegistryError(.io, path: place, $0.description) }, body)
    }

    private func decode<T>(_ body: () throws -> T) throws(RegistryError) -> T {
        do {
            return try body()
        } catch {
            throw RegistryError(.corrupt, path: place, "a registry row does not decode: \(error)")
        }
    }

    public func head() throws(RegistryError) -> (version: Int, digest: String)? {
        let rows = try run(
            PostgresQuery(unsafeSQL: "SELECT version, digest FROM \(table("versions")) ORDER BY version DESC LIMIT 1"))
        guard let row = rows.first else { return nil }
        let (version, digest) = try decode { try row.decode((Int64, String).self) }
        return (Int(version), digest)
    }

    public func current() throws(RegistryError) -> RegistrySnapshot? {
        let rows = try run(
            PostgresQuery(
                unsafeSQL:
                    "SELECT version, applied_at, \"user\", digest, plan, project, definitions FROM \(table("versions")) ORDER BY version DESC LIMIT 1"
            ))
        guard let row = rows.first else { return nil }
        return try decode {
            let (version, at, user, digest, plan, project, definitions) = try row.decode(
                (Int64, Int64, String, String, String, String, String).self)
            return RegistrySnapshot(
                version: try Self.version(version, at, user, digest, plan), project: project,
                definitions: try JSONDecoder().decode(Definitions.self, from: Data(definitions.utf8)))
        }
    }

    static func version(_ version: Int64, _ at: Int64, _ user: String, _ digest: String, _ plan: String) throws
        -> RegistryVersion
    {
        RegistryVersion(
            version: Int(version), appliedAt: Timestamp(microseconds: at), user: user, digest: digest,
            plan: try JSONDecoder().decode(Plan.self, from: Data(plan.utf8)))
    }

    public func apply(
        _ definitions: Definitions, plan: Plan, project: String, user: String, expectedVersion: Int?,
        at time: Timestamp, dropOnline: [String]
    ) throws(RegistryError) -> RegistryVersion {
        let normalized = definitions.normalized
        let digest = CanonicalFields.digest(normalized)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let (definitionsJSON, planJSON) = try decode {
            (
                String(decoding: try encoder.encode(normalized), as: UTF8.self),
                String(decoding: try encoder.encode(plan), as: UTF8.self)
            )
        }
        return try transaction { (connection) throws(RegistryError) -> RegistryVersion in
            // Applies from every machine queue here; reads go on meanwhile.
            _ = try run(PostgresQuery(unsafeSQL: "LOCK TABLE \(table("versions")) IN EXCLUSIVE MODE"), on: connection)
            let rows = try run(
                PostgresQuery(
                    unsafeSQL: "SELECT version, project FROM \(table("versions")) ORDER BY version DESC LIMIT 1"),
                on: connection)
            var latest: (version: Int, project: String)?
            if let row = rows.first {
                let (version, applied) = try decode { try row.decode((Int64, String).self) }
                latest = (Int(version), applied)
            }
            try ApplyRules.check(latest: latest, project: project, expectedVersion: expectedVersion, path: place)
            let version = (latest?.version ?? 0) + 1
            let insert: PostgresQuery = """
                INSERT INTO \(unescaped: table("versions"))(version, applied_at, "user", project, digest, plan, definitions)
                VALUES (\(Int64(version)), \(time.microseconds), \(user), \(project), \(digest), \(planJSON), \(definitionsJSON))
                """
            _ = try run(insert, on: connection)
            for view in dropOnline {
                _ = try run(
                    "INSERT INTO \(unescaped: table("pending_drops"))(view) VALUES (\(view)) ON CONFLICT DO NOTHING",
                    on: connection)
            }
            if let text = ProcessInfo.processInfo.environment["TESSERA_TEST_APPLY_PAUSE_MS"], let ms = UInt32(text) {
                FileHandle.standardError.write(Data("apply: holding the transaction open for \(ms) ms\n".utf8))
                usleep(ms * 1000)
            }
            return RegistryVersion(version: version, appliedAt: time, user: user, digest: digest, plan: plan)
        }
    }

    public func history(limit: Int?) throws(RegistryError) -> [RegistryVersion] {
        let rows = try run(
            PostgresQuery(
                unsafeSQL:
                    "SELECT version, applied_at, \"user\", digest, plan FROM \(table("versions")) ORDER BY version DESC"
                    + (limit.map { " LIMIT \(max(0, $0))" } ?? "")))
        return try rows.map { row throws(RegistryError) in
            try decode {
                let (version, at, user, digest, plan) = try row.decode((Int64, Int64, String, String, String).self)
                return try Self.version(version, at, user, digest, plan)
            }
        }
    }

    public func definitions(at version: Int) throws(RegistryError) -> Definitions? {
        let rows = try run(
            "SELECT definitions FROM \(unescaped: table("versions")) WHERE version = \(Int64(version))")
        guard let row = rows.first else { return nil }
        return try decode {
            try JSONDecoder().decode(Definitions.self, from: Data(try row.decode(String.self).utf8))
        }
    }

    public func watermarks() throws(RegistryError) -> [String: MaterializationWatermark] {
        let rows = try run(
            PostgresQuery(unsafeSQL: "SELECT view, start, \"end\", recorded_at FROM \(table("watermarks"))"))
        var out: [String: MaterializationWatermark] = [:]
        for row in rows {
            let (view, start, end, recorded) = try decode { try row.decode((String, Int64, Int64, Int64).self) }
            out[view] = MaterializationWatermark(
                view: view, start: Timestamp(microseconds: start), end: Timestamp(microseconds: end),
                recordedAt: Timestamp(microseconds: recorded))
        }
        return out
    }

    public func recordMaterialization(_ watermarks: [MaterializationWatermark]) throws(RegistryError) {
        try transaction { (connection) throws(RegistryError) in
            for mark in watermarks {
                _ = try run(
                    """
                    INSERT INTO \(unescaped: table("watermarks"))(view, start, "end", recorded_at)
                    VALUES (\(mark.view), \(mark.start.microseconds), \(mark.end.microseconds), \(mark.recordedAt.microseconds))
                    ON CONFLICT (view) DO UPDATE SET start = excluded.start, "end" = excluded."end",
                        recorded_at = excluded.recorded_at
                    WHERE excluded."end" >= \(unescaped: table("watermarks"))."end"
                    """, on: connection)
            }
        }
    }

    public func pendingOnlineDrops() throws(RegistryError) -> [String] {
        let rows = try run(PostgresQuery(unsafeSQL: "SELECT view FROM \(table("pending_drops")) ORDER BY view"))
        return try rows.map { row throws(RegistryError) in try decode { try row.decode(String.self) } }
    }

    public func completeOnlineDrops(_ views: [String]) throws(RegistryError) {
        guard !views.isEmpty else { return }
        try transaction { (connection) throws(RegistryError) in
            for view in views {
                _ = try run("DELETE FROM \(unescaped: table("pending_drops")) WHERE view = \(view)", on: connection)
                _ = try run("DELETE FROM \(unescaped: table("watermarks")) WHERE view = \(view)", on: connection)
            }
        }
    }
}
