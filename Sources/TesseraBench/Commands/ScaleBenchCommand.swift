import ArgumentParser
import Foundation
import TesseraConsole

extension ScaleBenchmark.Task: ExpressibleByArgument {}

struct ScaleBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Time the training set, materialization and aggregated training set from S to M to L, with growth.",
        discussion: """
            Writes each size's workload with pyarrow (benchmarks/workload.py) into --data once, then runs \
            each task as a `tessera` process at each size and prints time, source rows/s and peak RSS per \
            size, and how time and memory grow from each size to the next against the rows (L: 100M \
            rows, about 3.2 GB of Parquet and 100M trips; give --sizes S,M for a quick run).
            """)

    @Option(help: "Workload sizes, in order: XS, S, M, L.") var sizes = "S,M,L"
    @Option(help: "What to time: training-set, materialize, aggregations.") var tasks =
        "training-set,materialize,aggregations"
    @Option(help: "Where to keep the generated files.") var data = NSTemporaryDirectory() + "tessera-bench"
    @Option(help: "A Python with pyarrow and numpy (default: $TESSERA_PYTHON, .venv, python3).") var python: String?
    @Option(help: "Threads for Tessera.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Runs per figure; the best is reported.") var runs = 1
    @Option(
        help: ArgumentHelp(
            "Run the tasks with --memory-limit SIZE (training sets in parts, materialization in key parts).",
            valueName: "size")) var memoryLimit: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try guarded {
            let sizes = self.sizes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
            for size in sizes where !["XS", "S", "M", "L"].contains(size) {
                throw ValidationError("--sizes: '\(size)' is not a workload size (XS, S, M, L)")
            }
            var tasks: [ScaleBenchmark.Task] = []
            for word in self.tasks.split(separator: ",") {
                let name = word.trimmingCharacters(in: .whitespaces)
                guard let task = ScaleBenchmark.Task(rawValue: name) else {
                    throw ValidationError(
                        "--tasks: '\(name)' is not one of \(ScaleBenchmark.Task.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                tasks.append(task)
            }
            var options = TrainingSetBenchmark.Options(
                binary: Bench.binary, packageRoot: FileManager.default.currentDirectoryPath)
            options.dataDirectory = data
            if let python { options.python = python }
            options.threads = threads
            options.runs = runs
            options.memoryLimit = memoryLimit
            let report = try ScaleBenchmark.run(options, sizes: sizes, tasks: tasks)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
