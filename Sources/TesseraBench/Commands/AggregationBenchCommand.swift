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

    @Option(
        help: ArgumentHelp(
            "native (against DuckDB and Feast), or postgres / spark: the same training set computed by that engine, beside the native engine and DuckDB's range join.",
            valueName: "engine"))
    var offlineStore = "native"

    func run() throws {
        try guarded {
            if offlineStore == "native" {
                try bench.print(try AggregationBenchmark.run(bench.options))
            } else {
                try bench.print(try AggregationBenchmark.runSQLEngine(bench.options, engine: offlineStore))
            }
        }
    }
}
