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

    public var name: String {
        switch self {
        case .file: "file"
        case .push: "push"
        }
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
