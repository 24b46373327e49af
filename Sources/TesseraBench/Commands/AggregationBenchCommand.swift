import ArgumentParser
import Foundation
import TesseraConsole

struct AggregationBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregations",
        abstract: "Time a training set of window aggregations on the trips workload against DuckDB and Feast.",
        discussion: """
            Writes the trips workload with pyarrow (benchmarks/workload.py --trips) into --data once, \
            applies a repository with driver_trip_aggs (14 aggregations over 1h, 1d and 7d), then runs \
            Tessera, DuckDB's two exact formulations (a range join with one FILTER per window, and window \
            functions over labels unioned with trips) and, with --feast-python, Feast 0.67, each in its \
            own process, and checks the outputs agree.
            """)

    @OptionGroup var bench: PeerBenchOptions

    func run() throws {
        try guarded { try bench.print(try AggregationBenchmark.run(bench.options)) }
    }
}
