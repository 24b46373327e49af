import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraRedis

/// `online_store: {type: redis, url: redis://host:6379/0, …}`.
public struct RedisOnlineStoreFactory: OnlineStoreFactory {
    public init() {}

    public var type: String { "redis" }
    public var summary: String {
        "a Redis server (6.2 or later): one key per entity and view, newest-wins writes by a Lua script"
    }
    public var options: [BackendOption] {
        let defaults = RedisOnlineStore.Configuration()
        return [
            BackendOption(
                "url", .string, default: "redis://127.0.0.1:6379/0",
                help:
                    "redis://[user[:password]@]host[:port][/database]; without a password in the URL, TESSERA_REDIS_PASSWORD is used if set"
            ),
            BackendOption(
                "cluster", .stringList,
                help:
                    "a Redis Cluster instead of one server: some of its nodes as host:port (or redis:// URLs with credentials); the slot map is read from any that answers. Without credentials in them, url's user and password (or TESSERA_REDIS_PASSWORD) are used"
            ),
            BackendOption(
                "key_prefix", .string, default: defaults.keyPrefix,
                help: "the first part of every key, so several repositories can share one server"),
            BackendOption(
                "connections", .integer(1...256), default: String(defaults.connections),
                help: "connections per process; concurrent calls are pipelined over them"),
            BackendOption(
                "timeout", .duration, default: "5s",
                help: "how long a connect or one round trip may take before the call fails"),
            BackendOption(
                "expire_keys", .bool, default: String(defaults.expireKeys),
                help:
                    "row keys of a view with a ttl expire (PXAT) at their event time + ttl + expire_grace, so Redis evicts dead keys"
            ),
            BackendOption(
                "expire_grace", .duration, default: "1d",
                help: "how long a row past its ttl stays (served as OUTSIDE_MAX_AGE) before Redis evicts it"),
            BackendOption(
                "atomic_keys", .integer(1...1_000_000), default: String(defaults.atomicKeys),
                help:
                    "keys one script call writes at most: smaller writes are atomic; larger ones (bulk loads) are split into atomic parts of this size"
            ),
        ]
    }

    public func makeStore(_ settings: BackendSettings) throws(OnlineStoreError) -> any OnlineStore {
        let url = settings.string("url") ?? "redis://127.0.0.1:6379/0"
        var endpoint: RedisEndpoint
        do {
            endpoint = try RedisEndpoint(url: url)
        } catch {
            throw OnlineStoreError(.unsupported, "online_store.url: \(error.description)")
        }
        if endpoint.password == nil, let password = ProcessInfo.processInfo.environment["TESSERA_REDIS_PASSWORD"],
            !password.isEmpty
        {
            endpoint.password = password
        }
        let configuration = RedisOnlineStoreFactory.configuration(settings)
        if let seeds = settings.list("cluster"), !seeds.isEmpty {
            var endpoints: [RedisEndpoint] = []
            for seed in seeds {
                do {
                    var node = try RedisEndpoint(url: seed.hasPrefix("redis://") ? seed : "redis://" + seed)
                    if node.password == nil {
                        node.user = node.user ?? endpoint.user
                        node.password = endpoint.password
                    }
                    endpoints.append(node)
                } catch {
                    throw OnlineStoreError(.unsupported, "online_store.cluster: \(error.description)")
                }
            }
            return RedisOnlineStore(cluster: endpoints, configuration: configuration)
        }
        return RedisOnlineStore(endpoint: endpoint, configuration: configuration)
    }

    public static func configuration(_ settings: BackendSettings) -> RedisOnlineStore.Configuration {
        var configuration = RedisOnlineStore.Configuration()
        if let prefix = settings.string("key_prefix") { configuration.keyPrefix = prefix }
        if let connections = settings.integer("connections") { configuration.connections = connections }
        if let timeout = settings.duration("timeout"), timeout > .zero {
            configuration.timeout = .microseconds(timeout.microseconds)
        }
        if let expire = settings.bool("expire_keys") { configuration.expireKeys = expire }
        if let grace = settings.duration("expire_grace") { configuration.expireGrace = grace }
        if let keys = settings.integer("atomic_keys") { configuration.atomicKeys = keys }
        return configuration
    }
}
