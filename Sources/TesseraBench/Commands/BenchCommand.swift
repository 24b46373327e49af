import ArgumentParser
import TesseraConsole

/// `tessera bench`: the benchmarks, as a subcommand the executable adds to the CLI.
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print Tessera's figures beside its peers' (see docs/benchmarks.md).",
        subcommands: [
            RegistryBenchCommand.self, ParquetBenchCommand.self, CSVBenchCommand.self,
            TrainingSetBenchCommand.self, AggregationBenchCommand.self, AggregationServingBenchCommand.self,
            ExpressionBenchCommand.self, OnDemandBenchCommand.self,
            MaterializeBenchCommand.self, ScaleBenchCommand.self,
            OnlineBenchCommand.self,
        ])

    public init() {}
}
