import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraCore
import TesseraDefinitions
import TesseraRegistry

struct DescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show one applied object in full: every field, and which services use a view.",
        discussion: "When a source and a view share a name, both are shown unless --kind picks one.")

    @Argument(help: "The object's name.")
    var name: String

    @Option(help: "Only this kind: entity, source, feature_view or feature_service.")
    var kind: ObjectKind?

    @OptionGroup var repository: RepositoryOptions

    @Flag(help: "Print JSON.")
    var json = false

    struct Described: Encodable {
        var kind: String
        var name: String
        var fields: [String: String]
        var usedBy: [String]

        enum CodingKeys: String, CodingKey {
            case kind, name, fields
            case usedBy = "used_by"
        }
    }

    func run() throws {
        try guarded {
            let snapshot = try repository.open().applied()
            let d = snapshot.definitions
            let all = CanonicalFields.all(d)
            let matches = all.keys.filter { $0.name == name && (kind == nil || $0.kind == kind) }.sorted()
            guard !matches.isEmpty else {
                let hint = Suggestions.hint(for: name, in: Set(all.keys.map(\.name))) ?? "see `tessera list`"
                throw ValidationError("no applied object named '\(name)'; \(hint)")
            }
            var described: [Described] = []
            for id in matches {
                var usedBy: [String] = []
                if id.kind == .featureView || id.kind == .onDemandFeatureView {
                    usedBy = d.featureServices.filter { $0.features.contains { $0.view == id.name } }.map(\.name)
                    usedBy += d.onDemandViews.filter { $0.sources.contains(id.name) }.map(\.name)
                } else if id.kind == .requestSource {
                    usedBy = d.onDemandViews.filter { $0.sources.contains(id.name) }.map(\.name)
                } else if id.kind == .entity {
                    usedBy = d.featureViews.filter { $0.entities.contains(id.name) }.map(\.name)
                } else if id.kind == .source {
                    usedBy = d.featureViews.filter { $0.source == id.name }.map(\.name)
                }
                var fields: [String: String] = [:]
                for field in all[id] ?? [] { fields[field.path] = field.value }
                described.append(Described(kind: id.kind.rawValue, name: id.name, fields: fields, usedBy: usedBy))
                if !json {
                    Console.print("\(id.kind.label) \(id.name)")
                    for field in all[id] ?? [] { Console.print("  \(field.path): \(field.value)") }
                    if !usedBy.isEmpty { Console.print("  used by: \(usedBy.joined(separator: ", "))") }
                    Console.print("")
                }
            }
            if json { try Console.json(described) }
        }
    }
}

extension ObjectKind: ExpressibleByArgument {}
