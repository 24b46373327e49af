import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraDefinitions
import TesseraRegistry

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Record the definitions in the registry as a new version, atomically.",
        discussion: """
            All or nothing: if validation fails, if the plan has breaking changes and \
            --allow-breaking is not given, or if the process dies mid-apply, the registry keeps \
            its previous version. Each apply records the time, the user ($TESSERA_USER or $USER), \
            a content digest and the diff; see `tessera history`. The online values of views \
            removed or changed incompatibly are dropped (materialize to reload them).
            """)

    @OptionGroup var repository: RepositoryOptions

    @Flag(help: "Apply even if the plan has breaking changes.")
    var allowBreaking = false

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func run() throws {
        try guarded {
            let store = try repository.open()
            let result = try store.apply(try repository.load(store), allowBreaking: allowBreaking)
            switch result.outcome {
            case .unchanged(let version):
                if json {
                    try Console.json(["outcome": "unchanged", "version": version.map(String.init) ?? ""])
                } else {
                    Console.print("No changes. The registry stays at version \(version.map(String.init) ?? "0").")
                }
            case .refused(let plan):
                if json {
                    try Console.json(PlanJSON(baseVersion: nil, digest: "", plan: plan))
                } else {
                    Console.print(plan.rendered(color: Console.color))
                }
                Console.error(
                    "error: refusing to apply \(plan.changes.filter { !$0.breaking.isEmpty }.count) breaking change(s); nothing was written. Re-run with --allow-breaking to apply them."
                )
                throw ExitCode.failure
            case .applied(let version):
                if json {
                    try Console.json(version)
                } else {
                    Console.print(version.plan.rendered(color: Console.color))
                    Console.print(
                        "Applied version \(version.version) (\(version.summary), digest \(version.digest.prefix(12))).")
                    if !result.droppedViews.isEmpty {
                        Console.print(
                            "Dropped the online values of \(result.droppedViews.joined(separator: ", ")) (removed or changed incompatibly); materialize to reload them."
                        )
                    }
                }
            }
        }
    }
}
