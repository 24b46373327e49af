import Foundation

/// Runs the built `tessera` binary, as a user would, and captures what it prints.
public enum CommandRunner {
    public struct Result: Sendable, CustomStringConvertible {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

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

    /// Starts `tessera arguments…` without waiting.
    public static func start(
        _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
    ) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Runs `tessera arguments…` to completion.
    @discardableResult
    public static func run(
        _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
    ) throws -> Result {
        let (process, out, err) = try start(arguments, in: directory, environment: environment)
        // Drain stderr on another thread so neither pipe can fill up and block the child.
        let errBox = DataBox()
        let reader = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errBox.done { usleep(1000) }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}

/// A hand-off slot for one reader thread's bytes.
final class DataBox: @unchecked Sendable {
    // Written once by the reader thread, then `done` is set under the lock; read after `done`.
    private let lock = NSLock()
    private var _data = Data()
    private var _done = false

    var data: Data {
        get { lock.withLock { _data } }
        set {
            lock.withLock {
                _data = newValue; _done = true
            }
        }
    }

    var done: Bool { lock.withLock { _done } }
}
