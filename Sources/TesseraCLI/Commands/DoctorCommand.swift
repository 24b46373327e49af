import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraCore

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check every backend tessera.yaml configures: reachable, versions, latency, permissions.",
        discussion: """
            Connects to the registry, the online store and the offline side (each applied file \
            source must have files) and reports what it found, so a wrong URL, password, version \
            or permission shows up before serving. Changes nothing (a probe key written to Redis \
            is removed again). Exits with 1 when a check failed.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try guarded {
            let checks = try repository.open().doctor()
            if json {
                try Console.json(checks)
            } else {
                let rows = checks.map { check -> [String] in
                    [
                        check.role, check.check, check.status.rawValue.uppercased(),
                        check.milliseconds.map { String(format: "%.2f ms", $0) } ?? "", check.detail,
                    ]
                }
                // The detail is the last column: never clipped (it says what to fix).
                Console.print(
                    TextTable.render(
                        header: ["BACKEND", "CHECK", "STATUS", "TIME", "DETAIL"], rows: rows, maxWidth: 400))
                let failed = checks.filter { $0.status == .failed }.count
                let warnings = checks.filter { $0.status == .warning }.count
                Console.print(
                    failed == 0
                        ? "All \(checks.count) checks passed\(warnings > 0 ? " (\(warnings) warning\(warnings == 1 ? "" : "s"))" : "")."
                        : "\(failed) of \(checks.count) checks failed.")
            }
            if checks.contains(where: { $0.status == .failed }) { throw ExitCode.failure }
        }
    }
}
