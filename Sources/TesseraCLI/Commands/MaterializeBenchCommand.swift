import ArgumentParser
import Foundation
import TesseraBench

struct MaterializeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Time `tessera materialize` on the reference workload against Feast's materialize.")

    @Option(help: "Workload size: XS, S, M or L.") var size = "M"
    @Option(help: "Where to keep the generated files.") var data = NSTemporaryDirectory() + "tessera-bench"
    @Option(help: "A Python with feast[duckdb]==0.67.0 (omit to skip Feast).") var feastPython: String?
    @Option(help: "A Python with pyarrow and duckdb (default: $TESSERA_PYTHON, .venv, python3).") var python: String?
    @Option(help: "Threads for Tessera.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Runs for Tessera; the best is reported.") var runs = 1
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try guarded {
            var options = TrainingSetBenchmark.Options(
                binary: Bench.binary, packageRoot: FileManager.default.currentDirectoryPath)
            options.size = size
            options.dataDirectory = data
            options.feastPython = feastPython
            if let python { options.python = python }
            options.threads = threads
            options.runs = runs
            let report = try MaterializeBenchmark.run(options)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
