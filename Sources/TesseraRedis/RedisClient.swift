import NIOCore
import NIOPosix
import Synchronization

/// A pool of connections to one Redis server, for many concurrent callers: each call takes
/// the next connection in turn (commands of concurrent calls are pipelined on it), a dropped
/// connection is replaced on the next call, and a server that cannot be reached is tried
/// again after a backoff that doubles from 50 ms to 2 s — meanwhile calls fail at once with
/// the last error instead of each waiting for a connect timeout.
public final class RedisClient: RedisSender {
    public struct Settings: Sendable {
        /// Connections kept (calls spread over them).
        public var connections = 4
        /// How long a connect or a batch may take.
        public var timeout: Duration = .seconds(5)
        /// The first and the longest wait before reconnecting to a server that failed.
        public var firstBackoff: Duration = .milliseconds(50)
        public var longestBackoff: Duration = .seconds(2)

        public init() {}
    }

    public let endpoint: RedisEndpoint
    public let settings: Settings
    private let slots: [Slot]
    /// For each event loop of the group (by identity), the slots whose connection lives on it.
    private let slotsByLoop: [ObjectIdentifier: [Slot]]
    private let next = ManagedCounter()
    private let group: any EventLoopGroup

    public init(
        _ endpoint: RedisEndpoint, settings: Settings = Settings(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.endpoint = endpoint
        self.settings = settings
        self.group = group
        // Connections are spread over the group's loops, each bound to one: a call made on an
        // event loop (the feature server answering a lookup) uses a connection of that loop,
        // so the command and its reply never cross a thread.
        let loops = Array(group.makeIterator())
        slots = (0..<max(1, settings.connections)).map { index in
            Slot(loop: loops.isEmpty ? group.next() : loops[index % loops.count])
        }
        var byLoop: [ObjectIdentifier: [Slot]] = [:]
        for slot in slots { byLoop[ObjectIdentifier(slot.loop), default: []].append(slot) }
        slotsByLoop = byLoop
    }

    /// Sends `commands` on one connection of the pool, pipelined; their replies in order.
    /// - Throws: `RedisError`; after `.connection` or `.timeout` the connection is replaced
    ///   on the next call (a write may or may not have been applied: callers retry only
    ///   idempotent commands).
    public func send(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue] {
        do {
            return try await sending(commands).get()
        } catch {
            throw RedisConnection.redisError(error, endpoint)
        }
    }

    /// `send` as a future.
    public func sending(_ commands: [[[UInt8]]]) -> EventLoopFuture<[RESPValue]> {
        sending(RESPCommands(commands))
    }

    /// Encoded commands on one connection of the pool, as a future.
    public func sending(_ commands: RESPCommands) -> EventLoopFuture<[RESPValue]> {
        var candidates = slots
        if let current = MultiThreadedEventLoopGroup.currentEventLoop,
            let local = slotsByLoop[ObjectIdentifier(current)]
        {
            candidates = local
        }
        let slot = candidates[next.increment() % candidates.count]
        // A slot still backing off after a failure while another is connected: the server is
        // back, so it connects now instead of failing calls until its wait ends.
        if slot.isBackingOff, slots.contains(where: \.isConnected) { slot.clearFailure() }
        let loop = slot.loop
        return slot.connection(endpoint, settings: settings, loop: loop).flatMap { connection in
            connection.sending(commands).flatMapError { error in
                if let error = error as? RedisError,
                    error.kind == .connection || error.kind == .timeout || error.kind == .protocolError
                {
                    slot.drop(connection)
                }
                return loop.makeFailedFuture(error)
            }
        }
    }

    /// Closes every connection (calls after it reconnect).
    public func close() async {
        for slot in slots { await slot.close() }
    }

    /// One connection of the pool, opened on demand; concurrent callers share one connect.
    final class Slot: Sendable {
        private struct State {
            var connection: RedisConnection?
            var connecting: EventLoopFuture<RedisConnection>?
            var failure: (error: RedisError, at: ContinuousClock.Instant, wait: Duration)?
        }
        private let state = Mutex(State())
        /// The event loop the slot's connection lives on.
        let loop: any EventLoop

        init(loop: any EventLoop) { self.loop = loop }

        func connection(_ endpoint: RedisEndpoint, settings: Settings, loop: any EventLoop)
            -> EventLoopFuture<RedisConnection>
        {
            let decision = state.withLock { state -> Result<EventLoopFuture<RedisConnection>?, RedisError> in
                if let connection = state.connection, connection.isActive {
                    return .success(loop.makeSucceededFuture(connection))
                }
                state.connection = nil
                if let connecting = state.connecting { return .success(connecting) }
                if let failure = state.failure, ContinuousClock.now < failure.at + failure.wait {
                    return .failure(failure.error)
                }
                return .success(nil)
            }
            switch decision {
            case .failure(let error): return loop.makeFailedFuture(error)
            case .success(let future?): return future
            case .success(nil): break
            }
            let future = RedisConnection.connecting(to: endpoint, timeout: settings.timeout, group: loop)
            let shared = state.withLock { state -> EventLoopFuture<RedisConnection> in
                // Another caller may have started one meanwhile: use it, drop ours when it opens.
                if let connecting = state.connecting { return connecting }
                state.connecting = future
                return future
            }
            if shared !== future {
                future.whenSuccess { $0.closeNow() }
                return shared
            }
            future.whenComplete { result in
                self.state.withLock { state in
                    state.connecting = nil
                    switch result {
                    case .success(let connection):
                        state.connection = connection
                        state.failure = nil
                    case .failure(let error):
                        let redis = RedisConnection.redisError(error, endpoint)
                        let wait =
                            state.failure.map { min(settings.longestBackoff, $0.wait * 2) } ?? settings.firstBackoff
                        state.failure = (redis, ContinuousClock.now, wait)
                    }
                }
            }
            return future
        }

        var isConnected: Bool { state.withLock { $0.connection?.isActive ?? false } }

        var isBackingOff: Bool {
            state.withLock { state in
                guard let failure = state.failure else { return false }
                return ContinuousClock.now < failure.at + failure.wait
            }
        }

        func clearFailure() { state.withLock { $0.failure = nil } }

        func drop(_ dropped: RedisConnection) {
            let isCurrent = state.withLock { state -> Bool in
                guard state.connection === dropped else { return false }
                state.connection = nil
                return true
            }
            if isCurrent { dropped.closeNow() }
        }

        func close() async {
            let open = state.withLock { state -> RedisConnection? in
                defer {
                    state.connection = nil
                    state.failure = nil
                }
                return state.connection
            }
            await open?.close()
        }
    }
}

/// A counter many threads increment (the pool's round robin).
final class ManagedCounter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max }
}
