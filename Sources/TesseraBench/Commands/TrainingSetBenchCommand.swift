import ArgumentParser
import Foundation
import TesseraConsole

/// The options of benchmarks that run Tessera as a process beside DuckDB and Feast.
struct PeerBenchOptions: ParsableArguments {
    @Option(help: "Workload size: XS, S, M or L.") var size = "M"
    @Option(help: "Where to keep the generated files.") var data = NSTemporaryDirectory() + "tessera-bench"
    @Option(help: "A Python with feast[duckdb]==0.67.0 (omit, or '', to skip Feast).") var feastPython: String?
    @Option(help: "A Python with pyarrow and duckdb (default: $TESSERA_PYTHON, .venv, python3).") var python: String?
    @Option(help: "Threads for Tessera.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Runs per tool; the best is reported.") var runs = 1
    @Flag(help: "Print JSON.") var json = false

    var options: TrainingSetBenchmark.Options {
        var options = TrainingSetBenchmark.Options(
            binary: Bench.binary, packageRoot: FileManager.default.currentDirectoryPath)
        options.size = size
        options.dataDirectory = data
        // '' skips Feast, as the online benchmark's option does.
        options.feastPython = feastPython.flatMap { $0.isEmpty ? nil : $0 }
        if let python { options.python = python }
        options.threads = threads
        options.runs = runs
        return options
    }

    func print(_ report: BenchmarkReport) throws {
        if json { try Console.json(report) } else { Console.print(report.table) }
    }
}

struct TrainingSetBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training-set",
        abstract: "Time `tessera training-set` on the reference workload against DuckDB and Feast.",
        discussion: """
            Writes the workload with pyarrow (benchmarks/workload.py) into --data once, applies a \
            repository over it, then runs Tessera, DuckDB's exact-rules ASOF join and (with \
            --feast-python) Feast 0.67, each in its own process, and checks the outputs agree.
            """)

    @OptionGroup var bench: PeerBenchOptions

    @Option(
        help: ArgumentHelp(
            "native (against DuckDB and Feast), or postgres / spark: the same training set computed by that engine, beside the native engine (and Feast's PostgreSQL store).",
            valueName: "engine"))
    var offlineStore = "native"

    func run() throws {
        try guarded {
            if offlineStore == "native" {
                try bench.print(try TrainingSetBenchmark.run(bench.options))
            } else {
                try bench.print(try TrainingSetBenchmark.runSQLEngine(bench.options, engine: offlineStore))
            }
        }
    }
}

enum Bench {
    /// This executable's path, to run Tessera as a user does.
    static var binary: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
