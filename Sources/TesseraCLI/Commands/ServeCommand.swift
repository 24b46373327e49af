import ArgumentParser
import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve online features over HTTP, with Feast's feature-server API.",
        discussion: """
            A drop-in for `feast serve`: POST /get-online-features and POST /push take and return \
            Feast's JSON. Also GET /health, GET /metrics (Prometheus) and read-only \
            GET /registry/{entities,feature-views,feature-services,sources}[/NAME]. \
            A new `tessera apply` is picked up without a restart (the registry is checked at most \
            once a second). Stop with Ctrl-C or SIGTERM. See docs/http-api.md.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (6566, as feast serve; 0 picks a free one).")
    var port = 6566

    @Option(help: ArgumentHelp("Refuse request bodies larger than this (413), e.g. 10MB, 512KB.", valueName: "size"))
    var maxBodySize = "10MB"

    @Option(
        help: ArgumentHelp(
            "How often, at most, to check the registry for a new apply (e.g. 1s, 250ms).", valueName: "duration"))
    var registryCheckInterval = "1s"

    func validate() throws {
        guard ServeCommand.bytes(maxBodySize) != nil else {
            throw ValidationError("--max-body-size '\(maxBodySize)' is not a size; write e.g. 10MB, 512KB or 1048576")
        }
        guard TimeSpan(parsing: registryCheckInterval) != nil else {
            throw ValidationError(
                "--registry-check-interval '\(registryCheckInterval)' is not a duration; write e.g. 1s or 250ms")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not between 0 and 65535") }
    }

    func run() async throws {
        try await guarded {
            var lookupConfiguration = FeatureLookup.Configuration()
            let interval = TimeSpan(parsing: registryCheckInterval)?.microseconds ?? 1_000_000
            lookupConfiguration.registryCheckInterval = .microseconds(interval)
            let lookup = try FeatureLookup.open(repository: repository.path, configuration: lookupConfiguration)
            var configuration = FeatureServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.maxBodyBytes = ServeCommand.bytes(maxBodySize) ?? configuration.maxBodyBytes
            let root = try FeatureRepository.loadConfig(at: repository.path).root
            let server = FeatureServer(
                lookup: lookup, offlineSink: RepositoryPushSink(root: root, lookup: lookup),
                configuration: configuration)
            let catalog = lookup.catalog()
            let what =
                catalog.version.map { "\(catalog.project ?? "?") (registry version \($0))" }
                ?? "an empty registry (nothing applied yet)"
            try await server.run { boundPort in
                Console.print("Serving \(what) on http://\(host):\(boundPort)")
            }
        }
    }

    /// `10MB`, `512KB`, `1GB` or a plain number of bytes.
    static func bytes(_ text: String) -> Int? {
        let upper = text.trimmingSpaces().uppercased()
        for (suffix, factor) in [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        where upper.hasSuffix(suffix) {
            guard let number = Int(upper.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number > 0 else {
                return nil
            }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        return Int(upper).flatMap { $0 > 0 ? $0 : nil }
    }
}
