import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print Tessera's figures beside its peers' (see docs/benchmarks.md).",
        subcommands: [
            RegistryBenchCommand.self, ParquetBenchCommand.self, CSVBenchCommand.self,
            TrainingSetBenchCommand.self, MaterializeBenchCommand.self, OnlineBenchCommand.self,
        ])
}
