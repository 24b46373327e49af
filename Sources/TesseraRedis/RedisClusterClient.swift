import NIOCore
import NIOPosix
import Synchronization

/// A Redis Cluster: the slot map read from any reachable node (`CLUSTER SLOTS`), a pool per
/// master, each command sent to the master of its slot, and the cluster's redirections
/// followed — `MOVED` (the slot moved for good: the map is corrected and read again), `ASK`
/// (the slot is migrating: this one command goes to the target after `ASKING`). A command
/// is resent only after a redirection, which means it did not run; a node that cannot be
/// reached fails the call and makes the map be read again (a failover promotes a replica),
/// so the next call goes to the new master.
public final class RedisClusterClient: RedisRouter {
    /// The nodes to start from; their user and password apply to every node.
    public let seeds: [RedisEndpoint]
    public let settings: RedisClient.Settings
    private let group: any EventLoopGroup
    private let state = Mutex(Topology())
    /// Redirections followed for one command before giving up (a map in flux).
    static let maxRedirections = 5

    struct Topology {
        /// Per slot, the index of its master in `nodes` (−1: unknown).
        var owners = [Int](repeating: -1, count: RedisSlot.count)
        var nodes: [RedisClient] = []
        var byAddress: [String: Int] = [:]
        var refreshing: EventLoopPromise<Void>?
        var mapped = false
    }

    public init(
        seeds: [RedisEndpoint], settings: RedisClient.Settings = RedisClient.Settings(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.seeds = seeds
        self.settings = settings
        self.group = group
    }

    public var name: String { "the Redis Cluster at " + seeds.map(\.description).joined(separator: ", ") }
    public var isCluster: Bool { true }

    public func nodes() throws(RedisError) -> [RedisClient] {
        if !state.withLock({ $0.mapped }) {
            do {
                try refresh().wait()
            } catch {
                throw redisError(error)
            }
        }
        let (nodes, owners) = state.withLock { ($0.nodes, Set($0.owners)) }
        // The masters that own slots (a node that lost all its slots is not asked).
        return nodes.enumerated().filter { owners.contains($0.offset) }.map(\.element)
    }

    /// The pool for `host:port`, made on first use with the seeds' credentials.
    private func node(_ host: String, _ port: Int, in topology: inout Topology) -> Int {
        let address = "\(host):\(port)"
        if let index = topology.byAddress[address] { return index }
        var endpoint = seeds.first ?? RedisEndpoint(host: host)
        endpoint.host = host
        endpoint.port = port
        // A cluster has only database 0.
        endpoint.database = 0
        topology.nodes.append(RedisClient(endpoint, settings: settings, group: group))
        topology.byAddress[address] = topology.nodes.count - 1
        return topology.nodes.count - 1
    }

    /// Reads the slot map again (one read at a time: concurrent callers share it).
    func refresh() -> EventLoopFuture<Void> {
        let loop = group.next()
        let (future, start) = state.withLock { topology -> (EventLoopFuture<Void>, Bool) in
            if let refreshing = topology.refreshing { return (refreshing.futureResult, false) }
            let promise = loop.makePromise(of: Void.self)
            topology.refreshing = promise
            return (promise.futureResult, true)
        }
        guard start else { return future }
        // Known nodes first (the map may have moved past the seeds), then the seeds.
        var candidates = state.withLock { $0.nodes.map(\.endpoint) }
        for seed in seeds where !candidates.contains(where: { $0.host == seed.host && $0.port == seed.port }) {
            candidates.append(seed)
        }
        tryRefresh(candidates[...], lastError: nil)
        return future
    }

    private func tryRefresh(_ candidates: ArraySlice<RedisEndpoint>, lastError: RedisError?) {
        guard let endpoint = candidates.first else {
            finishRefresh(.failure(lastError ?? RedisError(.connection, "no node of \(name) to ask for its slots")))
            return
        }
        let client = state.withLock { topology in topology.nodes[node(endpoint.host, endpoint.port, in: &topology)] }
        var command = RESPCommands()
        command.command(["CLUSTER", "SLOTS"])
        client.sending(command).whenComplete { result in
            switch result {
            case .success(let replies):
                guard let map = RedisClusterClient.parseSlots(replies.first, defaultHost: endpoint.host) else {
                    let answer = replies.first ?? .bulk(nil)
                    self.tryRefresh(
                        candidates.dropFirst(),
                        lastError: RedisError(
                            .server, "Redis at \(endpoint) is not a cluster node (CLUSTER SLOTS: \(answer))"))
                    return
                }
                self.state.withLock { topology in
                    var owners = [Int](repeating: -1, count: RedisSlot.count)
                    for (range, host, port) in map {
                        let index = self.node(host, port, in: &topology)
                        for slot in range where slot >= 0 && slot < RedisSlot.count { owners[slot] = index }
                    }
                    topology.owners = owners
                    topology.mapped = true
                }
                self.finishRefresh(.success(()))
            case .failure(let error):
                self.tryRefresh(candidates.dropFirst(), lastError: RedisConnection.redisError(error, endpoint))
            }
        }
    }

    private func finishRefresh(_ result: Result<Void, RedisError>) {
        let promise = state.withLock { topology -> EventLoopPromise<Void>? in
            defer { topology.refreshing = nil }
            return topology.refreshing
        }
        promise?.completeWith(result.mapError { $0 as any Error })
    }

    /// `CLUSTER SLOTS`: `[[start, end, [host, port, id…], replicas…], …]`.
    static func parseSlots(_ reply: RESPValue?, defaultHost: String) -> [(ClosedRange<Int>, String, Int)]? {
        guard case .array(let ranges?)? = reply else { return nil }
        var out: [(ClosedRange<Int>, String, Int)] = []
        for range in ranges {
            guard case .array(let parts?) = range, parts.count >= 3, case .integer(let start) = parts[0],
                case .integer(let end) = parts[1], start <= end, case .array(let master?) = parts[2], master.count >= 2,
                case .integer(let port) = master[1]
            else { return nil }
            var host = master[0].string ?? ""
            // An empty or "?" host means the node asked (it does not know its own address).
            if host.isEmpty || host == "?" { host = defaultHost }
            out.append((Int(start)...Int(end), host, Int(port)))
        }
        return out.isEmpty ? nil : out
    }

    /// A redirection in an error reply: `MOVED <slot> <host>:<port>` or `ASK <slot> <host>:<port>`.
    struct Redirect {
        var ask: Bool
        var slot: Int
        var host: String
        var port: Int
    }

    static func redirect(_ message: String) -> Redirect? {
        let parts = message.split(separator: " ")
        guard parts.count == 3, parts[0] == "MOVED" || parts[0] == "ASK", let slot = Int(parts[1]),
            let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...])
        else { return nil }
        var host = String(parts[2][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return Redirect(ask: parts[0] == "ASK", slot: slot, host: host, port: port)
    }

    public func sending(_ commands: RESPCommands, slots: [Int]?) -> EventLoopFuture<[RESPValue]> {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        guard commands.count > 0 else { return loop.makeSucceededFuture([]) }
        let ready = state.withLock { $0.mapped } ? loop.makeSucceededVoidFuture() : refresh().hop(to: loop)
        return ready.flatMap { self.route(commands, slots: slots, loop: loop, depth: 0) }
    }

    /// Sends each command to its slot's master, then follows redirections of the ones redirected.
    private func route(_ commands: RESPCommands, slots: [Int]?, loop: any EventLoop, depth: Int)
        -> EventLoopFuture<[RESPValue]>
    {
        let (owners, nodes) = state.withLock { ($0.owners, $0.nodes) }
        guard !nodes.isEmpty else {
            return loop.makeFailedFuture(RedisError(.connection, "\(name) has no known node"))
        }
        var groups: [Int: [Int]] = [:]
        for index in 0..<commands.count {
            let slot = slots.map { $0[index] } ?? 0
            let owner = slot >= 0 && slot < RedisSlot.count ? owners[slot] : -1
            // A slot no node claims yet: ask any node; it answers with a redirection.
            groups[owner < 0 ? 0 : owner, default: []].append(index)
        }
        let sends = groups.map { node, indices -> (indices: [Int], node: Int, future: EventLoopFuture<[RESPValue]>) in
            var part = RESPCommands()
            for index in indices { part.append(encoded: commands.command(at: index)) }
            return (indices, node, nodes[node].sending(part))
        }
        return EventLoopFuture.whenAllComplete(sends.map(\.future), on: loop).flatMap { results in
            var replies = [RESPValue](repeating: .bulk(nil), count: commands.count)
            var redirected: [(index: Int, to: Redirect)] = []
            for (send, result) in zip(sends, results) {
                switch result {
                case .failure(let error):
                    // The node is gone or failing over: read the map again for the next call.
                    _ = self.refresh()
                    return loop.makeFailedFuture(error)
                case .success(let values):
                    for (index, value) in zip(send.indices, values) {
                        if case .error(let message) = value, let redirect = RedisClusterClient.redirect(message) {
                            redirected.append((index, redirect))
                        } else {
                            replies[index] = value
                        }
                    }
                }
            }
            guard !redirected.isEmpty else { return loop.makeSucceededFuture(replies) }
            guard depth < RedisClusterClient.maxRedirections else {
                return loop.makeFailedFuture(
                    RedisError(.server, "\(self.name) kept redirecting a command (the slot map is changing)"))
            }
            let answered = replies
            return self.follow(redirected, commands, slots: slots, loop: loop, depth: depth).map { answers in
                var all = answered
                for (index, answer) in answers { all[index] = answer }
                return all
            }
        }
    }

    /// Resends redirected commands: `MOVED` through the corrected map, `ASK` to the named node.
    private func follow(
        _ redirected: [(index: Int, to: Redirect)], _ commands: RESPCommands, slots: [Int]?, loop: any EventLoop,
        depth: Int
    ) -> EventLoopFuture<[(Int, RESPValue)]> {
        var moved: [Int] = []
        var asks: [(index: Int, node: RedisClient)] = []
        state.withLock { topology in
            for (index, redirect) in redirected {
                let node = node(redirect.host, redirect.port, in: &topology)
                if redirect.ask {
                    asks.append((index, topology.nodes[node]))
                } else {
                    topology.owners[redirect.slot] = node
                    moved.append(index)
                }
            }
        }
        // A slot moved: the rest of the map may have too.
        if !moved.isEmpty { _ = refresh() }
        var futures: [EventLoopFuture<[(Int, RESPValue)]>] = []
        if !moved.isEmpty {
            var again = RESPCommands()
            for index in moved { again.append(encoded: commands.command(at: index)) }
            let resent = moved
            let againSlots = slots.map { all in resent.map { all[$0] } }
            futures.append(
                route(again, slots: againSlots, loop: loop, depth: depth + 1).map { Array(zip(resent, $0)) })
        }
        for (index, node) in asks {
            var asking = RESPCommands()
            asking.command(["ASKING"])
            asking.append(encoded: commands.command(at: index))
            futures.append(node.sending(asking).map { [(index, $0.count == 2 ? $0[1] : .bulk(nil))] })
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop).map { $0.flatMap { $0 } }
    }

    public func close() async {
        for node in state.withLock({ $0.nodes }) { await node.close() }
    }
}
