import TesseraCore

/// A Redis problem a user can act on. Messages name the host and port and never hold a
/// password.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server cannot be reached, or the connection dropped.
        case connection
        /// The server refused the credentials.
        case authentication
        /// The server answered a command with an error (`-ERR …`).
        case server
        /// No answer within the timeout (the connection is closed: its stream is lost).
        case timeout
        /// The server sent bytes that are not RESP.
        case protocolError
        /// A URL or setting that cannot work.
        case configuration
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Where a Redis server is and how to log in: `redis://[user[:password]@]host[:port][/db]`.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses a `redis://` URL; errors echo the URL without its password.
    public init(url: String) throws(RedisError) {
        let parts: ServiceURL
        do {
            parts = try ServiceURL(url, schemes: ["redis://"], form: "redis://[user:password@]host:port/db")
        } catch {
            throw RedisError(.configuration, error.description)
        }
        var database = 0
        if !parts.path.isEmpty {
            guard let number = Int(parts.path), number >= 0 else {
                throw RedisError(
                    .configuration, "'\(RedisEndpoint.redacted(url))': the database '\(parts.path)' is not a number")
            }
            database = number
        }
        self.init(
            host: parts.host, port: parts.port ?? 6379, user: parts.user, password: parts.password, database: database)
    }

    /// `url` with any password replaced by `***`.
    public static func redacted(_ url: String) -> String { ServiceURL.redacted(url) }

    /// `host:port`, as errors name it.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
