import ArgumentParser
import Foundation
import TesseraConsole

struct RegistryBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Time plan and apply on a generated repository (default 500 views × 20 features, 50 services).")

    @Option(help: "Feature views to generate.") var views = 500
    @Option(help: "Features per view.") var features = 20
    @Option(help: "Feature services to generate.") var services = 50
    @Option(help: "The registry: sqlite (the embedded file) or postgres (a PostgreSQL 15 server the benchmark starts).")
    var registry = "sqlite"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try guarded {
            var options = RegistryBenchmark.Options()
            options.views = views
            options.featuresPerView = features
            options.services = services
            options.binary = Bench.binary
            var server: PostgresBenchServer?
            defer { server?.stop() }
            switch registry {
            case "sqlite": break
            case "postgres":
                let started = try PostgresBenchServer.start()
                server = started
                options.postgresURL = started.url
            default:
                throw ValidationError("--registry must be sqlite or postgres, not '\(registry)'")
            }
            let report = try RegistryBenchmark.run(options: options)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
