import Foundation
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline
import TesseraOnline
import TesseraRegistry

/// A feature repository with its backends: the one API that the command line, the feature
/// server, the benchmarks and (later) the Python client call. Feast's `FeatureStore`, in
/// spirit.
///
/// ```swift
/// let store = try FeatureStore.open("path/to/repo")          // reads tessera.yaml
/// let plan = try store.plan()                                 // what apply would change
/// _ = try store.apply(allowBreaking: false)                   // atomic; drops stale online values
/// let training = try store.trainingSet(TrainingSetRequest(
///     spine: .entities(labels, name: "labels.parquet"),
///     selection: .service("ride_ranking_v1")))
/// _ = try store.materialize(.incremental(end: .now, lateness: .hours(1)))
/// let online = try store.onlineFeatures(LookupRequest(
///     features: .references(["driver_hourly_stats:conv_rate"]), entities: [("driver_id", [.int64(1001)])]))
/// ```
///
/// The registry, the online store and the offline engine are the ones `tessera.yaml` names
/// (`Backends`): opening validates every setting and reports every problem with its place.
/// Thread-safe; open one per repository and share it. The online store is opened on first
/// use, so commands that never touch it (plan, apply without drops) never create it.
public final class FeatureStore: Sendable {
    public struct Configuration: Sendable {
        /// The clock: ttl on reads, "now" in time arguments, watermarks, push bounds.
        public var now: @Sendable () -> Timestamp = { Timestamp.now }
        /// When pushed rows of window aggregations are folded into the stored states, and
        /// how often other processes' pushes are looked for (`PendingStates`); `nil`: the
        /// online store's `fold_rows` option, else the defaults.
        public var pendingStates: PendingStates.Settings? = nil

        public init() {}
    }

    /// The repository's folder (absolute).
    public let root: String
    /// `tessera.yaml`.
    public let config: ProjectConfig
    public let configuration: Configuration
    /// The registry (shared with the lookup; calls are serialized).
    public let registry: SharedRegistry
    /// The offline engine.
    public let offline: any OfflineEngine
    private let onlineFactory: (factory: any OnlineStoreFactory, settings: BackendSettings)
    private let offlineSettings: BackendSettings
    private let openedOnline = Mutex<(any OnlineStore)?>(nil)
    private let sharedLookup = Mutex<FeatureLookup?>(nil)
    /// Pushed rows not folded into the stored aggregation states yet, shared by every lookup
    /// of this store (so a push through one is read through another at once).
    public let pending: PendingStates

    /// Opens the repository at `path` from its `tessera.yaml` (definitions are read when
    /// planned or applied; everything else works from the registry).
    ///
    /// - Throws: `DiagnosticsError` listing every problem of `tessera.yaml` (unknown store
    ///   types, options or values, each at its line and column), or the backend's error when
    ///   it cannot be opened.
    public static func open(
        _ path: String, backends: Backends = .standard, configuration: Configuration = Configuration()
    ) throws -> FeatureStore {
        let (root, parsed, problems) = try FeatureRepository.readConfig(at: path)
        // Every problem of tessera.yaml at once: its own and its stores' options.
        var all = problems
        var resolved: Backends.Resolved?
        if let parsed {
            do {
                resolved = try backends.resolve(parsed, root: root)
            } catch {
                all += error.diagnostics
            }
        }
        guard let config = parsed, let resolved, all.allSatisfy({ $0.severity != .error }) else {
            throw DiagnosticsError(all.sorted { $0.location < $1.location })
        }
        let registry = try resolved.registry.factory.makeRegistry(resolved.registry.settings)
        let offline = try resolved.offlineEngine.factory.makeEngine(resolved.offlineEngine.settings)
        return FeatureStore(
            root: root, config: config, registry: SharedRegistry(registry), offline: offline,
            offlineSettings: resolved.offlineEngine.settings, online: resolved.onlineStore, configuration: configuration
        )
    }

    init(
        root: String, config: ProjectConfig, registry: SharedRegistry, offline: any OfflineEngine,
        offlineSettings: BackendSettings, online: (factory: any OnlineStoreFactory, settings: BackendSettings),
        configuration: Configuration
    ) {
        self.offlineSettings = offlineSettings
        self.root = root
        self.config = config
        self.registry = registry
        self.offline = offline
        self.onlineFactory = online
        self.configuration = configuration
        var pendingSettings = PendingStates.Settings()
        if let rows = online.settings.integer("fold_rows") { pendingSettings.foldRows = rows }
        self.pending = PendingStates(settings: configuration.pendingStates ?? pendingSettings)
    }

    /// The online store, opened (and for embedded stores created) on first use.
    public func onlineStore() throws(OnlineStoreError) -> any OnlineStore {
        try openedOnline.withLock { (opened) throws(OnlineStoreError) -> any OnlineStore in
            if let opened { return opened }
            let store = try onlineFactory.factory.makeStore(onlineFactory.settings)
            opened = store
            return store
        }
    }

    /// The online store's type and settings, as `tessera.yaml` chose them.
    public var onlineStoreType: String { onlineFactory.settings.type }

    /// The applied state: what training sets, materialization and serving work from.
    ///
    /// - Throws: `FeatureStoreError.nothingApplied` when nothing was ever applied.
    public func applied() throws -> RegistrySnapshot {
        guard let snapshot = try registry.with({ (store) throws(RegistryError) in try store.current() }) else {
            throw FeatureStoreError.nothingApplied(root: root)
        }
        return snapshot
    }

    /// The shared lookup (created on first use), following the registry.
    public func lookup() throws -> FeatureLookup {
        try sharedLookup.withLock { (lookup) throws -> FeatureLookup in
            if let lookup { return lookup }
            var configuration = FeatureLookup.Configuration()
            configuration.now = self.configuration.now
            let made = try makeLookup(configuration)
            lookup = made
            return made
        }
    }

    /// A new lookup with its own settings (the server's limits, a test clock), over this
    /// store's registry and online store.
    public func lookup(configuration: FeatureLookup.Configuration) throws -> FeatureLookup {
        try makeLookup(configuration)
    }

    private func makeLookup(_ configuration: FeatureLookup.Configuration) throws -> FeatureLookup {
        var configuration = configuration
        if configuration.maxFutureTime == nil { configuration.maxFutureTime = config.featureServer.maxPushFuture }
        return try FeatureLookup(
            registry: registry, store: try onlineStore(), configuration: configuration, pending: pending)
    }

    /// The cores training sets and materialization use unless a request says otherwise: the
    /// offline store's `threads` option, else every core.
    public var defaultThreads: Int {
        offlineSettings.integer("threads") ?? ProcessInfo.processInfo.activeProcessorCount
    }
}

/// A problem of the application layer a user can act on.
public struct FeatureStoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    static func nothingApplied(root: String) -> FeatureStoreError {
        FeatureStoreError(
            "nothing is applied in \(root) yet", hint: "run `tessera apply --repo \(root)` first")
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message); \(hint)"
    }
}
