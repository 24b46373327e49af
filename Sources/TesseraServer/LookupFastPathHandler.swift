import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `POST /get-online-features` right on the connection's event loop, inside
/// Hummingbird's HTTP/1 pipeline, before the request reaches Hummingbird's async layer.
///
/// A lookup is a few microseconds of CPU with no waiting, so the task switches and
/// async-sequence hops of the generic path cost more than the work itself; handling it
/// here roughly doubles throughput (docs/benchmarks.md). The answer is produced by the same
/// code as the routed endpoint (`Handlers.lookupAnswer`), with the same body limit,
/// errors and metrics. Every other request passes through untouched; while one of those is
/// still being answered, lookups pass through too, so pipelined responses keep their order.
final class LookupFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// Collecting a lookup's body; `nil` once it went over the limit (answered 413 at the end).
        case collecting(body: ByteBuffer?, keepAlive: Bool, start: UInt64)
        /// Forwarding a request to Hummingbird.
        case passing
    }

    private let handlers: Handlers
    private let limit: Int
    private var state = State.idle
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var outstanding = 0

    init(handlers: Handlers) {
        self.handlers = handlers
        self.limit = handlers.server.configuration.maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (part, state) {
        case (.head(let head), _):
            if head.method == .post, outstanding == 0, let path = head.path,
                path == "/get-online-features" || path.hasPrefix("/get-online-features?")
            {
                let length = head.headerFields[.contentLength].flatMap(Int.init) ?? 0
                let keepAlive = head.headerFields[.connection]?.lowercased() != "close"
                let body = length > limit ? nil : context.channel.allocator.buffer(capacity: max(0, length))
                state = .collecting(body: body, keepAlive: keepAlive, start: DispatchTime.now().uptimeNanoseconds)
            } else {
                outstanding += 1
                state = .passing
                context.fireChannelRead(data)
            }
        case (.body(var chunk), .collecting(let body, let keepAlive, let start)):
            guard var body else { return }
            if body.readableBytes + chunk.readableBytes > limit {
                state = .collecting(body: nil, keepAlive: keepAlive, start: start)
                return
            }
            body.writeBuffer(&chunk)
            state = .collecting(body: body, keepAlive: keepAlive, start: start)
        case (.end, .collecting(let body, let keepAlive, let start)):
            state = .idle
            answer(context: context, body: body, keepAlive: keepAlive, start: start)
        case (.end, _):
            state = .idle
            context.fireChannelRead(data)
        default:
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { outstanding = max(0, outstanding - 1) }
        context.write(data, promise: promise)
    }

    private func answer(context: ChannelHandlerContext, body: ByteBuffer?, keepAlive: Bool, start: UInt64) {
        var status = 200
        var code: String?
        var bytes: [UInt8]
        do throws(APIError) {
            guard let body else { throw Handlers.tooLarge(limit) }
            bytes = try handlers.lookupAnswer(try Handlers.parse(body))
        } catch {
            status = error.status
            code = error.code
            bytes = error.json
        }
        var response = HTTPResponse(status: HTTPResponse.Status(code: status))
        response.headerFields[.contentType] = "application/json"
        response.headerFields[.contentLength] = String(bytes.count)
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
        let elapsed = Int64(DispatchTime.now().uptimeNanoseconds &- start)
        handlers.server.metrics.record(
            endpoint: "/get-online-features", status: status, nanoseconds: elapsed, error: code)
    }
}
