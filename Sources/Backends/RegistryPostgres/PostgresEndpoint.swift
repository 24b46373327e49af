import TesseraCore

/// Where a PostgreSQL server is and who logs in: from a `postgresql://` URL, its password
/// (if any) from the URL, `TESSERA_PG_PASSWORD` or a file. The password never appears in
/// `description` or in errors.
public struct PostgresEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses `postgresql://user[:password]@host[:port]/database` (or `postgres://`).
    public init(url: String) throws(PostgresEndpointError) {
        let parts: ServiceURL
        do {
            parts = try ServiceURL(
                url, schemes: ["postgresql://", "postgres://"],
                form: "postgresql://user[:password]@host[:port]/database")
        } catch {
            throw PostgresEndpointError(error.description)
        }
        let shown = ServiceURL.redacted(url)
        guard let user = parts.user else {
            throw PostgresEndpointError("'\(shown)' names no user (postgresql://user@host/database)")
        }
        guard !parts.path.isEmpty else {
            throw PostgresEndpointError("'\(shown)' names no database (postgresql://user@host/database)")
        }
        self.init(
            host: parts.host, port: parts.port ?? 5432, user: user, password: parts.password, database: parts.path)
    }

    /// `url` with any password replaced by `***`.
    public static func redacted(_ url: String) -> String { ServiceURL.redacted(url) }

    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }
}

public struct PostgresEndpointError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
