import Foundation
import Hummingbird
import Logging
import NIOCore
import TesseraApp
import TesseraCore
import TesseraDefinitions
import TesseraOnline

/// The HTTP feature server: Feast's `feast serve` API (`/get-online-features`, `/push`,
/// `/write-to-online-store`, `/materialize`, `/materialize-incremental`, `/health`) plus
/// Prometheus `/metrics`, read-only `/registry/…` and its own OpenAPI description
/// (`/openapi.json`), on Hummingbird.
///
/// ```swift
/// let store = try FeatureStore.open(".")
/// let server = try FeatureServer(store: store)
/// try await server.run()          // until SIGINT or SIGTERM
/// ```
///
/// Event loops only parse and write HTTP: lookups, pushes and materializations run on the
/// server's blocking pools (`BlockingPools`). It follows `tessera apply` without a restart
/// (a background thread checks the registry once per `registryCheckInterval`).
public struct FeatureServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 6566 is `feast serve`'s default port; 0 picks a free one.
        public var port = 6566
        /// Larger request bodies are refused with 413.
        public var maxBodyBytes = 10 * 1024 * 1024
        /// Entity rows per lookup (and rows per push or write); more get 413.
        public var maxEntityRows = 10_000
        /// Features per lookup; more get 413.
        public var maxFeatures = 1_000
        /// How often, at most, to look for a new apply.
        public var registryCheckInterval: Duration = .seconds(1)
        /// API keys; authentication is on when any is given or `authEnabled` is set.
        public var apiKeys: [APIKey] = []
        public var authEnabled = false
        /// Threads for lookups, and for pushes and writes.
        public var readThreads = max(2, ProcessInfo.processInfo.activeProcessorCount)
        public var writeThreads = 2
        /// The clock ttl is measured against (tests inject one).
        public var now: @Sendable () -> Timestamp = { Timestamp.now }
        public var logLevel: Logger.Level = .info

        public init() {}

        /// The settings `tessera.yaml`'s `feature_server:` section gives.
        public init(_ config: FeatureServerConfig) {
            self.init()
            maxBodyBytes = config.maxBodyBytes
            maxEntityRows = config.maxEntityRows
            maxFeatures = config.maxFeatures
            registryCheckInterval = .microseconds(config.registryCheckInterval.microseconds)
            apiKeys = config.apiKeys
            authEnabled = config.authEnabled
            if let threads = config.readThreads { readThreads = threads }
            if let threads = config.writeThreads { writeThreads = threads }
        }
    }

    public let store: FeatureStore
    /// The lookup the server answers with (the configured limits and clock, following the registry).
    public let lookup: FeatureLookup
    public let configuration: Configuration
    public let metrics: ServerMetrics
    let pools: BlockingPools
    let authenticator: Authenticator

    /// A server over `store`, with `store.config.featureServer`'s settings unless given.
    ///
    /// - Throws: when the online store cannot be opened or the registry read.
    public init(store: FeatureStore, configuration: Configuration? = nil, metrics: ServerMetrics = ServerMetrics())
        throws
    {
        let configuration = configuration ?? Configuration(store.config.featureServer)
        var lookupConfiguration = FeatureLookup.Configuration()
        lookupConfiguration.registryCheckInterval = configuration.registryCheckInterval
        lookupConfiguration.now = configuration.now
        lookupConfiguration.maxEntityRows = configuration.maxEntityRows
        lookupConfiguration.maxFeatures = configuration.maxFeatures
        lookupConfiguration.maxFutureTime = store.config.featureServer.maxPushFuture
        self.store = store
        self.lookup = try store.lookup(configuration: lookupConfiguration)
        self.configuration = configuration
        self.metrics = metrics
        self.pools = BlockingPools(readThreads: configuration.readThreads, writeThreads: configuration.writeThreads)
        self.authenticator = Authenticator(keys: configuration.apiKeys, enabled: configuration.authEnabled)
        lookup.startFollowing()
    }

    /// Whether requests need an API key.
    public var requiresAuthentication: Bool { authenticator.enabled }

    /// The routes, for tests and for embedding in a larger Hummingbird router.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        // Any other method on a known path is 405 with the method it takes (not 404).
        router.add(middleware: MethodNotAllowedMiddleware())
        let handlers = Handlers(server: self)
        router.post("get-online-features") { request, _ in await handlers.getOnlineFeatures(request) }
        router.post("push") { request, _ in await handlers.push(request) }
        router.post("write-to-online-store") { request, _ in await handlers.writeToOnlineStore(request) }
        router.post("get-historical-features") { request, _ in await handlers.getHistoricalFeatures(request) }
        router.post("materialize") { request, _ in await handlers.materialize(request, incremental: false) }
        router.post("materialize-incremental") { request, _ in await handlers.materialize(request, incremental: true) }
        router.get("health") { _, _ in handlers.health() }
        router.get("metrics") { request, _ in handlers.metricsText(request) }
        router.get("openapi.json") { _, _ in handlers.openAPI() }
        router.get("registry/:kind") { request, context in
            handlers.registryList(request, context.parameters.get("kind") ?? "")
        }
        router.get("registry/:kind/:name") { request, context in
            handlers.registryObject(
                request, context.parameters.get("kind") ?? "", context.parameters.get("name") ?? "")
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

    /// Feast's answer to a successful write or materialization: 200 with the body `null`.
    static var jsonNull: Response { .json(Array("null".utf8)) }
}
