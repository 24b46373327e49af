import Foundation
import Hummingbird
import Logging
import NIOCore
import TesseraOnline

/// The HTTP feature server: Feast's `feast serve` API (`/get-online-features`, `/push`,
/// `/health`) plus Prometheus `/metrics` and read-only `/registry/…` endpoints, on Hummingbird.
///
/// ```swift
/// let lookup = try FeatureLookup.open(repository: ".")
/// let server = FeatureServer(lookup: lookup, offlineSink: myParquetLog)
/// try await server.run()          // until SIGINT or SIGTERM
/// ```
///
/// It follows `tessera apply` without a restart through `FeatureLookup` (the registry head
/// is checked at most once per `FeatureLookup.Configuration.registryCheckInterval`).
public struct FeatureServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 6566 is `feast serve`'s default port; 0 picks a free one.
        public var port = 6566
        /// Larger request bodies are refused with 413.
        public var maxBodyBytes = 10 * 1024 * 1024
        public var logLevel: Logger.Level = .info

        public init() {}
    }

    public let lookup: FeatureLookup
    /// Receives offline pushes; without one, offline pushes are refused with 501.
    public let offlineSink: (any OfflinePushSink)?
    public let configuration: Configuration
    public let metrics: ServerMetrics

    public init(
        lookup: FeatureLookup, offlineSink: (any OfflinePushSink)? = nil,
        configuration: Configuration = Configuration(),
        metrics: ServerMetrics = ServerMetrics()
    ) {
        self.lookup = lookup
        self.offlineSink = offlineSink
        self.configuration = configuration
        self.metrics = metrics
    }

    /// The routes, for tests and for embedding in a larger Hummingbird router.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let handlers = Handlers(server: self)
        router.post("get-online-features") { request, _ in await handlers.getOnlineFeatures(request) }
        router.post("push") { request, _ in await handlers.push(request) }
        router.get("health") { _, _ in handlers.health() }
        router.get("metrics") { _, _ in handlers.metricsText() }
        router.get("registry/:kind") { _, context in handlers.registryList(context.parameters.get("kind") ?? "") }
        router.get("registry/:kind/:name") { _, context in
            handlers.registryObject(context.parameters.get("kind") ?? "", context.parameters.get("name") ?? "")
        }
        return router
    }

    /// The application, not yet running.
    ///
    /// - Parameter onServerRunning: called with the bound port once the server listens.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        var logger = Logger(label: "tessera.serve")
        logger.logLevel = configuration.logLevel
        return Application(
            router: router(),
            server: .tessera(Handlers(server: self)),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "tessera"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Serves until the process receives SIGINT or SIGTERM (graceful shutdown).
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onServerRunning: onServerRunning).runService()
    }
}

extension Response {
    /// A JSON response from bytes already encoded.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
