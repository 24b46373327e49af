/// Where one store lives: its type (`sqlite`, `postgres`, `redis`, …) and its settings.
public struct StoreConfig: Hashable, Sendable, Codable {
    public var type: String
    /// A file path, relative to the repository, for embedded stores.
    public var path: String?
    /// Other settings (`dsn`, `url`, …), as written.
    public var options: [String: String]

    public init(type: String, path: String? = nil, options: [String: String] = [:]) {
        self.type = type
        self.path = path
        self.options = options
    }
}

/// The settings of a feature repository, from its `tessera.yaml`.
public struct ProjectConfig: Hashable, Sendable, Codable {
    public var project: String
    public var description: String
    public var registry: StoreConfig
    public var onlineStore: StoreConfig
    public var offlineStore: StoreConfig
    /// Globs (relative to the repository) of definition files; `nil` means every `*.yaml`/`*.yml`.
    public var definitionGlobs: [String]?

    public static let defaultRegistry = StoreConfig(type: "sqlite", path: ".tessera/registry.db")
    public static let defaultOnlineStore = StoreConfig(type: "sqlite", path: ".tessera/online.db")
    public static let defaultOfflineStore = StoreConfig(type: "native")

    public init(
        project: String, description: String = "", registry: StoreConfig = ProjectConfig.defaultRegistry,
        onlineStore: StoreConfig = ProjectConfig.defaultOnlineStore,
        offlineStore: StoreConfig = ProjectConfig.defaultOfflineStore, definitionGlobs: [String]? = nil
    ) {
        self.project = project
        self.description = description
        self.registry = registry
        self.onlineStore = onlineStore
        self.offlineStore = offlineStore
        self.definitionGlobs = definitionGlobs
    }
}
