import ArgumentParser
import Foundation
import TesseraConsole

struct ParquetBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parquet",
        abstract: "Read and write the workload's driver_stats Parquet file against pyarrow and DuckDB.",
        discussion: """
            The file is written once by pyarrow with its defaults (snappy, dictionary). Measures \
            Tessera's full read (1 and 2 threads, rows/s and peak RSS) against \
            pyarrow.parquet.read_table (single-threaded and default) and DuckDB, and writing the same \
            table with snappy against pyarrow.
            """)

    @Option(help: "Workload size: XS, S, M or L.") var size = "M"
    @Option(help: "Where to keep the generated file.") var data = NSTemporaryDirectory() + "tessera-bench"
    @Option(help: "A Python with pyarrow and duckdb (default: $TESSERA_PYTHON, .venv, python3).") var python: String?
    @Option(help: "Runs per measurement; the best is reported.") var runs = 3
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try guarded {
            let report = try ParquetBenchmark.run(
                size: size, workDirectory: data, python: python ?? PeerProcess.python,
                packageRoot: FileManager.default.currentDirectoryPath, runs: runs)
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}

struct CSVBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Read and write the workload's driver_stats as CSV against DuckDB's read_csv (and pyarrow).")

    @Option(help: "Workload size: XS, S, M or L.") var size = "M"
    @Option(help: "Where to keep the generated file.") var data: String?
    @Option(help: "A Python with pyarrow and duckdb (default: $TESSERA_PYTHON, .venv, python3).") var python: String?
    @Option(help: "Runs per measurement; the best is reported.") var runs = 3
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try guarded {
            let report = try CSVBenchmark.run(
                CSVBenchmark.Options(size: size, directory: data, repeats: runs, python: python ?? PeerProcess.python))
            if json { try Console.json(report) } else { Console.print(report.table) }
        }
    }
}
