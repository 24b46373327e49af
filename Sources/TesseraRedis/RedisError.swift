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
        let shown = RedisEndpoint.redacted(url)
        guard url.hasPrefix("redis://") else {
            throw RedisError(.configuration, "'\(shown)' is not a redis:// URL (redis://[user:password@]host:port/db)")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let name = credentials[..<colon]
                user = name.isEmpty ? nil : String(name).removingPercentEncodingIfPossible
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncodingIfPossible
            } else {
                user = String(credentials).removingPercentEncodingIfPossible
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw RedisError(.configuration, "'\(shown)': the database '\(path)' is not a number")
                }
                database = number
            }
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            host = String(rest[..<colon])
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw RedisError(.configuration, "'\(shown)': the port is not a number from 1 to 65535")
            }
            port = number
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw RedisError(.configuration, "'\(shown)' names no host") }
        self.init(host: host, port: port, user: user, password: password, database: database)
    }

    /// `url` with any password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        let scheme = "://"
        guard
            let schemeEnd = url.indices.first(where: { url[$0...].hasPrefix(scheme) }).map({
                url.index($0, offsetBy: 3)
            }),
            let at = url.lastIndex(of: "@"), at > schemeEnd
        else { return url }
        let credentials = url[schemeEnd..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<credentials.index(after: colon)]) + "***" + String(url[at...])
    }

    /// `host:port`, as errors name it.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension String {
    /// Percent-decoded (`%40` → `@`), or the text as it is when it is not valid encoding.
    fileprivate var removingPercentEncodingIfPossible: String {
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let byte = it.popFirst() {
            if byte == UInt8(ascii: "%"), it.count >= 2,
                let value = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                it = it.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}
