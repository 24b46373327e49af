import NIOCore
import NIOPosix
import Synchronization
import TesseraCore
import TesseraOnline
import TesseraRedis

/// The online store in Redis: one server (`online_store: {type: redis, url: …}`) or a Redis
/// Cluster (`cluster: [host:port, …]`), reached through a `RedisRouter`.
///
/// **Layout** (docs/operations.md has the measured memory per entity):
/// - one string key per (view, entity): `<prefix>:r:<view>:<entity key bytes>`, whose value is
///   a 24-byte header — event time and created time (8 bytes each, big-endian with the sign
///   bit flipped, so byte order is time order) and the id of its row layout — followed by the
///   row's encoded features (`RowLayout`, the encoding the embedded store uses);
/// - one string key per (view, entity) of aggregation state: `<prefix>:s:<view>:<entity>`;
/// - the layouts, shared by every view: hash `<prefix>:layouts`, field the layout's 8-byte id
///   (a digest of its names and types, so writers need no coordination), value its spec;
/// - the views written: set `<prefix>:views`.
///
/// A lookup of any number of keys of one view is one `MGET`. A write is a Lua script that
/// compares each stored header with the new one and keeps the newer, so writers racing from
/// several machines cannot let an older row win (the conformance suite's rule). With
/// `expire_keys`, each row key gets `PXAT` its event time + the view's ttl + a grace, so
/// Redis evicts dead keys; ttl is still applied on read, as in every store.
///
/// Atomicity: a write of up to `Configuration.atomicKeys` keys, or one that updates held
/// aggregation states, is one script call on a server (one per slot in a cluster) —
/// atomic. Larger writes (bulk loads by `materialize`) go as `MSETNX`/`SET NX` with only the
/// keys that exist through the script: newest-wins per key, no atomicity across keys; a
/// load cut short leaves some rows applied, and a rerun converges to the same store.
///
/// The `OnlineStore` calls block the calling thread on a future (never an event loop's)
/// and need no Swift task to complete; lookups from the feature server use the
/// `CallbackOnlineStore` read instead, on its event loops.
public final class RedisOnlineStore: CallbackOnlineStore {
    public struct Configuration: Sendable {
        /// The first part of every key, so several repositories can share one server.
        public var keyPrefix = "tessera"
        public var connections = 4
        /// How long a connect or one round trip may take.
        public var timeout: Duration = .seconds(5)
        /// Whether row keys expire (`PXAT`) once their view's ttl and `expireGrace` have passed.
        public var expireKeys = true
        /// How long a dead row stays readable (as `OUTSIDE_MAX_AGE`) before Redis evicts it.
        public var expireGrace: TimeSpan = .days(1)
        /// Keys one script call writes at most (see the type's note on atomicity).
        public var atomicKeys = 4096

        public init() {}
    }

    public let configuration: Configuration
    /// One server, or a cluster's masters by slot.
    let router: any RedisRouter
    let keys: RedisKeyspace
    /// The slots of `<prefix>:views` and `<prefix>:layouts` (0 on one server).
    let viewsSlot: Int
    let layoutsSlot: Int
    /// Layouts by id, as read from or written to `<prefix>:layouts`.
    let layouts = Mutex<[UInt64: RowLayout]>([:])
    /// The write script's SHA-1, once Redis has it (`SCRIPT LOAD`); cleared on `NOSCRIPT`.
    let loadedScript = Mutex<[UInt8]?>(nil)

    /// A store on the server at `endpoint`. Nothing is connected until the first call, so a
    /// server that is down at start-up is an error of the calls, not of opening.
    public convenience init(
        endpoint: RedisEndpoint, configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.init(
            router: RedisClient(endpoint, settings: RedisOnlineStore.settings(configuration), group: group),
            configuration: configuration)
    }

    /// A store on the Redis Cluster that `seeds` belong to (any reachable one gives the slot map).
    public convenience init(
        cluster seeds: [RedisEndpoint], configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.init(
            router: RedisClusterClient(seeds: seeds, settings: RedisOnlineStore.settings(configuration), group: group),
            configuration: configuration)
    }

    init(router: any RedisRouter, configuration: Configuration) {
        self.router = router
        self.configuration = configuration
        let keys = RedisKeyspace(prefix: configuration.keyPrefix)
        self.keys = keys
        viewsSlot = router.isCluster ? RedisSlot.of(keys.views.utf8) : 0
        layoutsSlot = router.isCluster ? RedisSlot.of(keys.layouts.utf8) : 0
    }

    static func settings(_ configuration: Configuration) -> RedisClient.Settings {
        var settings = RedisClient.Settings()
        settings.connections = configuration.connections
        settings.timeout = configuration.timeout
        return settings
    }

    deinit {
        let router = self.router
        Task { await router.close() }
    }

    /// How errors name the server: `Redis at host:port`, or the cluster and its seeds.
    var place: String { router.isCluster ? router.name : "Redis at \(router.name)" }

    /// The slot of a key (`head` + `tail`) when the store is a cluster; 0 on one server.
    func slot(_ head: some Collection<UInt8>, _ tail: some Collection<UInt8> = EmptyCollection()) -> Int {
        router.isCluster ? RedisSlot.of(head, tail) : 0
    }

    /// `indices` grouped by the slot `slotOf` gives each, in slot order; one group (slot 0)
    /// on a single server, where a command may name any keys.
    func bySlot(_ indices: some Collection<Int>, _ slotOf: (Int) -> Int) -> [(slot: Int, members: [Int])] {
        guard router.isCluster else { return [(0, Array(indices))] }
        var groups: [Int: [Int]] = [:]
        for index in indices { groups[slotOf(index), default: []].append(index) }
        return groups.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Sends encoded commands (`slots`: each one's key slot, in a cluster) and waits for their replies.
    func round(_ commands: RESPCommands, slots: [Int]? = nil) throws(OnlineStoreError) -> [RESPValue] {
        do {
            return try router.sendBlocking(commands, slots: slots)
        } catch {
            throw RedisOnlineStore.storeError(error)
        }
    }

    /// One command of text arguments (on the node of `slot`); a server error is thrown.
    func command(_ arguments: [String], slot: Int = 0) throws(OnlineStoreError) -> RESPValue {
        var commands = RESPCommands()
        commands.command(arguments)
        let reply = try round(commands, slots: [slot]).first ?? .bulk(nil)
        try check(reply, doing: arguments.first ?? "")
        return reply
    }

    /// The nodes commands of every node go to: the server, or the cluster's masters.
    func nodes() throws(OnlineStoreError) -> [RedisClient] {
        do {
            return try router.nodes()
        } catch {
            throw RedisOnlineStore.storeError(error)
        }
    }

    /// One command of text arguments on `node`; a server error is thrown.
    func command(_ arguments: [String], on node: RedisClient) throws(OnlineStoreError) -> RESPValue {
        var commands = RESPCommands()
        commands.command(arguments)
        let reply: RESPValue
        do {
            reply = try node.sendBlocking(commands, slots: nil).first ?? .bulk(nil)
        } catch {
            throw RedisOnlineStore.storeError(error)
        }
        try check(reply, doing: arguments.first ?? "")
        return reply
    }

    /// Throws a server's error reply as an `OnlineStoreError` naming the server.
    func check(_ reply: RESPValue, doing what: String) throws(OnlineStoreError) {
        if case .error(let message) = reply {
            throw OnlineStoreError(.io, "\(place) refused \(what): \(message)")
        }
    }

    static func storeError(_ error: RedisError) -> OnlineStoreError {
        OnlineStoreError(.io, "the Redis online store is unavailable: \(error.description)")
    }
}

/// Where everything lives in Redis (see `RedisOnlineStore`).
struct RedisKeyspace: Sendable {
    let prefix: String
    let views: String
    let layouts: String

    init(prefix: String) {
        self.prefix = prefix
        views = "\(prefix):views"
        layouts = "\(prefix):layouts"
    }

    func rows(_ view: String) -> [UInt8] { Array("\(prefix):r:\(view):".utf8) }
    func states(_ view: String) -> [UInt8] { Array("\(prefix):s:\(view):".utf8) }

    /// A `SCAN MATCH` pattern for every key under `head`: its glob characters escaped.
    static func pattern(_ head: [UInt8]) -> String {
        var out = ""
        for character in String(decoding: head, as: UTF8.self) {
            if "*?[]\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out + "*"
    }
}

/// The 24-byte header of a stored row: event and created time in byte-comparable form (what
/// the write script compares), then the layout id.
enum RedisRowHeader {
    static let size = 24

    /// The times in the integer encoding of entity keys (big-endian, sign bit flipped).
    static func append(event: Int64, created: Int64, layout: UInt64, to out: inout [UInt8]) {
        EntityKey.appendInt(event, to: &out)
        EntityKey.appendInt(created, to: &out)
        EntityKey.appendInt(Int64(bitPattern: layout ^ (1 << 63)), to: &out)
    }

    static func word(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<8 { value = value << 8 | UInt64(bytes[offset + k]) }
        return value
    }

    static func times(_ bytes: UnsafeRawBufferPointer) -> (event: Int64, created: Int64, layout: UInt64) {
        (
            Int64(bitPattern: word(bytes, at: 0) ^ (1 << 63)), Int64(bitPattern: word(bytes, at: 8) ^ (1 << 63)),
            word(bytes, at: 16)
        )
    }

    /// The id as 8 big-endian bytes (as in a row's header).
    static func idBytes(_ id: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        EntityKey.appendInt(Int64(bitPattern: id ^ (1 << 63)), to: &out)
        return out
    }
}
