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

    /// A service's on-demand features removed, retyped or computed differently.
    private func onDemandBreaks(
        _ oldView: OnDemandFeatureView, _ reference: FeatureReference, _ service: FeatureService, new: Definitions,
        into reasons: inout [ObjectID: [String]]
    ) {
        let id = ObjectID(.onDemandFeatureView, oldView.name)
        guard let newView = new.onDemandView(oldView.name) else {
            reasons[id, default: []].append(
                "removes on-demand feature view '\(oldView.name)', used by feature service '\(service.name)'")
            return
        }
        for name in reference.features ?? oldView.features.map(\.name) {
            guard let before = oldView.feature(named: name) else { continue }
            guard let after = newView.feature(named: name) else {
                reasons[id, default: []].append(
                    "removes feature '\(oldView.name):\(name)', used by feature service '\(service.name)'")
                continue
            }
            if after.type != before.type {
                reasons[id, default: []].append(
                    "retypes feature '\(oldView.name):\(name)' from \(before.type) to \(after.type); feature service '\(service.name)' uses it"
                )
            } else if after.expression != before.expression {
                reasons[id, default: []].append(
                    "changes the expression of '\(oldView.name):\(name)' from \(before.expression ?? "") to \(after.expression ?? ""); feature service '\(service.name)' uses it"
                )
            }
        }
    }

    /// Flags changes that break what consumers rely on: features a service uses removed or
    /// retyped, an entity's join keys changed, a view's entities changed.
    private mutating func markBreaking(old: Definitions, new: Definitions) {
        var reasons: [ObjectID: [String]] = [:]
        for service in old.featureServices {
            for reference in service.features {
                if let oldView = old.onDemandView(reference.view) {
                    onDemandBreaks(oldView, reference, service, new: new, into: &reasons)
                    continue
                }
                guard let oldView = old.featureView(reference.view) else { continue }
                let names = reference.features ?? oldView.features.map(\.name)
                let viewID = ObjectID(.featureView, oldView.name)
                guard let newView = new.featureView(oldView.name) else {
                    reasons[viewID, default: []].append(
                        "removes feature view '\(oldView.name)', used by feature service '\(service.name)'")
                    continue
                }
                for name in names {
                    guard let before = oldView.feature(named: name) else { continue }
                    if let after = newView.feature(named: name) {
                        if after.type != before.type {
                            reasons[viewID, default: []].append(
                                "retypes feature '\(oldView.name):\(name)' from \(before.type) to \(after.type); feature service '\(service.name)' uses it"
                            )
                        } else if after.expression != before.expression {
                            reasons[viewID, default: []].append(
                                "changes the expression of '\(oldView.name):\(name)' from \(before.expression ?? "the source column") to \(after.expression ?? "the source column"); feature service '\(service.name)' uses it"
                            )
                        } else if after.aggregation?.spelling != before.aggregation?.spelling {
                            let was = before.aggregation?.spelling ?? "the source's latest value"
                            let now = after.aggregation?.spelling ?? "the source's latest value"
                            reasons[viewID, default: []].append(
                                "changes how '\(oldView.name):\(name)' is computed, from \(was) to \(now); feature service '\(service.name)' uses it"
                            )
                        }
                    } else {
                        reasons[viewID, default: []].append(
                            "removes feature '\(oldView.name):\(name)', used by feature service '\(service.name)'")
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
