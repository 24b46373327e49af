import Foundation
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraRegistry

/// Online feature lookup for Swift services that embed Tessera: a project's registry and
/// online store, answering Feast-style requests in process (and behind `tessera serve`).
///
/// It follows the registry: at most once per `registryCheckInterval` a request checks the
/// registry's head version (one cheap query) and, after an apply, switches to the new
/// definitions without a restart. Thread-safe; share one instance.
///
/// ```swift
/// let lookup = try FeatureLookup.open(repository: "path/to/repo")
/// let response = try lookup.onlineFeatures(LookupRequest(
///     features: .references(["driver_hourly_stats:conv_rate"]),
///     entities: [("driver_id", [.int64(1001)])]))
/// ```
public final class FeatureLookup: Sendable {
    public struct Configuration: Sendable {
        /// How often, at most, to check the registry for a new apply.
        public var registryCheckInterval: Duration = .seconds(1)
        /// The clock ttl is measured against (injectable for tests).
        public var now: @Sendable () -> Timestamp = { Timestamp.now }

        public init() {}
    }

    /// The online store read and written.
    public let store: any OnlineStore
    public let configuration: Configuration
    let registry: Mutex<any RegistryStore>
    let state: Mutex<FollowState>
    private let intervalNanos: UInt64

    struct FollowState {
        var catalog: ServingCatalog
        var lastCheck: UInt64
        var lastError: String?
    }

    /// A lookup over `registry` and `store`; reads the registry's current version now.
    ///
    /// - Throws: `LookupError.unavailable` when the registry cannot be read.
    public init(
        registry: sending any RegistryStore, store: any OnlineStore, configuration: Configuration = Configuration()
    )
        throws(LookupError)
    {
        let catalog = try FeatureLookup.loadCatalog(registry)
        self.registry = Mutex(registry)
        self.store = store
        self.configuration = configuration
        let interval = configuration.registryCheckInterval.components
        self.intervalNanos =
            UInt64(max(0, interval.seconds)) * 1_000_000_000 + UInt64(max(0, interval.attoseconds / 1_000_000_000))
        self.state = Mutex(FollowState(catalog: catalog, lastCheck: FeatureLookup.monotonicNanos(), lastError: nil))
    }

    /// Opens the registry and online store that the repository's `tessera.yaml` names.
    ///
    /// Only `tessera.yaml` is read: the applied definitions come from the registry.
    public static func open(repository path: String, configuration: Configuration = Configuration()) throws
        -> FeatureLookup
    {
        let (root, config) = try FeatureRepository.loadConfig(at: path)
        let registry = try RegistryService.openStore(config: config, root: root)
        let online = config.onlineStore
        let store = try SQLiteOnlineStore.open(
            type: online.type, path: online.path, options: online.options, root: root)
        return try FeatureLookup(registry: registry, store: store, configuration: configuration)
    }

    static func loadCatalog(_ registry: any RegistryStore) throws(LookupError) -> ServingCatalog {
        do {
            guard let snapshot = try registry.current() else {
                return ServingCatalog(version: nil, digest: nil, project: nil, definitions: Definitions())
            }
            return ServingCatalog(
                version: snapshot.version.version, digest: snapshot.version.digest, project: snapshot.project,
                definitions: snapshot.definitions)
        } catch {
            throw LookupError(.unavailable, field: "registry", "cannot read the registry: \(error)")
        }
    }

    static func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The definitions being served, checking the registry for a new apply when due.
    public func catalog() -> ServingCatalog {
        let now = FeatureLookup.monotonicNanos()
        let (catalog, due) = state.withLock { ($0.catalog, now &- $0.lastCheck >= intervalNanos) }
        guard due else { return catalog }
        return refresh() ?? catalog
    }

    /// Checks the registry now; returns the catalog to serve, or `nil` when another thread
    /// is already checking (it keeps serving the current one meanwhile).
    @discardableResult
    public func refresh() -> ServingCatalog? {
        let current = state.withLock { $0.catalog }
        let checked: Result<ServingCatalog, LookupError>? = registry.withLockIfAvailable { registry in
            FeatureLookup.check(registry, against: current)
        }
        guard let checked else { return nil }
        let now = FeatureLookup.monotonicNanos()
        let next: ServingCatalog
        let failure: String?
        switch checked {
        case .success(let catalog):
            next = catalog
            failure = nil
        case .failure(let error):
            next = current
            failure = error.description
        }
        state.withLock {
            $0.catalog = next
            $0.lastCheck = now
            $0.lastError = failure
        }
        return next
    }

    /// The catalog for the registry's head: `current` when the head has not moved.
    private static func check(_ registry: any RegistryStore, against current: ServingCatalog)
        -> Result<ServingCatalog, LookupError>
    {
        do {
            let head = try registry.head()
            if head?.version == current.version && head?.digest == current.digest { return .success(current) }
            return .success(try loadCatalog(registry))
        } catch let error as LookupError {
            return .failure(error)
        } catch {
            return .failure(LookupError(.unavailable, field: "registry", "cannot read the registry: \(error)"))
        }
    }

    /// The last registry error, if the latest check failed (for health checks).
    public var registryError: String? { state.withLock { $0.lastError } }
}
