import NIOCore
import NIOPosix
import Synchronization

/// A batch of commands written together; their replies come back in order.
struct RedisRequest: Sendable {
    let bytes: ByteBuffer
    let count: Int
    let promise: EventLoopPromise<[RESPValue]>
}

/// The channel handler: writes batches, parses replies and hands each batch its replies in
/// order (Redis answers commands of one connection in the order they were sent).
final class RESPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private var parser = RESPParser()
    private var waiting = CircularBuffer<(count: Int, promise: EventLoopPromise<[RESPValue]>)>()
    /// The replies so far of the oldest waiting batch (kept apart from `waiting`: appending
    /// through its subscript would copy the array on every reply).
    private var replies: [RESPValue] = []
    private let endpoint: String
    /// Set once the connection closed: a later write would never be answered.
    private var closed = false

    init(endpoint: String) { self.endpoint = endpoint }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard !closed else {
            let error = RedisError(.connection, "the connection to \(endpoint) is closed")
            request.promise.fail(error)
            promise?.fail(error)
            return
        }
        waiting.append((request.count, request.promise))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        parser.feed(buffer.readableBytesView)
        do {
            while let value = try parser.next() {
                guard !waiting.isEmpty else {
                    fail(RedisError(.protocolError, "\(endpoint) sent a reply to no command"), context)
                    return
                }
                if replies.isEmpty { replies.reserveCapacity(waiting[waiting.startIndex].count) }
                replies.append(value)
                if replies.count == waiting[waiting.startIndex].count {
                    let done = waiting.removeFirst()
                    let answered = replies
                    replies = []
                    done.promise.succeed(answered)
                }
            }
        } catch {
            fail(RedisError(.protocolError, "\(endpoint): \(error.message)"), context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        failWaiting(RedisError(.connection, "the connection to \(endpoint) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RedisError(.connection, "the connection to \(endpoint) failed: \(error)"), context)
    }

    private func fail(_ error: RedisError, _ context: ChannelHandlerContext) {
        closed = true
        failWaiting(error)
        context.close(promise: nil)
    }

    private func failWaiting(_ error: RedisError) {
        replies = []
        while let next = waiting.popFirst() { next.promise.fail(error) }
    }
}

/// One connection to a Redis server: commands are pipelined (a batch is one write, its
/// replies are read in order), every batch has a timeout, and the connection logs in
/// (`AUTH`, with an ACL user or not) and selects its database when it opens.
public final class RedisConnection: RedisSender {
    public let endpoint: RedisEndpoint
    let channel: any Channel
    let timeout: TimeAmount
    /// Whether a flush of writes made on the channel's loop is already queued on it.
    private let flushQueued = Atomic<Bool>(false)

    init(channel: any Channel, endpoint: RedisEndpoint, timeout: TimeAmount) {
        self.channel = channel
        self.endpoint = endpoint
        self.timeout = timeout
    }

    /// Connects, logs in and selects the database.
    /// - Throws: `RedisError` naming the host and port and why (refused, timed out,
    ///   credentials refused), never the password.
    public static func connect(
        to endpoint: RedisEndpoint, timeout: Duration = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RedisError) -> RedisConnection {
        do {
            return try await connecting(to: endpoint, timeout: timeout, group: group).get()
        } catch {
            throw RedisConnection.redisError(error, endpoint)
        }
    }

    /// `connect` as a future: what a caller that blocks a thread (not an event loop) waits
    /// on, so that no Swift task has to run for it to complete.
    public static func connecting(
        to endpoint: RedisEndpoint, timeout: Duration = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> EventLoopFuture<RedisConnection> {
        let amount = TimeAmount.nanoseconds(
            Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let name = endpoint.description
        let opened = ClientBootstrap(group: group)
            .connectTimeout(amount)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RESPChannelHandler(endpoint: name))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .flatMapErrorThrowing { error -> any Channel in
                throw RedisError(.connection, "cannot connect to Redis at \(name): \(RedisConnection.reason(error))")
            }
        return opened.flatMap { channel in
            let connection = RedisConnection(channel: channel, endpoint: endpoint, timeout: amount)
            var greeting: [[[UInt8]]] = []
            if let password = endpoint.password {
                var auth = ["AUTH"]
                if let user = endpoint.user { auth.append(user) }
                auth.append(password)
                greeting.append(auth.map { Array($0.utf8) })
            }
            if endpoint.database != 0 {
                greeting.append(["SELECT", String(endpoint.database)].map { Array($0.utf8) })
            }
            guard !greeting.isEmpty else { return channel.eventLoop.makeSucceededFuture(connection) }
            return connection.sending(greeting).flatMapThrowing { replies -> RedisConnection in
                var index = 0
                if endpoint.password != nil {
                    if case .error(let message)? = replies.first {
                        let who = endpoint.user.map { "user '\($0)'" } ?? "the default user"
                        throw RedisError(
                            .authentication, "Redis at \(name) refused the credentials of \(who): \(message)")
                    }
                    index = 1
                }
                if endpoint.database != 0, index < replies.count, case .error(let message) = replies[index] {
                    throw RedisError(
                        .server, "Redis at \(name) cannot select database \(endpoint.database): \(message)")
                }
                return connection
            }.flatMapError { error in
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
    }

    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectTimeout") { return "no answer within the connect timeout" }
        if text.lowercased().contains("refused") { return "connection refused (is redis-server running there?)" }
        return text
    }

    /// Any failure of a future of this client as the `RedisError` it is (or wraps).
    public static func redisError(_ error: any Error, _ endpoint: RedisEndpoint) -> RedisError {
        if let error = error as? RedisError { return error }
        return RedisError(.connection, "the connection to \(endpoint) failed: \(error)")
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Sends `commands` (each its arguments, the name first) in one write; their replies, in
    /// order. A server's error reply is a `.error` value, not a throw.
    /// - Throws: `RedisError` `.connection` (closed), `.timeout` (no full answer within the
    ///   connection's timeout: the connection is then closed), `.protocolError`.
    public func send(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue] {
        do {
            return try await sending(commands).get()
        } catch {
            throw RedisConnection.redisError(error, endpoint)
        }
    }

    /// `send` as a future, failed with a `RedisError`.
    public func sending(_ commands: [[[UInt8]]]) -> EventLoopFuture<[RESPValue]> {
        sending(RESPCommands(commands))
    }

    /// Commands already encoded, sent in one write.
    public func sending(_ commands: RESPCommands) -> EventLoopFuture<[RESPValue]> {
        guard commands.count > 0 else { return channel.eventLoop.makeSucceededFuture([]) }
        let bytes = commands.bytes
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let timedOut = Atomic<Bool>(false)
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            // The replies still to come would be read as the next batch's: close instead.
            timedOut.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        let request = RedisRequest(bytes: ByteBuffer(bytes: bytes), count: commands.count, promise: promise)
        if channel.eventLoop.inEventLoop {
            // Sends made while the loop handles one round of events (lookups from many HTTP
            // connections) go out in one write: one system call, one wakeup of the server.
            channel.write(request, promise: nil)
            if !flushQueued.exchange(true, ordering: .acquiring) {
                let queued = self
                channel.eventLoop.execute {
                    queued.flushQueued.store(false, ordering: .releasing)
                    queued.channel.flush()
                }
            }
        } else {
            channel.writeAndFlush(request, promise: nil)
        }
        let endpoint = self.endpoint
        let timeout = self.timeout
        return promise.futureResult.always { _ in timer.cancel() }.flatMapErrorThrowing { error in
            if timedOut.load(ordering: .relaxed) {
                throw RedisError(
                    .timeout, "Redis at \(endpoint) did not answer within \(timeout.nanoseconds / 1_000_000) ms")
            }
            throw RedisConnection.redisError(error, endpoint)
        }
    }

    public func close() async {
        try? await channel.close()
    }

    /// Closes without waiting.
    public func closeNow() {
        channel.close(promise: nil)
    }
}

/// What sends pipelined commands: a connection, or a pool of them.
public protocol RedisSender: Sendable {
    var endpoint: RedisEndpoint { get }
    func send(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue]
}

extension RedisSender {
    /// One command; a server error reply is thrown as `RedisError.Kind.server`.
    @discardableResult
    public func command(_ arguments: [String]) async throws(RedisError) -> RESPValue {
        let reply = try await send([arguments.map { Array($0.utf8) }]).first ?? .bulk(nil)
        if case .error(let message) = reply { throw RedisError(.server, "Redis at \(endpoint): \(message)") }
        return reply
    }
}
