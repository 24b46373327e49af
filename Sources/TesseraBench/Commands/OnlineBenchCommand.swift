import ArgumentParser
import Foundation
import TesseraConsole

struct OnlineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Online serving: store load, in-process lookups and HTTP under wrk, beside Redis and feast serve.")

    @Option(help: "Workload size (XS, S, M, L); its last row per driver fills the store.") var size = "M"
    @Option(help: "Seconds per wrk run.") var duration = 20
    @Option(help: "wrk runs per configuration and server, alternating; the median is reported.") var repeats = 1
    @Option(parsing: .upToNextOption, help: "wrk connection counts.") var connections = [2, 16]
    @Option(parsing: .upToNextOption, help: "Entities per request.") var entities = [1, 100]
    @Option(help: "Timed in-process lookups of one entity (three rounds; the median round is reported).")
    var lookups = 200_000
    @Option(help: "Drivers written to Feast's online store (Feast writes ~15k rows/s).") var feastDrivers = 100_000
    @Option(help: "Python with feast installed ('' skips Feast).") var feastPython = "/work/feastvenv/bin/python"
    @Option(help: "Worker processes for feast serve (-w).") var feastWorkers = 1
    @Flag(help: "Skip the HTTP runs (wrk, Redis, feast serve).") var skipHTTP = false
    @Flag(help: "Serve without API keys (the target is measured with authentication on).") var noAuth = false
    @Option(
        help:
            "The store to serve from: sqlite (the embedded default), redis (a redis-server the benchmark starts; redis-benchmark then runs against it) or postgres (a PostgreSQL 15 cluster the benchmark starts; in-process lookups against Feast's PostgreSQL store, no HTTP runs)."
    )
    var onlineStore: MaterializeBenchmark.Store = .sqlite
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await guarded {
            var options = OnlineBenchmark.Options()
            guard let workload = OnlineBenchmark.workload(named: size) else {
                throw ValidationError("unknown size '\(size)'; use XS, S, M or L")
            }
            options.workload = workload
            options.wrkSeconds = duration
            options.repeats = repeats
            options.connections = connections
            options.entitiesPerRequest = entities
            options.feastDrivers = feastDrivers
            options.feastPython = feastPython.isEmpty ? nil : feastPython
            options.feastWorkers = feastWorkers
            options.http = !skipHTTP
            options.authentication = !noAuth
            options.onlineStore = onlineStore
            options.lookups = max(100, lookups)
            options.progress = { Console.error($0) }
            let report = try await OnlineBenchmark.run(options: options)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
