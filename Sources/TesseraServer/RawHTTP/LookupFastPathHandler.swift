import Foundation
import NIOCore
import NIOPosix
import TesseraCore
import TesseraDefinitions

/// Answers `POST /get-online-features` straight from the connection's bytes, in front of
/// the HTTP stack: the event loop parses the head (`LookupRequestHead`), checks the API key
/// and writes the finished response; the lookup itself (JSON, catalog, store reads, the
/// answer's encoding) runs on the server's read pool, never on the event loop.
///
/// Why bytes: a lookup is a few microseconds of work, and the generic pipeline — NIOHTTP1's
/// parser, HTTP-types conversions, the response encoder, Hummingbird's async layer — costs
/// several times that per request (docs/benchmarks.md). Same body limit, errors, auth and
/// metrics as the routed endpoint (`Handlers.lookupAnswer`).
///
/// A connection starts on the fast path and stays there while it sends plain lookups. The
/// first request that is anything else (another path or method, chunked, HTTP/1.0, …) hands
/// the connection to the full stack for good, with every byte not yet answered, so responses
/// keep request order and nothing the fast path does not understand is guessed at.
final class LookupFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Mode {
        /// Reading a request; `pending` holds the bytes not yet consumed.
        case reading
        /// A lookup is being answered on the read pool; new bytes wait in `pending`.
        case answering
        /// Everything goes to the HTTP stack.
        case passing
    }

    private let handlers: Handlers
    private let limit: Int
    private var mode = Mode.reading
    private var pending: ByteBuffer?
    /// A `read` the pipeline asked for while `pending` was full, forwarded once drained.
    private var readPending = false

    /// Bytes buffered ahead of the request being answered before the handler stops reading.
    static let maxPendingBytes = 1 << 20

    init(handlers: Handlers) {
        self.handlers = handlers
        self.limit = handlers.server.configuration.maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .passing = mode else {
            var bytes = unwrapInboundIn(data)
            if pending == nil {
                pending = bytes
            } else {
                pending?.writeBuffer(&bytes)
            }
            if case .reading = mode { process(context: context) }
            return
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        // While a request is read, `pending` holds at most its head and body (both limited);
        // while one is answered, a pipelining client may get only so far ahead.
        if case .answering = mode, (pending?.readableBytes ?? 0) >= LookupFastPathHandler.maxPendingBytes {
            readPending = true
            return
        }
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending = nil
        context.fireChannelInactive()
    }

    /// Answers every complete lookup at the start of `pending`, one at a time.
    private func process(context: ChannelHandlerContext) {
        while case .reading = mode, let buffer = pending, buffer.readableBytes > 0 {
            let parsed = buffer.withUnsafeReadableBytes { LookupRequestHead.parse($0) }
            switch parsed {
            case .incomplete:
                return
            case .notFastPath:
                passThrough(context: context)
                return
            case .head(let head):
                if head.contentLength > limit {
                    // The body is not read: answer, then close (as HTTP servers do for 413).
                    let error = Handlers.tooLarge(limit)
                    mode = .answering
                    pending = nil
                    respond(
                        context: context, status: error.status, bytes: error.json, keepAlive: false,
                        start: MonotonicClock.nanoseconds(), code: error.code)
                    return
                }
                guard buffer.readableBytes >= head.headLength + head.contentLength else { return }
                pending?.moveReaderIndex(forwardBy: head.headLength)
                let body = pending?.readSlice(length: head.contentLength) ?? ByteBuffer()
                if pending?.readableBytes == 0 { pending = nil }
                answer(context: context, head: head, body: body)
            }
        }
    }

    /// Hands the connection to the HTTP stack with every byte not yet consumed.
    private func passThrough(context: ChannelHandlerContext) {
        mode = .passing
        if let rest = pending, rest.readableBytes > 0 {
            pending = nil
            context.fireChannelRead(wrapInboundOut(rest))
            context.fireChannelReadComplete()
        }
        if readPending {
            readPending = false
            context.read()
        }
    }

    private func answer(context: ChannelHandlerContext, head: LookupRequestHead, body: ByteBuffer) {
        let start = MonotonicClock.nanoseconds()
        // Refusals need no pool: the key check is a dictionary lookup (a hash on a cache miss).
        if let denied = handlers.server.authenticator.check(head.authorization, needs: .reader) {
            respond(
                context: context, status: denied.status, bytes: denied.json, keepAlive: head.keepAlive, start: start,
                code: denied.code)
            return
        }
        mode = .answering
        let handlers = self.handlers
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        // A store that calls back (Redis): parsed here, read without a thread waiting, answered
        // on this loop when the reply arrives.
        let loop = context.eventLoop
        let started = handlers.lookupAnswer(body, on: loop) { result in
            let (status, bytes, code): (Int, [UInt8], String?)
            switch result {
            case .success(let answer): (status, bytes, code) = (200, answer, nil)
            case .failure(let error): (status, bytes, code) = (error.status, error.json, error.code)
            }
            loop.execute {
                let (handler, context) = bound.value
                handler.respond(
                    context: context, status: status, bytes: bytes, keepAlive: head.keepAlive, start: start, code: code)
                handler.resume(context: context)
            }
        }
        if started { return }
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
                let error = APIError.shuttingDown
                (status, bytes, code) = (error.status, error.json, error.code)
            }
            handler.respond(
                context: context, status: status, bytes: bytes, keepAlive: head.keepAlive, start: start, code: code)
            handler.resume(context: context)
        }
    }

    /// After an answer: the next pipelined lookups, then reading again if it was held.
    private func resume(context: ChannelHandlerContext) {
        process(context: context)
        if case .reading = mode, readPending {
            readPending = false
            context.read()
        }
    }

    /// Writes a complete response in one buffer (the caller goes on with what is pending).
    private func respond(
        context: ChannelHandlerContext, status: Int, bytes: [UInt8], keepAlive: Bool, start: UInt64, code: String?
    ) {
        var out = context.channel.allocator.buffer(capacity: bytes.count + 128)
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(LookupFastPathHandler.statusLine(status))
        out.writeStaticString("\r\ncontent-type: application/json\r\ncontent-length: ")
        out.writeString(String(bytes.count))
        if status == 401 { out.writeStaticString("\r\nwww-authenticate: Bearer") }
        if !keepAlive { out.writeStaticString("\r\nconnection: close") }
        out.writeStaticString("\r\n\r\n")
        out.writeBytes(bytes)
        handlers.server.metrics.record(
            endpoint: "/get-online-features", status: status,
            nanoseconds: Int64(MonotonicClock.nanoseconds() &- start), error: code)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
            mode = .reading
        } else {
            mode = .answering
            pending = nil
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(out))).whenComplete { _ in
                bound.value.close(promise: nil)
            }
        }
    }

    /// `200 OK`, `404 Not Found`, …
    static func statusLine(_ status: Int) -> String {
        switch status {
        case 200: "200 OK"
        case 400: "400 Bad Request"
        case 401: "401 Unauthorized"
        case 403: "403 Forbidden"
        case 404: "404 Not Found"
        case 413: "413 Content Too Large"
        case 503: "503 Service Unavailable"
        default: "\(status) Error"
        }
    }
}
