import NIOCore

/// Where commands go: one server (`RedisClient`), or the node that owns each command's
/// slot (`RedisClusterClient`). Stores build their commands once, each touching keys of
/// one slot, and let the router send them.
public protocol RedisRouter: Sendable {
    /// What errors name: `host:port`, or the cluster's seeds.
    var name: String { get }
    /// Whether keys live on different nodes by slot: then a command may only name keys of
    /// one slot (`MGET`, `MSETNX`, scripts), and its slot must be given.
    var isCluster: Bool { get }

    /// Sends `commands`; their replies in order. `slots[i]` is the slot of command `i`'s
    /// keys (`nil`: every command may go anywhere — no keys, or one server).
    /// A cluster follows `MOVED` and `ASK` redirections of single commands itself.
    func sending(_ commands: RESPCommands, slots: [Int]?) -> EventLoopFuture<[RESPValue]>

    /// One pool per node (the masters of a cluster), for commands each node must run
    /// itself (`SCAN`, `INFO`).
    func nodes() throws(RedisError) -> [RedisClient]

    /// Closes every connection.
    func close() async
}

extension RedisRouter {
    /// `sending` for a thread that may block (never an event loop's): it waits on the future
    /// alone, so it needs no Swift task to run and cannot starve the cooperative pool.
    public func sendBlocking(_ commands: RESPCommands, slots: [Int]?) throws(RedisError) -> [RESPValue] {
        do {
            return try sending(commands, slots: slots).wait()
        } catch {
            throw redisError(error)
        }
    }

    /// A failed future's error as the `RedisError` it is (every failure of this client's
    /// futures is one), or one naming the server.
    public func redisError(_ error: any Error) -> RedisError {
        error as? RedisError ?? RedisError(.connection, "Redis at \(name): \(error)")
    }
}

extension RedisClient: RedisRouter {
    public var name: String { endpoint.description }
    public var isCluster: Bool { false }

    public func sending(_ commands: RESPCommands, slots: [Int]?) -> EventLoopFuture<[RESPValue]> {
        sending(commands)
    }

    public func nodes() throws(RedisError) -> [RedisClient] { [self] }
}
