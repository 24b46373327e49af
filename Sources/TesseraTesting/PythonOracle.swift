import Foundation
import TesseraCore

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

    /// Runs the Python file at `path` with `arguments`; returns its standard output.
    @discardableResult
    public static func runFile(_ path: String, arguments: [String] = []) throws -> String {
        let parts = interpreter.split(separator: " ").map(String.init)
        let output = try ProcessRunner.run(parts[0], Array(parts.dropFirst()) + [path] + arguments)
        guard output.status == 0 else {
            throw Failure(status: output.status, output: output.stderr + output.stdout)
        }
        return output.stdout
    }

    /// Runs `script` with `arguments`; returns its standard output, throws with stderr on failure.
    @discardableResult
    public static func run(_ script: String, arguments: [String] = []) throws -> String {
        let parts = interpreter.split(separator: " ").map(String.init)
        let output = try ProcessRunner.run(parts[0], Array(parts.dropFirst()) + ["-c", script] + arguments)
        guard output.status == 0 else {
            throw Failure(status: output.status, output: output.stderr + output.stdout)
        }
        return output.stdout
    }
}
