import Foundation
import TesseraCore
import TesseraDefinitions

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

extension PostgresEndpoint {
    /// The endpoint a `tessera.yaml` section (`registry`, `online_store`, …) configures: its
    /// `url`, and the password from the URL, else `password_file` (its first line), else
    /// `TESSERA_PG_PASSWORD`.
    ///
    /// - Throws: `PostgresEndpointError` naming the section's field.
    public init(settings: BackendSettings, section: String) throws(PostgresEndpointError) {
        let url = settings.string("url") ?? ""
        do {
            self = try PostgresEndpoint(url: url)
        } catch {
            throw PostgresEndpointError("\(section).url: \(error.description)")
        }
        try fillPassword(file: settings.path("password_file"), field: "\(section).password_file")
    }

    /// Without a password from the URL: the first line of `file` (an absolute path) if
    /// given, else `TESSERA_PG_PASSWORD`. `field` names the file's setting in errors.
    public mutating func fillPassword(file: String?, field: String) throws(PostgresEndpointError) {
        guard password == nil else { return }
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw PostgresEndpointError("\(field) \(file) cannot be read")
            }
            password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        } else if let secret = ProcessInfo.processInfo.environment["TESSERA_PG_PASSWORD"], !secret.isEmpty {
            password = secret
        }
    }

    /// The `schema` a section names (or `fallback`), checked to be a plain lowercase identifier,
    /// so it can be written into SQL unquoted-safe.
    public static func schema(_ settings: BackendSettings, section: String, fallback: String)
        throws(PostgresEndpointError) -> String
    {
        let schema = settings.string("schema") ?? fallback
        guard let first = schema.unicodeScalars.first, first == "_" || ("a"..."z").contains(first),
            schema.count <= 63,
            schema.unicodeScalars.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        else {
            throw PostgresEndpointError(
                "\(section).schema '\(schema)' must be lowercase letters, digits and '_' (at most 63), starting with a letter or '_'"
            )
        }
        return schema
    }

    /// The options every PostgreSQL backend takes.
    public static let options: [BackendOption] = [
        BackendOption(
            "url", .string, required: true,
            help:
                "postgresql://user[:password]@host[:port]/database; without a password in the URL, password_file or TESSERA_PG_PASSWORD is used"
        ),
        BackendOption(
            "password_file", .path, help: "a file holding the password (its first line), relative to the repository"),
    ]
}
