import PostgresNIO
import Synchronization
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraPostgres

/// Reads `type: postgres` sources for the native engine. Connections are kept per server
/// and login for the life of the process, so the many scans of one command share them.
public struct PostgresSourceConnector: SourceConnector {
    public init() {}

    public var type: String { "postgres" }

    /// Pools by server, login and password: one process reads each source's server through one.
    private static let pools = Mutex<[String: PostgresConnections]>([:])

    public func reader(for source: DataSource, root: String) throws -> any SourceReader {
        guard case .postgres(let relation) = source.kind else {
            throw PostgresSourceError(source: source.name, "is not a postgres source")
        }
        let endpoint = try Self.endpoint(relation, source: source.name, root: root)
        let key = "\(endpoint.description)\u{0}\(endpoint.password ?? "")"
        let pool = Self.pools.withLock { pools in
            if let known = pools[key] { return known }
            let made = PostgresConnections(endpoint: endpoint, connections: 4, timeout: .seconds(10))
            pools[key] = made
            return made
        }
        return PostgresSourceReader(source: source.name, relation: relation, pool: pool)
    }

    /// The server and login of a source: its URL, the password from the URL, else its
    /// `password_file` (first line, relative to the repository), else `TESSERA_PG_PASSWORD`.
    static func endpoint(_ relation: PostgresRelation, source: String, root: String) throws(PostgresSourceError)
        -> PostgresEndpoint
    {
        var endpoint: PostgresEndpoint
        do {
            endpoint = try PostgresEndpoint(url: relation.url)
        } catch {
            throw PostgresSourceError(source: source, "url: \(error.description)")
        }
        let file = relation.passwordFile.map { $0.hasPrefix("/") ? $0 : root + "/" + $0 }
        do {
            try endpoint.fillPassword(file: file, field: "password_file")
        } catch {
            throw PostgresSourceError(source: source, error.description)
        }
        return endpoint
    }

    public func check(_ source: DataSource, root: String) throws -> String {
        guard let reader = try reader(for: source, root: root) as? PostgresSourceReader else {
            throw PostgresSourceError(source: source.name, "is not a postgres source")
        }
        let columns = try reader.columnTypes()
        let version: String
        do {
            let result = try reader.pool.run("SELECT current_setting('server_version')")
            version = (try? result.rows.first?.decode(String.self)) ?? "?"
        } catch {
            throw PostgresSourceError(source: source.name, error.description)
        }
        let rows = reader.estimatedRows().map { ", about \($0) rows" } ?? ""
        return
            "\(reader.shown) readable at \(reader.pool.place) (PostgreSQL \(version)): \(columns.count) columns\(rows)"
    }
}
