import HummingbirdCore

extension HTTPServerBuilder {
    /// HTTP/1.1 with lookups answered on the event loop by `LookupFastPathHandler`; every
    /// other request goes through Hummingbird's router as usual.
    static func tessera(_ handlers: Handlers) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HTTP1Channel(
                responder: responder,
                configuration: .init(additionalChannelHandlers: [LookupFastPathHandler(handlers: handlers)]))
        }
    }
}
