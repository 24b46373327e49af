import ArgumentParser
import Foundation
import TesseraCore

/// Output to the terminal: results on stdout, progress and problems on stderr.
public enum Console {
    public static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    public static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    /// Colour only on a terminal, and never when NO_COLOR is set.
    public static var color: Bool { isTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    public static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    public static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// A progress line that rewrites itself on a terminal and stays silent otherwise.
    public static func progress(_ text: String) {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
    }

    public static func endProgress() {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    public static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints an error the way every command does and returns the exit code to throw.
    public static func fail(_ error: any Error) -> ExitCode {
        switch error {
        case let diagnostics as DiagnosticsError:
            Console.error(diagnostics.description)
        case let exit as ExitCode:
            return exit
        default:
            Console.error("error: \(error)")
        }
        return ExitCode.failure
    }
}

/// Runs a command body, printing any error in the house format and exiting non-zero.
public func guarded(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        throw Console.fail(error)
    }
}

public func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        throw Console.fail(error)
    }
}
