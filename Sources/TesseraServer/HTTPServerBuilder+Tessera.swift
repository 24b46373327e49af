import HummingbirdCore
import Logging
import NIOCore

extension HTTPServerBuilder {
    /// HTTP/1.1 with lookups answered from the connection's bytes by `LookupFastPathHandler`,
    /// placed in front of the HTTP stack; every other request goes through Hummingbird's
    /// router as usual.
    static func tessera(_ handlers: Handlers) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            TesseraHTTP1Channel(http1: HTTP1Channel(responder: responder), handlers: handlers)
        }
    }
}

/// Hummingbird's HTTP/1 channel with the lookup fast path first in each connection's pipeline.
struct TesseraHTTP1Channel: HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let handlers: Handlers

    var responder: Responder { http1.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let handlers = self.handlers
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(LookupFastPathHandler(handlers: handlers))
        }.flatMap { self.http1.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
