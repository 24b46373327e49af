import TesseraCore

/// One field that differs between the applied and the new definitions.
public struct FieldChange: Hashable, Sendable, Codable {
    public var path: String
    public var old: String?
    public var new: String?

    public init(path: String, old: String?, new: String?) {
        self.path = path
        self.old = old
        self.new = new
    }
}

/// What happens to one object.
public struct ObjectChange: Hashable, Sendable, Codable {
    public enum Action: String, Hashable, Sendable, Codable {
        case add
        case change
        case remove
    }

    public var id: ObjectID
    public var action: Action
    /// Field by field: every field for additions and removals, the differing ones for changes.
    public var fields: [FieldChange]
    /// Why this change may break consumers (empty when it is safe).
    public var breaking: [String]

    public init(id: ObjectID, action: Action, fields: [FieldChange], breaking: [String] = []) {
        self.id = id
        self.action = action
        self.fields = fields
        self.breaking = breaking
    }
}

/// The difference between two sets of definitions: what `apply` would change.
public struct Plan: Hashable, Sendable, Codable {
    public var changes: [ObjectChange]

    public init(changes: [ObjectChange]) {
        self.changes = changes
    }

    public var isEmpty: Bool { changes.isEmpty }
    public var isBreaking: Bool { changes.contains { !$0.breaking.isEmpty } }
    public var breakingReasons: [String] { changes.flatMap(\.breaking) }

    public func count(_ action: ObjectChange.Action) -> Int { changes.filter { $0.action == action }.count }

    /// Compares the applied definitions with new ones.
    ///
    public init(from old: Definitions, to new: Definitions) {
        let oldFields = CanonicalFields.all(old)
        let newFields = CanonicalFields.all(new)
        var changes: [ObjectChange] = []
        for id in Set(oldFields.keys).union(newFields.keys).sorted() {
            switch (oldFields[id], newFields[id]) {
            case (nil, let fields?):
                changes.append(
                    ObjectChange(
                        id: id, action: .add, fields: fields.map { FieldChange(path: $0.path, old: nil, new: $0.value) }
                    ))
            case (let fields?, nil):
                changes.append(
                    ObjectChange(
                        id: id, action: .remove,
                        fields: fields.map { FieldChange(path: $0.path, old: $0.value, new: nil) }))
            case (let before?, let after?):
                let diff = Plan.diff(before, after)
                if !diff.isEmpty { changes.append(ObjectChange(id: id, action: .change, fields: diff)) }
            case (nil, nil):
                break
            }
        }
        self.changes = changes
        markBreaking(old: old, new: new)
    }

    static func diff(_ before: CanonicalFields.Fields, _ after: CanonicalFields.Fields) -> [FieldChange] {
        var oldMap: [String: String] = [:]
        for field in before { oldMap[field.path] = field.value }
        var newMap: [String: String] = [:]
        for field in after { newMap[field.path] = field.value }
        var out: [FieldChange] = []
        // Keep the fields' natural order: old order for removals and changes, then new additions.
        for field in before where newMap[field.path] != field.value {
            out.append(FieldChange(path: field.path, old: field.value, new: newMap[field.path]))
        }
        for field in after where oldMap[field.path] == nil {
            out.append(FieldChange(path: field.path, old: nil, new: field.value))
        }
        return out
    }

    /// Why changing feature `name` of `view` from `before` to `after` (`nil`: removed) breaks
    /// `service`, which uses it; `nil` when it does not.
    private static func featureBreak(
        _ view: String, _ name: String, before: Feature, after: Feature?, service: String
    ) -> String? {
        guard let after else { return "removes feature '\(view):\(name)', used by feature service '\(service)'" }
        if after.type != before.type {
            return
                "retypes feature '\(view):\(name)' from \(before.type) to \(after.type); feature service '\(service)' uses it"
        }
        if after.expression != before.expression {
            return
                "changes the expression of '\(view):\(name)' from \(before.expression ?? "the source column") to \(after.expression ?? "the source column"); feature service '\(service)' uses it"
        }
        if after.aggregation?.spelling != before.aggregation?.spelling {
            let was = before.aggregation?.spelling ?? "the source's latest value"
            let now = after.aggregation?.spelling ?? "the source's latest value"
            return
                "changes how '\(view):\(name)' is computed, from \(was) to \(now); feature service '\(service)' uses it"
        }
        return nil
    }

    /// Flags changes that break what consumers rely on: features a service uses removed or
    /// retyped, an entity's join keys changed, a view's entities changed.
    private mutating func markBreaking(old: Definitions, new: Definitions) {
        var reasons: [ObjectID: [String]] = [:]
        for service in old.featureServices {
            for reference in service.features {
                // A view or an on-demand view: the features the service reads must stay as they were.
                let kind: ObjectKind
                let before: (name: String, features: [Feature])
                let after: [Feature]?
                if let view = old.featureView(reference.view) {
                    (kind, before, after) = (
                        .featureView, (view.name, view.features), new.featureView(view.name)?.features
                    )
                } else if let view = old.onDemandView(reference.view) {
                    (kind, before, after) = (
                        .onDemandFeatureView, (view.name, view.features), new.onDemandView(view.name)?.features
                    )
                } else {
                    continue
                }
                let id = ObjectID(kind, before.name)
                guard let after else {
                    reasons[id, default: []].append(
                        "removes \(kind.label) '\(before.name)', used by feature service '\(service.name)'")
                    continue
                }
                for name in reference.features ?? before.features.map(\.name) {
                    guard let feature = before.features.first(where: { $0.name == name }) else { continue }
                    if let reason = Plan.featureBreak(
                        before.name, name, before: feature, after: after.first { $0.name == name },
                        service: service.name)
                    {
                        reasons[id, default: []].append(reason)
                    }
                }
            }
        }
        for entity in old.entities {
            guard let after = new.entity(entity.name), after.joinKeys != entity.joinKeys else { continue }
            let before = entity.joinKeys.map { "\($0.name):\($0.type.name)" }.joined(separator: ", ")
            let now = after.joinKeys.map { "\($0.name):\($0.type.name)" }.joined(separator: ", ")
            reasons[ObjectID(.entity, entity.name), default: []].append(
                "changes the join keys of entity '\(entity.name)' from [\(before)] to [\(now)]; stored keys no longer match"
            )
        }
        for view in old.featureViews {
            guard let after = new.featureView(view.name), after.filter != view.filter else { continue }
            let used = old.featureServices.contains { $0.features.contains { $0.view == view.name } }
            if used {
                reasons[ObjectID(.featureView, view.name), default: []].append(
                    "changes the filter of feature view '\(view.name)' from \(view.filter ?? "none") to \(after.filter ?? "none"), which changes its values"
                )
            }
        }
        for view in old.featureViews {
            guard let after = new.featureView(view.name), after.entities != view.entities else { continue }
            reasons[ObjectID(.featureView, view.name), default: []].append(
                "changes the entities of feature view '\(view.name)' from [\(view.entities.joined(separator: ", "))] to [\(after.entities.joined(separator: ", "))]"
            )
        }
        for index in changes.indices {
            if let found = reasons[changes[index].id] {
                var unique: [String] = []
                for reason in found where !unique.contains(reason) { unique.append(reason) }
                changes[index].breaking = unique
            }
        }
    }
}
