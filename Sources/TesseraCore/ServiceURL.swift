/// The parts of a server's URL, `scheme://[user[:password]@]host[:port][/path][?query]`, as
/// the Redis and PostgreSQL backends take them. Errors name the URL with its password
/// replaced by `***`; user and password are percent-decoded (`%40` → `@`).
public struct ServiceURL: Sendable, Equatable {
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    /// What follows the first `/` after the address (`""` when nothing does); the query is dropped.
    public var path: String

    /// Parses `url`, which must start with one of `schemes` (`"redis://"`).
    /// - Parameter form: how the URL should look, for the error when the scheme is wrong.
    public init(_ url: String, schemes: [String], form: String) throws(ServiceURLError) {
        let shown = ServiceURL.redacted(url)
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }) else {
            throw ServiceURLError("'\(shown)' is not a \(schemes[0]) URL (\(form))")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let name = credentials[..<colon]
                user = name.isEmpty ? nil : ServiceURL.percentDecoded(name)
                password = ServiceURL.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                user = credentials.isEmpty ? nil : ServiceURL.percentDecoded(credentials)
            }
        }
        path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        host = String(rest)
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            host = String(rest[..<colon])
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw ServiceURLError("'\(shown)': the port is not a number from 1 to 65535")
            }
            port = number
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ServiceURLError("'\(shown)' names no host") }
    }

    /// `url` with any password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard
            let schemeEnd = url.indices.first(where: { url[$0...].hasPrefix("://") }).map({
                url.index($0, offsetBy: 3)
            }),
            let at = url.lastIndex(of: "@"), at > schemeEnd,
            let colon = url[schemeEnd..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }

    /// Percent-decoded, or the text as it is when it is not valid encoding.
    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var rest = Array(text.utf8)[...]
        while let byte = rest.popFirst() {
            if byte == UInt8(ascii: "%"), rest.count >= 2,
                let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                rest = rest.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? String(text)
    }
}

/// A server URL that cannot be parsed; its text never holds the password.
public struct ServiceURLError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
