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
    private var waiting = CircularBuffer<(count: Int, replies: [RESPValue], promise: EventLoopPromise<[RESPValue]>)>()
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
        waiting.append((request.count, [], request.promise))
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
                waiting[waiting.startIndex].replies.append(value)
                if waiting[waiting.startIndex].replies.count == waiting[waiting.startIndex].count {
                    let done = waiting.removeFirst()
                    done.promise.succeed(done.replies)
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
        let amount = TimeAmount.nanoseconds(
            Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let name = endpoint.description
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(amount)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RESPChannelHandler(endpoint: name))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
        } catch {
            throw RedisError(.connection, "cannot connect to Redis at \(name): \(RedisConnection.reason(error))")
        }
        let connection = RedisConnection(channel: channel, endpoint: endpoint, timeout: amount)
        do throws(RedisError) {
            if let password = endpoint.password {
                var auth = ["AUTH"]
                if let user = endpoint.user { auth.append(user) }
                auth.append(password)
                let reply = try await connection.send([auth.map { Array($0.utf8) }])
                if case .error(let message)? = reply.first {
                    let who = endpoint.user.map { "user '\($0)'" } ?? "the default user"
                    throw RedisError(
                        .authentication, "Redis at \(name) refused the credentials of \(who): \(message)")
                }
            }
            if endpoint.database != 0 {
                let reply = try await connection.send([["SELECT", String(endpoint.database)].map { Array($0.utf8) }])
                if case .error(let message)? = reply.first {
                    throw RedisError(
                        .server, "Redis at \(name) cannot select database \(endpoint.database): \(message)")
                }
            }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectTimeout") { return "no answer within the connect timeout" }
        if text.lowercased().contains("refused") { return "connection refused (is redis-server running there?)" }
        return text
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    /// Sends `commands` (each its arguments, the name first) in one write; their replies, in
    /// order. A server's error reply is a `.error` value, not a throw.
    /// - Throws: `RedisError` `.connection` (closed), `.timeout` (no full answer within the
    ///   connection's timeout: the connection is then closed), `.protocolError`.
    public func send(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var bytes: [UInt8] = []
        for command in commands { RESPEncoder.append(command, to: &bytes) }
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let timedOut = Atomic<Bool>(false)
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            // The replies still to come would be read as the next batch's: close instead.
            timedOut.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        channel.writeAndFlush(
            RedisRequest(bytes: ByteBuffer(bytes: bytes), count: commands.count, promise: promise), promise: nil)
        do {
            let replies = try await promise.futureResult.get()
            timer.cancel()
            return replies
        } catch {
            timer.cancel()
            if timedOut.load(ordering: .relaxed) {
                throw RedisError(
                    .timeout, "Redis at \(endpoint) did not answer within \(timeout.nanoseconds / 1_000_000) ms")
            }
            if let error = error as? RedisError { throw error }
            throw RedisError(.connection, "the connection to \(endpoint) failed: \(error)")
        }
    }

    public func close() async {
        try? await channel.close()
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
