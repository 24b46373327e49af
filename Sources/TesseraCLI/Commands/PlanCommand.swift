import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraDefinitions
import TesseraRegistry

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what `apply` would change in the registry, object by object and field by field.",
        discussion: """
            Validates tessera.yaml and every definition file (all problems at once, each with \
            file:line:column) and compares them with the registry's applied version. Breaking changes \
            — removing or retyping a feature a feature service uses, changing an entity's join keys, \
            changing a view's entities — are flagged. Exits 0 when the plan is valid (even if it has \
            changes), 1 on errors.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() throws {
        try guarded {
            let store = try repository.open()
            let result = try store.plan(try repository.load(store))
            if json {
                try Console.json(PlanJSON(baseVersion: result.baseVersion, digest: result.digest, plan: result.plan))
            } else {
                Console.print(result.plan.rendered(color: Console.color))
            }
        }
    }
}

/// The JSON form of a plan, for scripts.
struct PlanJSON: Encodable {
    var baseVersion: Int?
    var digest: String
    var plan: Plan
    var breaking: Bool { plan.isBreaking }

    enum CodingKeys: String, CodingKey {
        case baseVersion = "base_version"
        case digest, changes, breaking
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(baseVersion, forKey: .baseVersion)
        try container.encode(digest, forKey: .digest)
        try container.encode(plan.changes, forKey: .changes)
        try container.encode(breaking, forKey: .breaking)
    }
}
