import Foundation

/// Runs a child process to completion and captures both of its outputs.
///
/// Used by benchmarks (peers, Tessera itself as a user runs it) and tests.
public enum ProcessRunner {
    public struct Output: Sendable, CustomStringConvertible {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// Starts `executable arguments…` (a path, or a name looked up on `PATH`) without waiting.
    public static func start(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:]
    ) throws -> (process: Process, stdout: Pipe, stderr: Pipe) {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Runs to completion; reads both pipes concurrently so neither can fill up and block the child.
    public static func run(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:]
    ) throws -> Output {
        let (process, out, err) = try start(executable, arguments, directory: directory, environment: environment)
        return finish(process, out, err)
    }

    /// Waits for a started process and collects its outputs.
    public static func finish(_ process: Process, _ out: Pipe, _ err: Pipe) -> Output {
        let errData = DataHandOff()
        let thread = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        thread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.wait(), as: UTF8.self))
    }
}

/// A one-shot hand-off of bytes from a reader thread.
final class DataHandOff: @unchecked Sendable {
    // The condition guards `data` and `done`: the reader sets them once, the waiter reads after `done`.
    private let condition = NSCondition()
    private var data = Data()
    private var done = false

    func set(_ value: Data) {
        condition.lock()
        data = value
        done = true
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        while !done { condition.wait() }
        let value = data
        condition.unlock()
        return value
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released): for servers that tests and
/// benchmarks start of their own.
public enum LoopbackPort {
    public static func free() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
