import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraOfflinePostgres
import TesseraOfflineSpark
import TesseraOnline
import TesseraOnlinePostgres
import TesseraOnlineRedis
import TesseraOnlineSQLite
import TesseraRegistry
import TesseraRegistryPostgres
import TesseraRegistrySQLite
import TesseraSourcePostgres

/// The backends of this build, by role and `type`: the one place a backend is registered.
///
/// `tessera.yaml` picks one per role (`registry`, `online_store`, `offline_store`); an unknown
/// type or option is a validation error naming its place and the choices, never a fallback.
/// A new backend lives in its own folder (with its factory and its conformance test) and
/// adds one line here.
public struct Backends: Sendable {
    public var registries: [any RegistryStoreFactory]
    public var onlineStores: [any OnlineStoreFactory]
    public var offlineEngines: [any OfflineEngineFactory]

    public init(
        registries: [any RegistryStoreFactory], onlineStores: [any OnlineStoreFactory],
        offlineEngines: [any OfflineEngineFactory]
    ) {
        self.registries = registries
        self.onlineStores = onlineStores
        self.offlineEngines = offlineEngines
    }

    /// What `tessera` ships with.
    public static let standard = Backends(
        registries: [
            SQLiteRegistryFactory(),
            PostgresRegistryFactory(),
        ],
        onlineStores: [
            SQLiteOnlineStoreFactory(),
            RedisOnlineStoreFactory(),
            PostgresOnlineStoreFactory(),
        ],
        offlineEngines: [
            // The native engine reads files itself, and databases through connectors.
            NativeEngineFactory(connectors: [PostgresSourceConnector()]),
            // PostgreSQL computes what it can where the sources' tables are.
            PostgresOfflineEngineFactory(),
            // Spark computes what it can over the Parquet sources, where Spark reads them.
            SparkOfflineEngineFactory(),
        ])

    /// `standard` plus the in-memory registry and online store (`type: memory`), for tests and
    /// programs that embed Tessera.
    public static let withMemory = Backends(
        registries: standard.registries + [MemoryRegistryFactory()],
        onlineStores: standard.onlineStores + [MemoryOnlineStoreFactory()],
        offlineEngines: standard.offlineEngines)

    /// The three stores of `config`, checked: each factory with its typed settings, or every
    /// problem of every section at once, each at its place in `tessera.yaml`.
    public func resolve(_ config: ProjectConfig, root: String) throws(DiagnosticsError) -> Resolved {
        var problems: [Diagnostic] = []
        let registry = BackendSettings.validate(config.registry, role: "registry", available: registries, root: root)
        let online = BackendSettings.validate(
            config.onlineStore, role: "online_store", available: onlineStores, root: root)
        let offline = BackendSettings.validate(
            config.offlineStore, role: "offline_store", available: offlineEngines, root: root)
        if case .failure(let error) = registry { problems += error.diagnostics }
        if case .failure(let error) = online { problems += error.diagnostics }
        if case .failure(let error) = offline { problems += error.diagnostics }
        guard case .success(let r) = registry, case .success(let on) = online, case .success(let off) = offline else {
            throw DiagnosticsError(problems.sorted { $0.location < $1.location })
        }
        return Resolved(registry: r, onlineStore: on, offlineEngine: off)
    }

    /// The chosen factories with their settings.
    public struct Resolved: Sendable {
        public var registry: (factory: any RegistryStoreFactory, settings: BackendSettings)
        public var onlineStore: (factory: any OnlineStoreFactory, settings: BackendSettings)
        public var offlineEngine: (factory: any OfflineEngineFactory, settings: BackendSettings)
    }
}
