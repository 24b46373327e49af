import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraCore
import TesseraDefinitions
import TesseraServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve online features over HTTP, with Feast's feature-server API.",
        discussion: """
            A drop-in for `feast serve`: POST /get-online-features, /push, /write-to-online-store, \
            /materialize and /materialize-incremental take and return Feast's JSON, so Feast's SDK \
            with `online_store: {type: remote}` reads, writes and pushes through it. Also GET /health, \
            GET /metrics (Prometheus), GET /openapi.json and read-only \
            GET /registry/{entities,feature-views,feature-services,sources}[/NAME]. A new \
            `tessera apply` is picked up without a restart. Limits and API keys come from \
            tessera.yaml's feature_server section; the options below override it. Stop with Ctrl-C \
            or SIGTERM. See docs/http-api.md.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The address to listen on (a non-loopback address without API keys gets a warning).")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (6566, as feast serve; 0 picks a free one).")
    var port = 6566

    @Option(
        help: ArgumentHelp(
            "Refuse request bodies larger than this (413), e.g. 10MB, 512KB (default: feature_server.max_body_size, 10MB).",
            valueName: "size"))
    var maxBodySize: String?

    @Option(help: "Entity rows per lookup, rows per push (default: feature_server.max_entity_rows, 10000).")
    var maxEntityRows: Int?

    @Option(help: "Features per lookup (default: feature_server.max_features, 1000).")
    var maxFeatures: Int?

    @Option(
        help: ArgumentHelp(
            "How often, at most, to check the registry for a new apply, e.g. 1s, 250ms (default: feature_server.registry_check_interval).",
            valueName: "duration"))
    var registryCheckInterval: String?

    func validate() throws {
        if let maxBodySize, (ByteSize.parse(maxBodySize) ?? 0) <= 0 {
            throw ValidationError("--max-body-size '\(maxBodySize)' is not a size; write e.g. 10MB, 512KB or 1048576")
        }
        if let registryCheckInterval, TimeSpan(parsing: registryCheckInterval) == nil {
            throw ValidationError(
                "--registry-check-interval '\(registryCheckInterval)' is not a duration; write e.g. 1s or 250ms")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not between 0 and 65535") }
        if let maxEntityRows, maxEntityRows < 1 { throw ValidationError("--max-entity-rows must be at least 1") }
        if let maxFeatures, maxFeatures < 1 { throw ValidationError("--max-features must be at least 1") }
    }

    func run() async throws {
        try await guarded {
            let store = try repository.open()
            var configuration = FeatureServer.Configuration(store.config.featureServer)
            configuration.host = host
            configuration.port = port
            if let maxBodySize, let bytes = ByteSize.parse(maxBodySize) { configuration.maxBodyBytes = bytes }
            if let maxEntityRows { configuration.maxEntityRows = maxEntityRows }
            if let maxFeatures { configuration.maxFeatures = maxFeatures }
            if let registryCheckInterval, let span = TimeSpan(parsing: registryCheckInterval) {
                configuration.registryCheckInterval = .microseconds(max(1, span.microseconds))
            }
            let server = try FeatureServer(store: store, configuration: configuration)
            if !server.requiresAuthentication && !ServeCommand.isLoopback(host) {
                Console.error(
                    "warning: serving on \(host) without API keys: anyone who can reach this port can read, push and materialize. Add keys with `tessera api-key create` (see docs/operations.md)."
                )
            }
            let catalog = server.lookup.catalog()
            let what =
                catalog.version.map { "\(catalog.project ?? "?") (registry version \($0))" }
                ?? "an empty registry (nothing applied yet)"
            let auth = server.requiresAuthentication ? ", API keys required" : ""
            try await server.run { boundPort in
                Console.print("Serving \(what) on http://\(host):\(boundPort)\(auth)")
            }
        }
    }

    /// Whether `host` only accepts connections from this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
