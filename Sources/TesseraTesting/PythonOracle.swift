import Foundation

/// Runs Python scripts that use pyarrow and DuckDB as independent oracles.
///
/// The interpreter is `$TESSERA_PYTHON`, else `.venv/bin/python3` in the
/// package root (made by `scripts/test`), else `python3`.
public enum PythonOracle {
    /// The package's root folder, found from this file's path.
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    public static var interpreter: String {
        if let path = ProcessInfo.processInfo.environment["TESSERA_PYTHON"], !path.isEmpty { return path }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python3").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "/usr/bin/env python3"
    }

    public struct Failure: Error, CustomStringConvertible {
        public var status: Int32
        public var output: String
        public var description: String {
            "python exited with \(status) (pyarrow and duckdb come from `scripts/test`, or set TESSERA_PYTHON):\n\(output)"
        }
    }

    /// Runs `script` with `arguments`; returns its standard output, throws with stderr on failure.
    @discardableResult
    public static func run(_ script: String, arguments: [String] = []) throws -> String {
        let process = Process()
        let parts = interpreter.split(separator: " ").map(String.init)
        process.executableURL = URL(fileURLWithPath: parts[0])
        process.arguments = Array(parts.dropFirst()) + ["-c", script] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a chatty script cannot block on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stdout = String(decoding: outData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(status: process.terminationStatus, output: String(decoding: errData, as: UTF8.self) + stdout)
        }
        return stdout
    }
}
