import Foundation
import TesseraCore

/// Runs the built `tessera` binary, as a user would, and captures what it prints.
public enum CommandRunner {
    public typealias Result = ProcessRunner.Output

    /// The `tessera` executable beside the running test bundle (same build folder).
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["TESSERA_BINARY"] { return path }
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // macOS runs tests inside an .xctest bundle; step out of it.
        while folder.path.contains(".xctest") { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("tessera").path
    }

    /// Starts `tessera arguments…` without waiting (colour off).
    public static func start(
        _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
    ) throws -> (Process, Pipe, Pipe) {
        try ProcessRunner.start(
            binary, arguments, directory: directory, environment: environment.merging(["NO_COLOR": "1"]) { a, _ in a })
    }

    /// Runs `tessera arguments…` to completion.
    @discardableResult
    public static func run(
        _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
    ) throws -> Result {
        let (process, out, err) = try start(arguments, in: directory, environment: environment)
        return ProcessRunner.finish(process, out, err)
    }

    /// Starts `tessera arguments…` once per delay and kills it (SIGKILL) after that many
    /// milliseconds if it is still running: how tests cut a run short at several points.
    /// - Returns: how many runs were killed (the rest had finished).
    public static func killRuns(_ arguments: [String], afterMilliseconds delays: [Int]) throws -> Int {
        var interrupted = 0
        for delay in delays {
            let (process, _, _) = try start(arguments)
            usleep(UInt32(delay * 1000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                interrupted += 1
            }
            process.waitUntilExit()
        }
        return interrupted
    }
}
