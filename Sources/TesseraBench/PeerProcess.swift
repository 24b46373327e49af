import Foundation
import TesseraCore

/// Runs a peer or a Tessera process and collects its JSON report.
public enum PeerProcess {
    public struct Failure: Error, CustomStringConvertible {
        public var command: String
        public var output: ProcessRunner.Output
        public var description: String { "`\(command)` failed:\n\(output)" }
    }

    /// Runs `executable arguments…`, returns its standard output; throws with its output on failure.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> String
    {
        let output = try ProcessRunner.run(executable, arguments, environment: environment)
        guard output.status == 0 else {
            throw Failure(command: ([executable] + arguments).joined(separator: " "), output: output)
        }
        return output.stdout
    }

    /// The output as a JSON object, or else its last line that parses as one.
    public static func lastJSON(_ output: String) -> [String: Any]? {
        if let whole = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] { return whole }
        for line in output.split(separator: "\n").reversed() {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { return object }
        }
        return nil
    }

    /// The Python with pyarrow and DuckDB: `$TESSERA_PYTHON`, else `.venv/bin/python3`, else `python3`.
    public static var python: String {
        if let path = ProcessInfo.processInfo.environment["TESSERA_PYTHON"], !path.isEmpty { return path }
        if FileManager.default.isExecutableFile(atPath: ".venv/bin/python3") {
            return FileManager.default.currentDirectoryPath + "/.venv/bin/python3"
        }
        return "python3"
    }
}
