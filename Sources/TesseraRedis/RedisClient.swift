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
    private let next = ManagedCounter()
    private let group: any EventLoopGroup

    public init(
        _ endpoint: RedisEndpoint, settings: Settings = Settings(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.endpoint = endpoint
        self.settings = settings
        self.group = group
        slots = (0..<max(1, settings.connections)).map { _ in Slot() }
    }

    /// Sends `commands` on one connection of the pool, pipelined; their replies in order.
    /// - Throws: `RedisError`; after `.connection` or `.timeout` the connection is replaced
    ///   on the next call (a write may or may not have been applied: callers retry only
    ///   idempotent commands).
    public func send(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue] {
        let slot = slots[next.increment() % slots.count]
        let connection = try await slot.connection(endpoint, settings: settings, group: group)
        do {
            return try await connection.send(commands)
        } catch {
            if error.kind == .connection || error.kind == .timeout || error.kind == .protocolError {
                await slot.drop(connection)
            }
            throw error
        }
    }

    /// Closes every connection (calls after it reconnect).
    public func close() async {
        for slot in slots { await slot.close() }
    }

    /// One connection of the pool, opened on demand; connects are serialized per slot.
    actor Slot {
        private var connection: RedisConnection?
        private var failure: (error: RedisError, at: ContinuousClock.Instant, wait: Duration)?

        func connection(_ endpoint: RedisEndpoint, settings: Settings, group: any EventLoopGroup)
            async throws(RedisError) -> RedisConnection
        {
            if let connection, connection.isActive { return connection }
            connection = nil
            if let failure, ContinuousClock.now < failure.at + failure.wait { throw failure.error }
            do {
                let opened = try await RedisConnection.connect(to: endpoint, timeout: settings.timeout, group: group)
                connection = opened
                failure = nil
                return opened
            } catch {
                let wait = failure.map { min(settings.longestBackoff, $0.wait * 2) } ?? settings.firstBackoff
                failure = (error, ContinuousClock.now, wait)
                throw error
            }
        }

        func drop(_ dropped: RedisConnection) async {
            guard connection === dropped else { return }
            connection = nil
            await dropped.close()
        }

        func close() async {
            await connection?.close()
            connection = nil
            failure = nil
        }
    }
}

/// A counter many threads increment (the pool's round robin).
final class ManagedCounter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max }
}
