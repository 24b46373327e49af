import ArgumentParser
import Foundation
import TesseraDefinitions
import TesseraOnline
import TesseraRegistry

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Record the definitions in the registry as a new version, atomically.",
        discussion: """
            All or nothing: if validation fails, if the plan has breaking changes and \
            --allow-breaking is not given, or if the process dies mid-apply, the registry keeps \
            its previous version. Each apply records the time, the user ($TESSERA_USER or $USER), \
            a content digest and the diff; see `tessera history`.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Flag(help: "Apply even if the plan has breaking changes.")
    var allowBreaking = false

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func run() throws {
        try guarded {
            let repo = try repository.load()
            let service = RegistryService(repository: repo, store: try RegistryService.openStore(for: repo))
            switch try service.apply(allowBreaking: allowBreaking) {
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
                let dropped = try ApplyCommand.finishOnlineDrops(
                    store: service.store, config: repo.config, root: repo.root)
                if json {
                    try Console.json(version)
                } else {
                    Console.print(version.plan.rendered(color: Console.color))
                    Console.print(
                        "Applied version \(version.version) (\(version.summary), digest \(version.digest.prefix(12))).")
                    if !dropped.isEmpty {
                        Console.print(
                            "Dropped the online values of \(dropped.joined(separator: ", ")) (removed or changed incompatibly); materialize to reload them."
                        )
                    }
                }
            }
        }
    }

    /// Drops the online values an apply marked stale (this one, or an earlier one that was
    /// interrupted before it could), then marks the drops done. Idempotent.
    static func finishOnlineDrops(store: any RegistryStore, config: ProjectConfig, root: String) throws -> [String] {
        let pending = try store.pendingOnlineDrops()
        guard !pending.isEmpty else { return [] }
        let online = config.onlineStore
        let path = online.path.map { $0.hasPrefix("/") ? $0 : root + "/" + $0 }
        if let path, FileManager.default.fileExists(atPath: path) {
            let opened = try SQLiteOnlineStore.open(
                type: online.type, path: online.path, options: online.options, root: root)
            for view in pending { try opened.dropView(view) }
        }
        try store.completeOnlineDrops(pending)
        return pending
    }
}
