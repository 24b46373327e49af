import Foundation

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
        let shown = PostgresEndpoint.redacted(url)
        guard let scheme = ["postgresql://", "postgres://"].first(where: { url.hasPrefix($0) }) else {
            throw PostgresEndpointError(
                "'\(shown)' is not a postgresql:// URL (postgresql://user[:password]@host[:port]/database)")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        guard let at = rest.lastIndex(of: "@") else {
            throw PostgresEndpointError("'\(shown)' names no user (postgresql://user@host/database)")
        }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        var user = String(credentials)
        var password: String?
        if let colon = credentials.firstIndex(of: ":") {
            user = String(credentials[..<colon])
            password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding
        }
        user = user.removingPercentEncoding ?? user
        guard let slash = rest.firstIndex(of: "/"), rest.index(after: slash) < rest.endIndex else {
            throw PostgresEndpointError("'\(shown)' names no database (postgresql://user@host/database)")
        }
        let database = String(rest[rest.index(after: slash)...])
        let address = rest[..<slash]
        var host = String(address)
        var port = 5432
        if let colon = address.lastIndex(of: ":"), !address.hasSuffix("]") {
            host = String(address[..<colon])
            guard let number = Int(address[address.index(after: colon)...]), (1...65535).contains(number) else {
                throw PostgresEndpointError("'\(shown)': the port is not a number from 1 to 65535")
            }
            port = number
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !user.isEmpty else { throw PostgresEndpointError("'\(shown)' names no host or user") }
        self.init(host: host, port: port, user: user, password: password, database: database)
    }

    /// `url` with any password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://")?.upperBound, let at = url.lastIndex(of: "@"), at > schemeEnd,
            let colon = url[schemeEnd..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }

    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }
}

public struct PostgresEndpointError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
