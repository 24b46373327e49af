import Foundation
import Synchronization
import TesseraCore
import TesseraWorkload

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Feast's in-process figures, from `benchmarks/online_feast_bench.py`.
struct FeastFigures: Decodable {
    var rowsWritten: Int
    var writeSeconds: Double
    var lookup1Median: Double
    var lookup1P99: Double
    var lookup100Median: Double
    var repository: String = ""
    var drivers: Int = 0
    var python: String = ""

    enum CodingKeys: String, CodingKey {
        case rowsWritten = "rows_written"
        case writeSeconds = "write_seconds"
        case lookup1Median = "lookup_1_median_us"
        case lookup1P99 = "lookup_1_p99_us"
        case lookup100Median = "lookup_100_median_us"
    }
}

/// Failures running a peer, with what it printed.
struct PeerError: Error, CustomStringConvertible {
    var description: String
}

enum FeastPeer {
    /// The package's root, from this file's place in it (benchmarks run from a checkout).
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// Builds Feast's repository and online store in `folder` and times its in-process lookups.
    /// `extra`: arguments for the script (`--postgres PORT PASSWORD`: Feast's PostgreSQL store).
    static func setUp(python: String, folder: String, workload: Workload, drivers: Int, extra: [String] = [])
        throws -> FeastFigures
    {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let script = packageRoot + "/benchmarks/online_feast_bench.py"
        let output = try Processes.run(
            python, [script, folder, String(workload.rows), String(min(drivers, workload.entities))] + extra)
        guard let line = output.split(separator: "\n").last,
            var figures = try? JSONDecoder().decode(FeastFigures.self, from: Data(line.utf8))
        else { throw PeerError(description: "online_feast_bench.py printed no figures:\n\(output.suffix(2000))") }
        figures.repository = folder
        figures.drivers = min(drivers, workload.entities)
        figures.python = python
        return figures
    }
}

/// Starting, waiting for and stopping the peers' processes (only those this run started).
enum Processes {
    /// Runs a program to completion; returns stdout, throws with stderr on failure.
    static func run(_ program: String, _ arguments: [String], directory: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on its own thread so neither pipe can fill and block the child.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { usleep(2_000) }
        let stderr = errData.wait()
        guard process.terminationStatus == 0 else {
            throw PeerError(
                description:
                    "\(program) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus):\n"
                    + String(decoding: stderr, as: UTF8.self).suffix(3000))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Starts a long-running program with its output discarded.
    static func start(_ program: String, _ arguments: [String], directory: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Stops a process this run started and the workers it forked (found by parent id in
    /// /proc): SIGTERM, then SIGKILL after 10 s.
    ///
    /// Polls instead of `waitUntilExit`, which spins a CPU on Linux off the main thread.
    static func stop(_ process: Process) {
        let pid = process.processIdentifier
        guard pid > 0 else { return }
        let family = descendants(of: pid) + [pid]
        for member in family { kill(member, SIGTERM) }
        for _ in 0..<200 where family.contains(where: alive) { usleep(50_000) }
        for member in family where alive(member) { kill(member, SIGKILL) }
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
    }

    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // A zombie ("Z") has exited; only its parent's wait is missing.
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }

    /// Every process whose parent chain leads to `pid`.
    static func descendants(of pid: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[child] = parent }
        }
        var out: [Int32] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            for (child, parent) in parents where parent == next {
                out.append(child)
                frontier.append(child)
            }
        }
        return out
    }

    /// The full path of a program on `PATH`, if any.
    static func which(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Waits until `GET url` answers 200, up to `seconds`.
    static func waitForHTTP(_ url: String, seconds: Double) async -> Bool {
        guard let target = URL(string: url) else { return false }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: target),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}

/// Bytes handed from a reader thread to the waiting one.
final class LockedData: Sendable {
    private let data = Mutex<Data?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func set(_ value: Data) {
        data.withLock { $0 = value }
        ready.signal()
    }

    func wait() -> Data {
        ready.wait()
        return data.withLock { $0 } ?? Data()
    }
}
