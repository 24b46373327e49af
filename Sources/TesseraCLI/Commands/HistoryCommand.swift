import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraCore
import TesseraDefinitions
import TesseraRegistry

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List applied registry versions, newest first: time, user, changes and digest.")

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Show at most this many versions.")
    var limit: Int?

    @Flag(help: "Also print each version's changes, field by field.")
    var diff = false

    @Flag(help: "Print JSON (every version with its changes).")
    var json = false

    func run() throws {
        try guarded {
            let versions = try repository.open().history(limit: limit)
            if json {
                try Console.json(versions)
                return
            }
            if versions.isEmpty {
                Console.print("Nothing applied yet.")
                return
            }
            let rows = versions.map {
                ["\($0.version)", $0.appliedAt.iso8601, $0.user, $0.summary, String($0.digest.prefix(12))]
            }
            Console.print(TextTable.render(header: ["VERSION", "APPLIED AT", "USER", "CHANGES", "DIGEST"], rows: rows))
            if diff {
                for version in versions {
                    Console.print("\nversion \(version.version):")
                    Console.print(version.plan.rendered(color: Console.color))
                }
            }
        }
    }
}
