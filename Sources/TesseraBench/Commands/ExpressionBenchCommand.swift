import ArgumentParser
import Foundation
import TesseraConsole

struct ExpressionBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expressions",
        abstract: "Time the vectorized expression evaluator against DuckDB on one thread.",
        discussion: """
            Generates --rows rows (two float64 columns, one with nulls, and an int64), evaluates a \
            10-operator arithmetic and CASE expression over them in memory, then has DuckDB \
            (benchmarks/expression_peers.py, one thread) materialize the same expression over the same \
            rows loaded from Parquet, and checks both give the same row and null counts.
            """)

    @Option(help: "Rows to evaluate.") var rows = 10_000_000
    @Option(help: "Runs per tool; the best is reported.") var runs = 3
    @Option(help: "A Python with duckdb (default: $TESSERA_PYTHON, .venv, python3).") var python: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try guarded {
            var options = ExpressionBenchmark.Options()
            options.rows = rows
            options.runs = runs
            if let python { options.python = python }
            options.progress = { Console.error($0) }
            let report = try ExpressionBenchmark.run(options)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
