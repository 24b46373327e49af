import TesseraCore

/// The file formats a batch source can be read from.
public enum FileFormat: String, Hashable, Sendable, Codable, CaseIterable {
    case parquet
    case csv

    /// The format a path's extension implies, if any.
    public static func inferred(from path: String) -> FileFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".parquet") || lower.hasSuffix(".pq") { return .parquet }
        if lower.hasSuffix(".csv") { return .csv }
        return nil
    }
}

/// Where a source's rows come from.
public enum SourceKind: Hashable, Sendable, Codable {
    /// Batch files: `path` is a file, a folder or a glob, relative to the repository.
    case file(path: String, format: FileFormat)
    /// Rows pushed through the API; `batchSource` names the batch source whose
    /// history they extend (offline pushes are read together with it).
    case push(batchSource: String?)
    /// A table or a query in a PostgreSQL database, read by the native engine.
    case postgres(PostgresRelation)

    public var name: String {
        switch self {
        case .file: "file"
        case .push: "push"
        case .postgres: "postgres"
        }
    }
}

/// Where a PostgreSQL source's rows are: a server (`url`) and a `table` or a `query`.
public struct PostgresRelation: Hashable, Sendable, Codable {
    /// `postgresql://user@host[:port]/database`; a password here is allowed but discouraged
    /// (definitions live in git): `passwordFile` or `TESSERA_PG_PASSWORD` are read otherwise.
    public var url: String
    /// `name` or `schema.name`, as PostgreSQL spells it (quoted when read).
    public var table: String?
    /// A `SELECT` whose rows are the source's; Tessera wraps it to project and filter.
    public var query: String?
    /// A file holding the password (its first line), relative to the repository.
    public var passwordFile: String?

    public init(url: String, table: String? = nil, query: String? = nil, passwordFile: String? = nil) {
        self.url = url
        self.table = table
        self.query = query
        self.passwordFile = passwordFile
    }
}

/// A source of feature rows: where they are, and which columns hold the event and created times.
public struct DataSource: Hashable, Sendable, Codable {
    public var name: String
    public var kind: SourceKind
    /// The column with each row's event time (when the value became true).
    public var timestampField: String
    /// The column with each row's write time; breaks ties between equal event times.
    public var createdTimestampField: String?
    /// Renames columns on read: source column → name used by views.
    public var fieldMapping: [String: String]
    public var description: String
    public var owner: String
    public var tags: [String: String]

    public init(
        name: String, kind: SourceKind, timestampField: String, createdTimestampField: String? = nil,
        fieldMapping: [String: String] = [:], description: String = "", owner: String = "",
        tags: [String: String] = [:]
    ) {
        self.name = name
        self.kind = kind
        self.timestampField = timestampField
        self.createdTimestampField = createdTimestampField
        self.fieldMapping = fieldMapping
        self.description = description
        self.owner = owner
        self.tags = tags
    }
}

extension PostgresRelation {
    /// `url` with any password replaced by `***`: what plans, listings and errors show.
    public var shownURL: String { ServiceURL.redacted(url) }

    /// The parts of a table name as PostgreSQL resolves them: `name` or `schema.name`, an
    /// unquoted part folded to lowercase (as the server folds it), a `"quoted"` part kept as
    /// written (`""` is a quote inside it). `nil` when `text` is not such a name.
    public static func tableParts(_ text: String) -> [String]? {
        var parts: [String] = []
        var rest = Substring(text)
        while true {
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var part = ""
                while true {
                    guard let c = rest.first else { return nil }
                    rest = rest.dropFirst()
                    if c == "\"" {
                        if rest.first == "\"" {
                            part.append("\"")
                            rest = rest.dropFirst()
                        } else {
                            break
                        }
                    } else {
                        part.append(c)
                    }
                }
                guard !part.isEmpty else { return nil }
                parts.append(part)
            } else {
                let word = rest.prefix { $0 == "_" || $0 == "$" || $0.isLetter || $0.isNumber }
                guard let first = word.first, first == "_" || first.isLetter else { return nil }
                parts.append(word.lowercased())
                rest = rest.dropFirst(word.count)
            }
            if rest.isEmpty { break }
            guard rest.first == ".", parts.count < 2 else { return nil }
            rest = rest.dropFirst()
        }
        return parts
    }

    /// An identifier in double quotes, safe in SQL whatever it holds.
    public static func quoted(_ identifier: String) -> String {
        var out = "\""
        for c in identifier {
            out.append(c)
            if c == "\"" { out.append("\"") }
        }
        return out + "\""
    }

    /// What the source's rows are selected from: the quoted table, or the query as a
    /// subquery named `tessera_source`.
    public var fromClause: String {
        if let table, let parts = PostgresRelation.tableParts(table) {
            return parts.map(PostgresRelation.quoted).joined(separator: ".")
        }
        var text = (query ?? "").trimmingSpaces()
        while text.hasSuffix(";") { text = String(text.dropLast()).trimmingSpaces() }
        return "(\n" + text + "\n) AS tessera_source"
    }
}
