import Foundation
import TesseraCore
import TesseraExpressions

/// Checks that objects fit together: references resolve, names do not collide, sources exist.
struct Validator {
    let definitions: Definitions
    let locations: [ObjectID: SourceLocation]
    let referenceLocations: [String: [SourceLocation]]
    let fieldLocations: [ObjectID: [String: SourceLocation]]
    let root: String
    private var diagnostics: [Diagnostic] = []

    init(
        definitions: Definitions, locations: [ObjectID: SourceLocation],
        referenceLocations: [String: [SourceLocation]], fieldLocations: [ObjectID: [String: SourceLocation]],
        root: String
    ) {
        self.fieldLocations = fieldLocations
        self.definitions = definitions
        self.locations = locations
        self.referenceLocations = referenceLocations
        self.root = root
    }

    private mutating func error(
        _ id: ObjectID, _ message: String, hint: String? = nil, at: SourceLocation? = nil, field: String? = nil
    ) {
        let fieldLocation = field.flatMap { fieldLocations[id]?[$0] }
        let location = at ?? fieldLocation ?? locations[id] ?? SourceLocation(file: FeatureRepository.configFile)
        diagnostics.append(Diagnostic(.error, at: location, message, hint: hint))
    }

    mutating func validate() -> [Diagnostic] {
        for entity in definitions.entities { check(entity) }
        for source in definitions.sources { check(source) }
        for view in definitions.featureViews { check(view) }
        for source in definitions.requestSources { check(source) }
        for view in definitions.onDemandViews { check(view) }
        for service in definitions.featureServices { check(service) }
        return diagnostics
    }

    private mutating func check(_ entity: Entity) {
        let id = ObjectID(.entity, entity.name)
        var seen = Set<String>()
        for key in entity.joinKeys where !seen.insert(key.name).inserted {
            error(id, "entity '\(entity.name)' lists join key '\(key.name)' twice", field: "join_keys")
        }
    }

    private mutating func check(_ source: DataSource) {
        let id = ObjectID(.source, source.name)
        switch source.kind {
        case .file(let path, _):
            if !path.isEmpty, !Glob.isPattern(path) {
                let full = path.hasPrefix("/") ? path : root + "/" + path
                if !FileManager.default.fileExists(atPath: full) {
                    error(
                        id, "the path '\(path)' of source '\(source.name)' does not exist",
                        hint: "paths are relative to the repository folder (\(root))", field: "path")
                }
            }
        case .postgres:
            break  // the server is checked when the source is read (plan, apply, doctor)
        case .push(let batchSource):
            if let batchSource {
                guard let batch = definitions.source(batchSource) else {
                    error(
                        id, "push source '\(source.name)' names batch_source '\(batchSource)', which is not defined",
                        hint: Suggestions.hint(for: batchSource, in: definitions.sources.map(\.name)),
                        field: "batch_source")
                    return
                }
                if case .push = batch.kind {
                    error(
                        id,
                        "the batch_source of push source '\(source.name)' must be a batch source (file or postgres), not push source '\(batchSource)'",
                        field: "batch_source")
                }
            } else if source.timestampField.isEmpty {
                error(id, "push source '\(source.name)' needs a timestamp_field, or a batch_source to take it from")
            }
        }
        var targets = Set<String>()
        for (from, to) in source.fieldMapping.sorted(by: { $0.key < $1.key }) where !targets.insert(to).inserted {
            error(
                id, "field_mapping of source '\(source.name)' maps two columns to '\(to)' (one is '\(from)')",
                field: "field_mapping")
        }
    }

    private mutating func check(_ view: FeatureView) {
        let id = ObjectID(.featureView, view.name)
        var keyNames: [String: String] = [:]
        var seenEntities = Set<String>()
        for name in view.entities {
            guard seenEntities.insert(name).inserted else {
                error(id, "feature view '\(view.name)' lists entity '\(name)' twice", field: "entities")
                continue
            }
            guard let entity = definitions.entity(name) else {
                error(
                    id, "feature view '\(view.name)' uses entity '\(name)', which is not defined",
                    hint: Suggestions.hint(for: name, in: definitions.entities.map(\.name)), field: "entities")
                continue
            }
            for key in entity.joinKeys {
                if let other = keyNames[key.name] {
                    error(
                        id,
                        "entities '\(other)' and '\(name)' of feature view '\(view.name)' both have join key '\(key.name)'",
                        field: "entities")
                }
                keyNames[key.name] = name
            }
        }
        var timestampColumns: [String] = []
        if let source = definitions.source(view.source) {
            timestampColumns = [effectiveTimestamp(source)] + [source.createdTimestampField].compactMap { $0 }
        } else if !view.source.isEmpty {
            error(
                id, "feature view '\(view.name)' reads source '\(view.source)', which is not defined",
                hint: Suggestions.hint(for: view.source, in: definitions.sources.map(\.name)), field: "source")
        }
        var featureNames = Set<String>()
        for feature in view.features {
            if !featureNames.insert(feature.name).inserted {
                error(id, "feature view '\(view.name)' declares feature '\(feature.name)' twice", field: "schema")
            }
            if keyNames[feature.name] != nil {
                error(
                    id, "feature '\(feature.name)' of feature view '\(view.name)' has the name of a join key",
                    hint: "join keys come from the entities; rename the feature", field: "schema")
            }
            if timestampColumns.contains(feature.name) {
                error(
                    id,
                    "feature '\(feature.name)' of feature view '\(view.name)' has the name of the source's timestamp column",
                    field: "schema")
            }
        }
    }

    private mutating func check(_ source: RequestSource) {
        let id = ObjectID(.requestSource, source.name)
        var seen = Set<String>()
        for field in source.schema where !seen.insert(field.name).inserted {
            error(id, "request source '\(source.name)' declares field '\(field.name)' twice", field: "schema")
        }
        if definitions.source(source.name) != nil {
            error(
                id, "request source '\(source.name)' has the name of a source",
                hint: "on-demand views name their sources; give each a different name")
        }
    }

    private mutating func check(_ view: OnDemandFeatureView) {
        let id = ObjectID(.onDemandFeatureView, view.name)
        if definitions.featureView(view.name) != nil {
            error(
                id, "on-demand feature view '\(view.name)' has the name of a feature view",
                hint: "services and requests name views and on-demand views alike; rename one")
        }
        var seen = Set<String>()
        for source in view.sources {
            guard seen.insert(source).inserted else {
                error(id, "on-demand feature view '\(view.name)' lists source '\(source)' twice", field: "sources")
                continue
            }
            if definitions.featureView(source) == nil && definitions.requestSource(source) == nil {
                let candidates = definitions.featureViews.map(\.name) + definitions.requestSources.map(\.name)
                error(
                    id,
                    definitions.onDemandView(source) != nil
                        ? "on-demand feature view '\(view.name)' reads on-demand view '\(source)'; its sources must be feature views or request sources"
                        : "on-demand feature view '\(view.name)' reads '\(source)', which is neither a feature view nor a request source",
                    hint: Suggestions.hint(for: source, in: candidates), field: "sources")
            }
        }
        let scope = OnDemandScope(view, in: definitions)
        var names = Set<String>()
        for feature in view.features {
            if !names.insert(feature.name).inserted {
                error(id, "on-demand feature view '\(view.name)' declares feature '\(feature.name)' twice")
            }
            guard let text = feature.expression else { continue }
            do {
                let compiled = try CompiledExpression.compile(
                    text, scope: scope.names, as: nil, ambiguous: scope.ambiguous)
                if !feature.holds(compiled.type) {
                    error(
                        id,
                        "the expression of feature '\(feature.name)' of on-demand feature view '\(view.name)' is \(compiled.type.name), which its type \(feature.type.name) cannot hold",
                        hint: "declare type: \(compiled.type.name), or CAST the expression",
                        field: "expression:" + feature.name)
                }
            } catch {
                var at = fieldLocations[id]?["expression:" + feature.name] ?? locations[id]
                at?.column += error.column(in: text) - 1
                self.error(
                    id,
                    "\(error.message) in the expression of feature '\(feature.name)' of on-demand feature view '\(view.name)'",
                    hint: error.hint, at: at)
            }
        }
    }

    private func effectiveTimestamp(_ source: DataSource) -> String {
        if source.timestampField.isEmpty, case .push(let batch?) = source.kind {
            return definitions.source(batch)?.timestampField ?? ""
        }
        return source.timestampField
    }

    private mutating func check(_ service: FeatureService) {
        let id = ObjectID(.featureService, service.name)
        let where_ = referenceLocations[service.name] ?? []
        // Output column name → (view, where it was requested).
        var outputs: [String: String] = [:]
        var joinKeys = Set<String>()
        for (index, reference) in service.features.enumerated() {
            let at = index < where_.count ? where_[index] : nil
            let features: [Feature]
            let kind: String
            if let view = definitions.featureView(reference.view) {
                for key in definitions.joinKeys(of: view) { joinKeys.insert(key.name) }
                features = view.features
                kind = "feature view"
            } else if let onDemand = definitions.onDemandView(reference.view) {
                for source in onDemand.sources {
                    guard let view = definitions.featureView(source) else { continue }
                    for key in definitions.joinKeys(of: view) { joinKeys.insert(key.name) }
                }
                features = onDemand.features
                kind = "on-demand feature view"
            } else {
                error(
                    id, "feature service '\(service.name)' uses feature view '\(reference.view)', which is not defined",
                    hint: Suggestions.hint(
                        for: reference.view,
                        in: definitions.featureViews.map(\.name) + definitions.onDemandViews.map(\.name)), at: at)
                continue
            }
            let view = (name: reference.view, features: features)
            let names = reference.features ?? view.features.map(\.name)
            for name in names {
                guard view.features.contains(where: { $0.name == name }) else {
                    error(
                        id,
                        "\(kind) '\(view.name)' has no feature '\(name)' (used by feature service '\(service.name)')",
                        hint: Suggestions.hint(for: name, in: view.features.map(\.name))
                            ?? "its features: \(view.features.map(\.name).joined(separator: ", "))",
                        at: at)
                    continue
                }
                let output = service.fullFeatureNames ? "\(view.name)__\(name)" : name
                if let other = outputs[output] {
                    if other == view.name {
                        error(id, "feature service '\(service.name)' lists '\(view.name):\(name)' twice", at: at)
                    } else {
                        error(
                            id,
                            "feature service '\(service.name)' gets a feature named '\(name)' from both '\(other)' and '\(view.name)'",
                            hint:
                                "set 'full_feature_names: true' on the service (columns become view__feature), or drop one",
                            at: at)
                    }
                    continue
                }
                outputs[output] = view.name
            }
        }
        var mapped: [String: String] = [:]
        for (column, key) in service.joinKeyMap.sorted(by: { $0.key < $1.key }) {
            if let other = mapped[key] {
                error(
                    id,
                    "join_key_map of feature service '\(service.name)' maps both '\(other)' and '\(column)' to '\(key)'",
                    field: "join_key_map")
            }
            mapped[key] = column
        }
        for (column, key) in service.joinKeyMap.sorted(by: { $0.key < $1.key }) where !joinKeys.contains(key) {
            error(
                id,
                "join_key_map of feature service '\(service.name)' maps '\(column)' to '\(key)', which is not a join key of its views",
                hint: Suggestions.hint(for: key, in: joinKeys)
                    ?? "its join keys: \(joinKeys.sorted().joined(separator: ", "))", field: "join_key_map")
        }
    }
}
