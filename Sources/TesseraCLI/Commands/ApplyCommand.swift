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
                let dropped = try ApplyCommand.dropStaleOnlineData(version.plan, repository: repo, store: service.store)
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

    /// Online values of views that were removed, or changed in a way stored rows no longer fit
    /// (breaking changes), are dropped, and their watermarks forgotten.
    static func dropStaleOnlineData(_ plan: Plan, repository: FeatureRepository, store: any RegistryStore) throws
        -> [String]
    {
        var stale = plan.changes.filter {
            $0.id.kind == .featureView && ($0.action == .remove || !$0.breaking.isEmpty)
        }.map(\.id.name)
        // Views of an entity whose join keys changed hold rows under the old keys.
        for change in plan.changes where change.id.kind == .entity && !change.breaking.isEmpty {
            for view in repository.definitions.featureViews
            where view.entities.contains(change.id.name) && !stale.contains(view.name) {
                stale.append(view.name)
            }
        }
        guard !stale.isEmpty else { return [] }
        let config = repository.config.onlineStore
        let path = config.path.map { $0.hasPrefix("/") ? $0 : repository.root + "/" + $0 }
        guard let path, FileManager.default.fileExists(atPath: path) else { return [] }
        let online = try SQLiteOnlineStore.open(
            type: config.type, path: config.path, options: config.options, root: repository.root)
        for view in stale { try online.dropView(view) }
        try store.clearWatermarks(stale)
        return stale
    }
}
