import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import NIOPosix
import TesseraCore
import TesseraDefinitions

/// Answers `POST /get-online-features` inside Hummingbird's HTTP/1 pipeline, before the
/// request reaches Hummingbird's async layer.
///
/// A lookup is a few microseconds of work, so the task switches and async-sequence hops of
/// the generic path cost more than the work itself. The event loop only collects the body
/// and checks the API key; the lookup (JSON parsing, registry catalog, store reads, the
/// answer's encoding) runs on the server's read pool, and the answer is written back on the
/// event loop. Same body limit, errors and metrics as the routed endpoint
/// (`Handlers.lookupAnswer`).
///
/// Order is kept for pipelined requests: while a lookup is being answered the handler stops
/// asking the channel for more bytes and holds the parts already decoded, then replays
/// them. Every other request passes through untouched; while one of those is being
/// answered, lookups pass through too.
final class LookupFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// Collecting a lookup's body; `nil` once it went over the limit (answered 413 at the end).
        case collecting(body: ByteBuffer?, keepAlive: Bool, start: UInt64, authorization: String?)
        /// A lookup is being answered on the read pool.
        case answering
        /// Forwarding a request to Hummingbird.
        case passing
    }

    private let handlers: Handlers
    private let limit: Int
    private var state = State.idle
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var outstanding = 0
    /// Parts that arrived while a lookup was being answered, in order.
    private var held: [NIOAny] = []
    /// A `read` the pipeline asked for while answering, forwarded once the answer is out.
    private var readPending = false

    init(handlers: Handlers) {
        self.handlers = handlers
        self.limit = handlers.server.configuration.maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .answering = state {
            held.append(data)
            return
        }
        let part = unwrapInboundIn(data)
        switch (part, state) {
        case (.head(let head), _):
            if head.method == .post, outstanding == 0, let path = head.path,
                path == "/get-online-features" || path.hasPrefix("/get-online-features?")
            {
                let length = head.headerFields[.contentLength].flatMap(Int.init) ?? 0
                let keepAlive = head.headerFields[.connection]?.lowercased() != "close"
                let body = length > limit ? nil : context.channel.allocator.buffer(capacity: max(0, min(length, limit)))
                state = .collecting(
                    body: body, keepAlive: keepAlive, start: MonotonicClock.nanoseconds(),
                    authorization: head.headerFields[.authorization])
            } else {
                outstanding += 1
                state = .passing
                context.fireChannelRead(data)
            }
        case (.body(var chunk), .collecting(let body, let keepAlive, let start, let authorization)):
            guard var body else { return }
            if body.readableBytes + chunk.readableBytes > limit {
                state = .collecting(body: nil, keepAlive: keepAlive, start: start, authorization: authorization)
                return
            }
            body.writeBuffer(&chunk)
            state = .collecting(body: body, keepAlive: keepAlive, start: start, authorization: authorization)
        case (.end, .collecting(let body, let keepAlive, let start, let authorization)):
            answer(context: context, body: body, keepAlive: keepAlive, start: start, authorization: authorization)
        case (.end, _):
            state = .idle
            context.fireChannelRead(data)
        default:
            context.fireChannelRead(data)
        }
    }

    func read(context: ChannelHandlerContext) {
        if case .answering = state {
            readPending = true
            return
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { outstanding = max(0, outstanding - 1) }
        context.write(data, promise: promise)
    }

    private func answer(
        context: ChannelHandlerContext, body: ByteBuffer?, keepAlive: Bool, start: UInt64, authorization: String?
    ) {
        // Refusals need no pool: the key check is a dictionary lookup (a hash on a cache miss).
        if let denied = handlers.server.authenticator.check(authorization, needs: .reader) {
            state = .idle
            respond(
                context: context, status: denied.status, bytes: denied.json, keepAlive: keepAlive, start: start,
                code: denied.code)
            return
        }
        guard let body else {
            state = .idle
            let error = Handlers.tooLarge(limit)
            respond(
                context: context, status: error.status, bytes: error.json, keepAlive: keepAlive, start: start,
                code: error.code)
            return
        }
        state = .answering
        let handlers = self.handlers
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        handlers.server.pools.reads.runIfActive(eventLoop: context.eventLoop) { () -> (Int, [UInt8], String?) in
            do throws(APIError) {
                return (200, try handlers.lookupAnswer(try Handlers.parse(body)), nil)
            } catch {
                return (error.status, error.json, error.code)
            }
        }.whenComplete { result in
            let (handler, context) = bound.value
            let (status, bytes, code): (Int, [UInt8], String?)
            switch result {
            case .success(let answer): (status, bytes, code) = answer
            case .failure:
                let error = APIError(status: 503, code: "unavailable", field: "server", "the server is shutting down")
                (status, bytes, code) = (error.status, error.json, error.code)
            }
            handler.state = .idle
            handler.respond(
                context: context, status: status, bytes: bytes, keepAlive: keepAlive, start: start, code: code)
            handler.resume(context: context)
        }
    }

    /// Replays the parts held while answering, then lets the channel read again.
    private func resume(context: ChannelHandlerContext) {
        while !held.isEmpty {
            if case .answering = state { return }
            let next = held.removeFirst()
            channelRead(context: context, data: next)
        }
        if case .answering = state { return }
        if readPending {
            readPending = false
            context.read()
        }
    }

    private func respond(
        context: ChannelHandlerContext, status: Int, bytes: [UInt8], keepAlive: Bool, start: UInt64, code: String?
    ) {
        var response = HTTPResponse(status: HTTPResponse.Status(code: status))
        response.headerFields[.contentType] = "application/json"
        response.headerFields[.contentLength] = String(bytes.count)
        if status == 401 { response.headerFields[.wwwAuthenticate] = "Bearer" }
        if !keepAlive { response.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: bytes))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            // The close runs on this event loop, where the context lives.
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        }
        let elapsed = Int64(MonotonicClock.nanoseconds() &- start)
        handlers.server.metrics.record(
            endpoint: "/get-online-features", status: status, nanoseconds: elapsed, error: code)
    }
}
