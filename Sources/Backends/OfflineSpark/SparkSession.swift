import Foundation
import Synchronization

/// One long-lived Spark session: a Python driver process (pyspark) that runs the jobs this
/// process sends it, one at a time, each a SQL query whose result it writes as Parquet.
///
/// Starting Spark costs seconds, so a session is started on first use and kept until the
/// process ends (its stdin closes, and the driver stops Spark and exits): the many queries
/// of one command, or of a whole test suite, share it. With `connect:` the driver is a
/// Spark Connect client of a running server instead of starting Spark itself.
final class SparkSession: Sendable {
    struct Settings: Sendable, Hashable, Codable {
        var python: String
        var master: String
        var connect: String?
        var sparkHome: String?
        var conf: [String: String]
        /// Where the driver's own log goes (Spark's output, for failures).
        var log: String
    }

    let settings: Settings
    private let state = Mutex<Driver?>(nil)

    /// The running driver: its process and the two ends of its pipes.
    private struct Driver {
        var process: Process
        var input: FileHandle
        var output: LineReader
    }

    init(settings: Settings) {
        self.settings = settings
    }

    /// Sessions by settings: one per configuration for the life of the process.
    private static let sessions = Mutex<[Settings: SparkSession]>([:])

    static func shared(_ settings: Settings) -> SparkSession {
        sessions.withLock { sessions in
            if let known = sessions[settings] { return known }
            let made = SparkSession(settings: settings)
            sessions[settings] = made
            return made
        }
    }

    /// Runs `query`, writing its rows as Parquet files into folder `output`.
    ///
    /// - Throws: `SparkFailure` with Spark's message, or why the driver could not start.
    func run(query: String, output: String) throws(SparkFailure) {
        try state.withLock { (driver) throws(SparkFailure) in
            if driver == nil || driver?.process.isRunning != true { driver = try start() }
            guard var running = driver else { throw SparkFailure("the Spark driver did not start") }
            let job: [String: Any] = ["query": query, "output": output]
            guard let line = try? JSONSerialization.data(withJSONObject: job) else {
                throw SparkFailure("the job could not be encoded")
            }
            do {
                try running.input.write(contentsOf: line + Data("\n".utf8))
            } catch {
                driver = nil
                throw SparkFailure("the Spark driver stopped: \(tail())")
            }
            guard let reply = running.output.line(), let data = reply.data(using: .utf8),
                let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else {
                driver = nil
                throw SparkFailure("the Spark driver stopped while running the job: \(tail())")
            }
            driver = running
            guard answer["ok"] as? Bool == true else {
                throw SparkFailure((answer["error"] as? String) ?? "the job failed (no message)")
            }
        }
    }

    private func start() throws(SparkFailure) -> Driver {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: settings.python.contains("/") ? settings.python : "/usr/bin/env")
        var arguments = settings.python.contains("/") ? [] : [settings.python]
        guard let config = try? JSONEncoder().encode(settings), let configText = String(data: config, encoding: .utf8)
        else { throw SparkFailure("the session settings could not be encoded") }
        arguments += ["-c", SparkDriverScript.source, configText]
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SPARK_LOCAL_IP"] = environment["SPARK_LOCAL_IP"] ?? "127.0.0.1"
        environment["PYSPARK_PYTHON"] = environment["PYSPARK_PYTHON"] ?? settings.python
        if let home = settings.sparkHome { environment["SPARK_HOME"] = home }
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        let folder = (settings.log as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: settings.log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: settings.log) ?? FileHandle.nullDevice
        // The driver runs in its own folder: Spark leaves metastore_db/ and derby.log behind.
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        do {
            try process.run()
        } catch {
            throw SparkFailure("cannot start \(settings.python) for Spark: \(error.localizedDescription)")
        }
        var reader = LineReader(output.fileHandleForReading)
        guard let first = reader.line(), let data = first.data(using: .utf8),
            let hello = try? JSONSerialization.jsonObject(with: data) as? [String: Any], hello["ready"] is String
        else {
            process.terminate()
            throw SparkFailure("Spark did not start (\(settings.python), master \(settings.master)): \(tail())")
        }
        return Driver(process: process, input: input.fileHandleForWriting, output: reader)
    }

    /// The last lines of the driver's log: why it stopped.
    private func tail() -> String {
        guard let text = try? String(contentsOfFile: settings.log, encoding: .utf8) else {
            return "see \(settings.log)"
        }
        let lines = text.split(separator: "\n").suffix(12).joined(separator: "\n    ")
        return lines.isEmpty ? "no output (see \(settings.log))" : "\n    " + lines + "\n    (log: \(settings.log))"
    }
}

/// Reads newline-terminated lines from a pipe.
struct LineReader {
    let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next line without its newline; `nil` at the end of the stream.
    mutating func line() -> String? {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<end]
                buffer.removeSubrange(buffer.startIndex...end)
                return String(decoding: line, as: UTF8.self)
            }
            // `availableData` returns what the pipe holds (waiting for some); `read(upToCount:)`
            // would wait for the full count on Linux.
            let more = handle.availableData
            guard !more.isEmpty else { return nil }
            buffer.append(more)
        }
    }
}

/// Why a Spark job failed: Spark's own message, or why the session could not run it.
struct SparkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
