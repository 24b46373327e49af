import ArgumentParser
import Foundation
import TesseraConsole

struct AggregationServingBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregations-online",
        abstract: "Time the online side of window aggregations: rebuild, lookups, pushes, freshness.",
        discussion: """
            Generates the trips workload ending now into a temporary repository (embedded SQLite \
            store), then, in this process: materializes driver_trip_aggs and a plain view of the same \
            source, times in-process lookups of the 14 aggregated features of one driver (and of plain \
            features, for reference), pushes trips into the aggregation state in batches of 100 and \
            1000, and times a single pushed trip until a lookup serves it. Then, with wrk, serves the \
            repository over HTTP in this process: lookups of the aggregated and of plain features, and \
            /push of trips in batches of 100.
            """)

    @Option(help: "Workload size: XS, S, M or L.") var size = "M"
    @Option(help: "Timed lookups per kind.") var lookups = 50_000
    @Option(help: "Trips pushed per batch size.") var pushedEvents = 400_000
    @Option(help: "Threads for materialization.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seconds per wrk run over HTTP (0 skips the HTTP figures).") var httpSeconds = 10
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await guarded {
            var options = AggregationServingBenchmark.Options()
            options.size = size
            options.lookups = lookups
            options.pushedEvents = pushedEvents
            options.threads = threads
            options.httpSeconds = httpSeconds
            options.progress = { Console.error($0) }
            let report = try await AggregationServingBenchmark.run(options)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
