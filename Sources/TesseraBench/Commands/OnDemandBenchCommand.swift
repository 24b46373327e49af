import ArgumentParser
import Foundation
import TesseraConsole

struct OnDemandBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "on-demand",
        abstract: "Time what on-demand features add to online lookups, in process and over HTTP, against Feast.",
        discussion: """
            Writes the driver_stats workload into a temporary repository with an on-demand view of \
            four expressions (over conv_rate, acc_rate, avg_daily_trips and a request field, \
            fare_estimate), materializes it into the embedded SQLite store, then times in-process \
            lookups of the 3 plain features against the same plus the 4 on-demand ones, for 1 and 100 \
            entity rows (interleaved rounds, medians), and the cost per on-demand feature per row. \
            With --feast-python, runs benchmarks/on_demand_feast.py: Feast's get_online_features with \
            the same formulas in a python-mode on-demand view, in the same run. With wrk, serves the \
            repository in this process and compares request rates over HTTP (3 alternating rounds).
            """)

    @Option(help: "Workload size: XS, S, M or L.") var size = "S"
    @Option(help: "Timed single-entity lookups per kind (fewer for 100 entities).") var lookups = 20_000
    @Option(help: "Seconds per wrk run over HTTP (0 skips the HTTP figures).") var httpSeconds = 10
    @Option(help: "A Python with Feast 0.67 for the peer figures (empty: none).") var feastPython = ""
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await guarded {
            var options = OnDemandBenchmark.Options()
            options.size = size
            options.lookups = lookups
            options.httpSeconds = httpSeconds
            options.feastPython = feastPython
            options.progress = { Console.error($0) }
            let report = try await OnDemandBenchmark.run(options)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
