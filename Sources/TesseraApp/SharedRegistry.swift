import Synchronization
import TesseraRegistry

/// A registry store behind a lock, shared by a `FeatureStore` and its `FeatureLookup`.
///
/// Registry stores need not be thread-safe (the SQLite one keeps a connection); registry
/// calls are rare and short (an apply, a head check a second), so one lock serializes them.
public final class SharedRegistry: Sendable {
    private let store: Mutex<any RegistryStore>

    public init(_ store: sending any RegistryStore) {
        self.store = Mutex(store)
    }

    /// Runs `body` with the store, waiting for the lock.
    public func with<T: Sendable>(_ body: (any RegistryStore) throws(RegistryError) -> T) throws(RegistryError) -> T {
        try store.withLock { (store) throws(RegistryError) -> T in try body(store) }
    }

    /// Runs `body` with the store if no other thread holds it; `nil` otherwise.
    public func withIfAvailable<T: Sendable>(_ body: (any RegistryStore) -> T) -> T? {
        store.withLockIfAvailable { body($0) }
    }
}
