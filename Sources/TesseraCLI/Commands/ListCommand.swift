import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraDefinitions
import TesseraRegistry

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract:
            "List the applied entities, sources, request sources, feature views, on-demand views or feature services.",
        discussion: "Reads the registry (what was applied), not the files; run `apply` first.")

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case all, entities, sources, views, services
        case requestSources = "request-sources"
        case onDemandViews = "on-demand-views"
    }

    @Argument(
        help: "What to list: all, entities, sources, request-sources, views, on-demand-views or services.")
    var kind: Kind = .all

    @OptionGroup var repository: RepositoryOptions

    @Flag(help: "Print JSON.")
    var json = false

    struct Row: Encodable {
        var kind: String
        var name: String
        var detail: String
        var owner: String
        var description: String
    }

    func run() throws {
        try guarded {
            let snapshot = try repository.open().applied()
            let d = snapshot.definitions
            var rows: [Row] = []
            if kind == .all || kind == .entities {
                rows += d.entities.map {
                    Row(
                        kind: "entity", name: $0.name,
                        detail: $0.joinKeys.map { "\($0.name): \($0.type)" }.joined(separator: ", "),
                        owner: $0.owner, description: $0.description)
                }
            }
            if kind == .all || kind == .sources {
                rows += d.sources.map { source in
                    let detail: String
                    switch source.kind {
                    case .file(let path, let format): detail = "\(format.rawValue) \(path)"
                    case .push(let batch): detail = "push" + (batch.map { " → \($0)" } ?? "")
                    case .postgres(let relation):
                        detail = "postgres \(relation.shownURL) " + (relation.table ?? "(query)")
                    }
                    return Row(
                        kind: "source", name: source.name, detail: detail, owner: source.owner,
                        description: source.description)
                }
            }
            if kind == .all || kind == .views {
                rows += d.featureViews.map {
                    Row(
                        kind: "feature_view", name: $0.name,
                        detail:
                            "\($0.features.count) features of \($0.entities.joined(separator: ", ")), ttl \($0.ttl)",
                        owner: $0.owner, description: $0.description)
                }
            }
            if kind == .all || kind == .requestSources {
                rows += d.requestSources.map {
                    Row(
                        kind: "request_source", name: $0.name,
                        detail: $0.schema.map { "\($0.name): \($0.type)" }.joined(separator: ", "), owner: $0.owner,
                        description: $0.description)
                }
            }
            if kind == .all || kind == .onDemandViews {
                rows += d.onDemandViews.map {
                    Row(
                        kind: "on_demand_feature_view", name: $0.name,
                        detail: "\($0.features.count) features of \($0.sources.joined(separator: ", "))",
                        owner: $0.owner, description: $0.description)
                }
            }
            if kind == .all || kind == .services {
                rows += d.featureServices.map {
                    Row(
                        kind: "feature_service", name: $0.name,
                        detail: $0.features.map(\.spelling).joined(separator: ", "), owner: $0.owner,
                        description: $0.description)
                }
            }
            if json {
                try Console.json(rows)
                return
            }
            Console.print(
                TextTable.render(
                    header: ["KIND", "NAME", "DETAIL", "OWNER"],
                    rows: rows.map { [$0.kind, $0.name, $0.detail, $0.owner] }))
        }
    }
}
