import TesseraCore

/// One option's value as written in `tessera.yaml`: a scalar, a list or a mapping.
public enum OptionValue: Hashable, Sendable, CustomStringConvertible {
    case scalar(String)
    case list([String])
    case map([String: String])

    public var description: String {
        switch self {
        case .scalar(let text): text
        case .list(let items): "[" + items.joined(separator: ", ") + "]"
        case .map(let pairs):
            "{" + pairs.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Where one store lives: its type (`sqlite`, `native`, later `postgres`, `redis`, …) and its
/// options, as written. The backend that `type` names validates the options
/// (`BackendSettings.validate`); this type only records them and where they were written.
public struct StoreConfig: Sendable {
    public var type: String
    /// Options other than `type`, by name.
    public var options: [String: OptionValue]
    /// Where the section, its `type` and each option (by name) were written; empty for defaults.
    public var location: SourceLocation?
    public var typeLocation: SourceLocation?
    public var optionLocations: [String: SourceLocation]
    /// Where each option's value was written.
    public var valueLocations: [String: SourceLocation]
    /// Whether the section was written in `tessera.yaml` (or is the default).
    public var isDefault: Bool

    public init(type: String, options: [String: OptionValue] = [:], isDefault: Bool = false) {
        self.type = type
        self.options = options
        self.location = nil
        self.typeLocation = nil
        self.optionLocations = [:]
        self.valueLocations = [:]
        self.isDefault = isDefault
    }

    /// A scalar option, if set.
    public subscript(option name: String) -> String? {
        if case .scalar(let text)? = options[name] { return text }
        return nil
    }
}

extension StoreConfig: Equatable, Hashable {
    public static func == (a: StoreConfig, b: StoreConfig) -> Bool { a.type == b.type && a.options == b.options }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(options)
    }
}

/// Who may do what on the feature server.
public enum AccessRole: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Reads features and the registry.
    case reader
    /// A reader that may also push and write rows.
    case writer
    /// A writer that may also start materializations.
    case admin

    private var rank: Int {
        switch self {
        case .reader: 0
        case .writer: 1
        case .admin: 2
        }
    }

    public static func < (a: AccessRole, b: AccessRole) -> Bool { a.rank < b.rank }
}

/// One API key the feature server accepts: a name for logs, a role, and the key's SHA-256.
/// The key itself is never stored (`tessera api-key create` prints it once).
public struct APIKey: Sendable, Hashable {
    public var name: String
    public var role: AccessRole
    /// Lowercase hex SHA-256 of the key's bytes.
    public var sha256: String

    public init(name: String, role: AccessRole, sha256: String) {
        self.name = name
        self.role = role
        self.sha256 = sha256
    }
}

/// The feature server's settings (`feature_server:` in `tessera.yaml`); command-line flags
/// override them. Every limit answers a request over it with an error naming the limit.
public struct FeatureServerConfig: Sendable, Hashable {
    /// Larger request bodies get 413.
    public var maxBodyBytes = 10 << 20
    /// Entity rows (keys) per lookup or rows per push; more get 413.
    public var maxEntityRows = 10_000
    /// Features per lookup; more get 413.
    public var maxFeatures = 1_000
    /// Pushed event and created times later than now + this are refused (400): a clock error
    /// or a unit mix-up (milliseconds sent as seconds) would otherwise win over every real row.
    public var maxPushFuture = TimeSpan.days(1)
    /// How often, at most, the server looks for a new `tessera apply`.
    public var registryCheckInterval = TimeSpan.seconds(1)
    /// Threads that run lookups, and pushes and writes (`nil`: the server's defaults).
    public var readThreads: Int?
    public var writeThreads: Int?
    /// API keys; empty means authentication is off (every request is allowed).
    public var apiKeys: [APIKey] = []
    /// Whether an `auth:` section was written (keys required even if the list is empty).
    public var authEnabled = false

    public init() {}
}

/// The settings of a feature repository, from its `tessera.yaml`.
public struct ProjectConfig: Sendable, Hashable {
    public var project: String
    public var description: String
    public var registry: StoreConfig
    public var onlineStore: StoreConfig
    public var offlineStore: StoreConfig
    public var featureServer: FeatureServerConfig
    /// Globs (relative to the repository) of definition files; `nil` means every `*.yaml`/`*.yml`.
    public var definitionGlobs: [String]?

    public static let defaultRegistry = StoreConfig(type: "sqlite", isDefault: true)
    public static let defaultOnlineStore = StoreConfig(type: "sqlite", isDefault: true)
    public static let defaultOfflineStore = StoreConfig(type: "native", isDefault: true)

    public init(
        project: String, description: String = "", registry: StoreConfig = ProjectConfig.defaultRegistry,
        onlineStore: StoreConfig = ProjectConfig.defaultOnlineStore,
        offlineStore: StoreConfig = ProjectConfig.defaultOfflineStore,
        featureServer: FeatureServerConfig = FeatureServerConfig(), definitionGlobs: [String]? = nil
    ) {
        self.project = project
        self.description = description
        self.registry = registry
        self.onlineStore = onlineStore
        self.offlineStore = offlineStore
        self.featureServer = featureServer
        self.definitionGlobs = definitionGlobs
    }
}
