import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraWorkload

#if canImport(Glibc)
    import Glibc
#endif

/// `tessera bench csv`: Tessera's CSV reader and writer against DuckDB (and pyarrow) on
/// `driver_stats` written as CSV, all in one run.
public enum CSVBenchmark {
    /// What to run.
    public struct Options: Sendable {
        /// A workload size of WORKLOAD.md (`XS`, `S`, `M`, `L`).
        public var size: String = "M"
        /// Where the CSV files go (a fresh temporary folder when `nil`; removed afterwards).
        public var directory: String? = nil
        /// Best of this many runs of each measurement.
        public var repeats: Int = 1
        /// The Python interpreter with duckdb and pyarrow (else `$TESSERA_PYTHON`, `.venv`, `python3`).
        public var python: String? = nil
        /// Skip the peers (Tessera's figures only).
        public var skipPeers = false

        public init(
            size: String = "M", directory: String? = nil, repeats: Int = 1, python: String? = nil,
            skipPeers: Bool = false
        ) {
            self.size = size
            self.directory = directory
            self.repeats = repeats
            self.python = python
            self.skipPeers = skipPeers
        }
    }

    /// Wall-clock and CPU seconds (user + system) of `body`: on a shared machine the CPU
    /// time shows the work done even when other processes hold the cores.
    static func measure(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        func cpuNow() -> Double {
            var usage = rusage()
            #if os(Linux)
                getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            #else
                getrusage(RUSAGE_SELF, &usage)
            #endif
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let cpu = cpuNow()
        let wall = try Measure.seconds(body)
        return (wall, cpuNow() - cpu)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes the workload as CSV, reads it back (declared schema on 1 and 2 threads, inferred),
    /// checks every value, then runs `benchmarks/csv_peers.py` on the same file.
    public static func run(_ options: Options = Options()) throws -> BenchmarkReport {
        guard let workload = Workload.named(options.size) else {
            throw Failure(description: "unknown workload size '\(options.size)' (expected XS, S, M or L)")
        }
        let fm = FileManager.default
        let folder = options.directory ?? (NSTemporaryDirectory() + "/tessera-bench-csv-\(getpid())")
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if options.directory == nil { try? fm.removeItem(atPath: folder) } }
        let path = folder + "/driver_stats.csv"
        let repeats = max(1, options.repeats)

        // The table in memory first, so that the write is timed alone.
        let batches = workload.driverStatsBatches().map { workload.driverStats($0) }
        var write = (wall: Double.infinity, cpu: Double.infinity)
        for _ in 0..<repeats {
            let run = try measure {
                let writer = try CSVWriter(path: path, schema: Workload.statsSchema)
                for batch in batches { try writer.write(batch) }
                try writer.close()
            }
            if run.wall < write.wall { write = run }
        }
        let writeSeconds = write.wall
        let bytes = Double((try fm.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0)
        let expected = try RecordBatch.concatenate(batches)

        func timedRead(schema: Schema?, threads: Int) throws -> (wall: Double, cpu: Double) {
            var best = (wall: Double.infinity, cpu: Double.infinity)
            for _ in 0..<repeats {
                var batch = RecordBatch(empty: Workload.statsSchema)
                let run = try measure {
                    batch = try CSVReader.read(path: path, schema: schema, options: CSVReadOptions(threads: threads))
                }
                if run.wall < best.wall { best = run }
                if let schema {
                    guard batch == expected, batch.schema == schema else {
                        throw Failure(
                            description: "the CSV read back (\(threads) thread(s)) differs from what was written")
                    }
                } else {
                    guard batch.rowCount == expected.rowCount else {
                        throw Failure(
                            description: "the inferred read has \(batch.rowCount) rows, expected \(expected.rowCount)")
                    }
                }
            }
            return best
        }
        let typed1Run = try timedRead(schema: Workload.statsSchema, threads: 1)
        let typed2Run = try timedRead(schema: Workload.statsSchema, threads: 2)
        let inferred1Run = try timedRead(schema: nil, threads: 1)
        let inferred2 = try timedRead(schema: nil, threads: 2).wall
        let (typed1, typed2, inferred1) = (typed1Run.wall, typed2Run.wall, inferred1Run.wall)

        var peers: [String: Any] = [:]
        if !options.skipPeers {
            peers = try runPeers(path: path, folder: folder, repeats: repeats, python: options.python)
        }
        func duck(_ threads: Int, _ key: String) -> Double? {
            ((peers["duckdb"] as? [String: Any])?["\(threads)"] as? [String: Any])?[key] as? Double
        }
        func duckCPU(_ threads: Int, _ key: String) -> Double? {
            (((peers["duckdb"] as? [String: Any])?["\(threads)"] as? [String: Any])?["cpu"] as? [String: Any])?[key]
                as? Double
        }
        func arrow(_ threads: Int) -> Double? {
            ((peers["pyarrow"] as? [String: Any])?["\(threads)"] as? [String: Any])?["read_typed"] as? Double
        }

        var report = BenchmarkReport(
            title:
                "CSV read and write: driver_stats \(options.size.uppercased()) (\(workload.rows) rows, \(String(format: "%.0f", bytes / 1e6)) MB)"
        )
        let target = "≥ DuckDB read_csv, 1 thread"
        report.figures.append(
            BenchmarkFigure(
                task: "read, declared schema, 1 thread", metric: "seconds", tessera: typed1,
                peer: duck(1, "read_typed"), peerName: "DuckDB read_csv (columns=…), threads=1", target: target))
        report.figures.append(
            BenchmarkFigure(
                task: "read, declared schema, 2 threads", metric: "seconds", tessera: typed2,
                peer: duck(2, "read_typed"), peerName: "DuckDB read_csv (columns=…), threads=2"))
        report.figures.append(
            BenchmarkFigure(
                task: "read, inferred types, 1 thread", metric: "seconds", tessera: inferred1,
                peer: duck(1, "read_auto"), peerName: "DuckDB read_csv (auto-detect), threads=1"))
        report.figures.append(
            BenchmarkFigure(
                task: "read, inferred types, 2 threads", metric: "seconds", tessera: inferred2,
                peer: duck(2, "read_auto"), peerName: "DuckDB read_csv (auto-detect), threads=2"))
        report.figures.append(
            BenchmarkFigure(
                task: "write, 1 thread", metric: "seconds", tessera: writeSeconds, peer: duck(1, "write"),
                peerName: "DuckDB COPY TO, threads=1"))
        report.figures.append(
            BenchmarkFigure(
                task: "write, 1 thread (Tessera has no parallel writer)", metric: "seconds", tessera: writeSeconds,
                peer: duck(2, "write"), peerName: "DuckDB COPY TO, threads=2"))
        report.figures.append(
            BenchmarkFigure(
                task: "read, declared schema, 1 thread", metric: "seconds", tessera: typed1, peer: arrow(1),
                peerName: "pyarrow.csv.read_csv, use_threads=False"))
        report.figures.append(
            BenchmarkFigure(
                task: "read, declared schema, 2 threads", metric: "seconds", tessera: typed2, peer: arrow(2),
                peerName: "pyarrow.csv.read_csv, 2 threads"))
        report.figures.append(
            BenchmarkFigure(
                task: "read, declared schema, 1 thread", metric: "CPU seconds", tessera: typed1Run.cpu,
                peer: duckCPU(1, "read_typed"), peerName: "DuckDB read_csv (columns=…), threads=1"))
        report.figures.append(
            BenchmarkFigure(
                task: "read, inferred types, 1 thread", metric: "CPU seconds", tessera: inferred1Run.cpu,
                peer: duckCPU(1, "read_auto"), peerName: "DuckDB read_csv (auto-detect), threads=1"))
        report.figures.append(
            BenchmarkFigure(
                task: "write, 1 thread", metric: "CPU seconds", tessera: write.cpu, peer: duckCPU(1, "write"),
                peerName: "DuckDB COPY TO, threads=1"))
        let mb = bytes / 1e6
        report.notes.append(
            String(
                format:
                    "Tessera throughput: typed read %.0f MB/s (1 thread), %.0f MB/s (2 threads); inferred %.0f MB/s; write %.0f MB/s.",
                mb / typed1, mb / typed2, mb / inferred1, mb / writeSeconds))
        if let duck1 = duck(1, "read_typed") {
            report.notes.append(String(format: "DuckDB read_csv throughput, 1 thread: %.0f MB/s.", mb / duck1))
        }
        if let versions = peers["duckdb_version"] as? String {
            report.notes.append(
                "Peers: DuckDB \(versions), pyarrow \(peers["pyarrow_version"] as? String ?? "?"); best of \(repeats); every value read by Tessera compared with the generated table."
            )
        }
        return report
    }

    private static func runPeers(path: String, folder: String, repeats: Int, python: String?) throws -> [String: Any] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = root.appendingPathComponent("benchmarks/csv_peers.py").path
        var interpreter = python ?? ProcessInfo.processInfo.environment["TESSERA_PYTHON"] ?? ""
        if interpreter.isEmpty {
            let venv = root.appendingPathComponent(".venv/bin/python3").path
            interpreter = fm.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = [script, path, folder, String(repeats)]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw Failure(description: "csv_peers.py failed: " + String(decoding: errors, as: UTF8.self))
        }
        return json
    }

    private static var fm: FileManager { FileManager.default }
}
