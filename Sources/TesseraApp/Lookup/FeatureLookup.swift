import Foundation
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraRegistry

/// Online feature lookup for Swift services that embed Tessera: a project's registry and
/// online store, answering Feast-style requests in process (and behind `tessera serve`).
///
/// It follows the registry: after an apply it switches to the new definitions without a
/// restart. With `startFollowing()` (what the server does) a background thread checks the
/// registry's head once per `registryCheckInterval`, so requests never touch the registry;
/// otherwise a request checks it when the interval has passed. Thread-safe; share one instance.
///
/// ```swift
/// let store = try FeatureStore.open("path/to/repo")
/// let response = try store.lookup().onlineFeatures(LookupRequest(
///     features: .references(["driver_hourly_stats:conv_rate"]),
///     entities: [("driver_id", [.int64(1001)])]))
/// ```
public final class FeatureLookup: Sendable {
    public struct Configuration: Sendable {
        /// How often, at most, to check the registry for a new apply.
        public var registryCheckInterval: Duration = .seconds(1)
        /// The clock ttl is measured against (injectable for tests).
        public var now: @Sendable () -> Timestamp = { Timestamp.now }
        /// Entity rows per lookup, and rows per push or write; more are refused (`tooLarge`).
        public var maxEntityRows = Int.max
        /// Features per lookup; more are refused (`tooLarge`).
        public var maxFeatures = Int.max
        /// Pushed or written event and created times after now + this are refused; `nil`: no bound.
        public var maxFutureTime: TimeSpan? = nil

        public init() {}
    }

    /// The online store read and written.
    public let store: any OnlineStore
    public let configuration: Configuration
    /// Pushed rows not folded into the stored aggregation states yet (shared by the lookups
    /// of one `FeatureStore`).
    public let pending: PendingStates
    let registry: SharedRegistry
    let state: Mutex<FollowState>
    private let intervalNanos: UInt64
    private let follower = Mutex<Follower?>(nil)

    struct FollowState {
        var catalog: ServingCatalog
        var lastCheck: UInt64
        var lastError: String?
    }

    /// A lookup over `registry` and `store`; reads the registry's current version now.
    ///
    /// - Throws: `LookupError.unavailable` when the registry cannot be read.
    public init(
        registry: SharedRegistry, store: any OnlineStore, configuration: Configuration = Configuration(),
        pending: PendingStates? = nil
    ) throws(LookupError) {
        let catalog = try FeatureLookup.loadCatalog(registry)
        self.registry = registry
        self.store = store
        self.pending = pending ?? PendingStates()
        self.configuration = configuration
        self.intervalNanos = max(1, MonotonicClock.nanoseconds(configuration.registryCheckInterval))
        self.state = Mutex(FollowState(catalog: catalog, lastCheck: MonotonicClock.nanoseconds(), lastError: nil))
    }

    deinit {
        follower.withLock { $0?.stop() }
    }

    /// Opens the registry and online store that the repository's `tessera.yaml` names.
    public static func open(repository path: String, configuration: Configuration = Configuration()) throws
        -> FeatureLookup
    {
        try FeatureStore.open(path).lookup(configuration: configuration)
    }

    static func loadCatalog(_ registry: SharedRegistry) throws(LookupError) -> ServingCatalog {
        do {
            let snapshot = try registry.with { (store) throws(RegistryError) in try store.current() }
            guard let snapshot else {
                return ServingCatalog(version: nil, digest: nil, project: nil, definitions: Definitions())
            }
            return ServingCatalog(
                version: snapshot.version.version, digest: snapshot.version.digest, project: snapshot.project,
                definitions: snapshot.definitions)
        } catch {
            throw LookupError(.unavailable, field: "registry", "cannot read the registry: \(error)")
        }
    }

    /// The definitions being served. Without a follower, checks the registry for a new apply
    /// when the interval has passed.
    public func catalog() -> ServingCatalog {
        let now = MonotonicClock.nanoseconds()
        let (catalog, due) = state.withLock { ($0.catalog, now &- $0.lastCheck >= intervalNanos) }
        guard due, !isFollowing else { return catalog }
        return refresh() ?? catalog
    }

    /// Checks the registry now; returns the catalog to serve, or `nil` when another thread
    /// is already checking (it keeps serving the current one meanwhile).
    @discardableResult
    public func refresh() -> ServingCatalog? {
        let current = state.withLock { $0.catalog }
        let checked: Result<ServingCatalog, LookupError>? = registry.withIfAvailable { store in
            FeatureLookup.check(store, against: current)
        }
        guard let checked else { return nil }
        let now = MonotonicClock.nanoseconds()
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
            guard let snapshot = try registry.current() else {
                return .success(ServingCatalog(version: nil, digest: nil, project: nil, definitions: Definitions()))
            }
            return .success(
                ServingCatalog(
                    version: snapshot.version.version, digest: snapshot.version.digest, project: snapshot.project,
                    definitions: snapshot.definitions))
        } catch {
            return .failure(LookupError(.unavailable, field: "registry", "cannot read the registry: \(error)"))
        }
    }

    /// The last registry error, if the latest check failed (for health checks).
    public var registryError: String? { state.withLock { $0.lastError } }

    /// Whether a background thread follows the registry.
    public var isFollowing: Bool { follower.withLock { $0 != nil } }

    /// Starts a background thread that checks the registry once per interval, so that
    /// requests never wait for it. Idempotent; stopped by `stopFollowing()` or on release.
    public func startFollowing() {
        follower.withLock { follower in
            guard follower == nil else { return }
            let started = Follower(interval: intervalNanos) { [weak self] in
                guard let self else { return false }
                self.refresh()
                return true
            }
            follower = started
        }
    }

    public func stopFollowing() {
        let stopped = follower.withLock { follower -> Follower? in
            defer { follower = nil }
            return follower
        }
        stopped?.stop()
    }
}

/// A thread that calls `tick` every interval until stopped (or until `tick` returns false).
final class Follower: Sendable {
    private let stopped = Mutex(false)
    private let condition = NSCondition()

    init(interval: UInt64, tick: @escaping @Sendable () -> Bool) {
        let thread = Thread { [self] in
            while true {
                condition.lock()
                let deadline = Date(timeIntervalSinceNow: Double(interval) / 1e9)
                while !stopped.withLock({ $0 }) && Date() < deadline {
                    _ = condition.wait(until: deadline)
                }
                condition.unlock()
                if stopped.withLock({ $0 }) || !tick() { return }
            }
        }
        thread.name = "tessera-registry-follower"
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped.withLock { $0 = true }
        condition.broadcast()
        condition.unlock()
    }
}
