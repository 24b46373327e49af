import TesseraCore

/// Objects flattened to `path → value` lines: the form `plan` compares field by field
/// and the registry digests. Empty optional fields are left out, so adding
/// `description: ""` changes nothing.
public enum CanonicalFields {
    public typealias Fields = [(path: String, value: String)]

    public static func fields(of entity: Entity) -> Fields {
        var out: Fields = [("join_keys", entity.joinKeys.map { "\($0.name):\($0.type.name)" }.joined(separator: ", "))]
        common(&out, entity.description, entity.owner, entity.tags)
        return out
    }

    public static func fields(of source: DataSource) -> Fields {
        var out: Fields = [("type", source.kind.name)]
        switch source.kind {
        case .file(let path, let format):
            out.append(("path", path))
            out.append(("format", format.rawValue))
        case .push(let batch):
            if let batch { out.append(("batch_source", batch)) }
        case .postgres(let relation):
            // The password is never part of what plans show or the registry digests.
            out.append(("url", relation.shownURL))
            if let table = relation.table { out.append(("table", table)) }
            if let query = relation.query { out.append(("query", query)) }
            if let file = relation.passwordFile { out.append(("password_file", file)) }
        }
        if !source.timestampField.isEmpty { out.append(("timestamp_field", source.timestampField)) }
        if let created = source.createdTimestampField { out.append(("created_timestamp_field", created)) }
        for (key, value) in source.fieldMapping.sorted(by: { $0.key < $1.key }) {
            out.append(("field_mapping.\(key)", value))
        }
        common(&out, source.description, source.owner, source.tags)
        return out
    }

    public static func fields(of view: FeatureView) -> Fields {
        var out: Fields = [
            ("entities", view.entities.joined(separator: ", ")), ("source", view.source),
            ("ttl", view.ttl.formatted), ("online", String(view.online)), ("offline", String(view.offline)),
        ]
        if let filter = view.filter { out.append(("filter", filter)) }
        for feature in view.features {
            out.append(("schema.\(feature.name)", feature.type.name))
            if let aggregation = feature.aggregation {
                out.append(("schema.\(feature.name).aggregation", aggregation.spelling))
            }
            if let expression = feature.expression { out.append(("schema.\(feature.name).expression", expression)) }
            if !feature.description.isEmpty { out.append(("schema.\(feature.name).description", feature.description)) }
            for (key, value) in feature.tags.sorted(by: { $0.key < $1.key }) {
                out.append(("schema.\(feature.name).tags.\(key)", value))
            }
        }
        common(&out, view.description, view.owner, view.tags)
        return out
    }

    public static func fields(of source: RequestSource) -> Fields {
        var out: Fields = source.schema.map { ("schema.\($0.name)", $0.type.name) }
        common(&out, source.description, source.owner, source.tags)
        return out
    }

    public static func fields(of view: OnDemandFeatureView) -> Fields {
        var out: Fields = [("sources", view.sources.joined(separator: ", "))]
        for feature in view.features {
            out.append(("features.\(feature.name)", feature.type.name))
            if let expression = feature.expression { out.append(("features.\(feature.name).expression", expression)) }
            if !feature.description.isEmpty {
                out.append(("features.\(feature.name).description", feature.description))
            }
            for (key, value) in feature.tags.sorted(by: { $0.key < $1.key }) {
                out.append(("features.\(feature.name).tags.\(key)", value))
            }
        }
        common(&out, view.description, view.owner, view.tags)
        return out
    }

    public static func fields(of service: FeatureService) -> Fields {
        var out: Fields = [("features", service.features.map(\.spelling).joined(separator: ", "))]
        if service.fullFeatureNames { out.append(("full_feature_names", "true")) }
        for (key, value) in service.joinKeyMap.sorted(by: { $0.key < $1.key }) {
            out.append(("join_key_map.\(key)", value))
        }
        common(&out, service.description, service.owner, service.tags)
        return out
    }

    private static func common(_ out: inout Fields, _ description: String, _ owner: String, _ tags: [String: String]) {
        if !description.isEmpty { out.append(("description", description)) }
        if !owner.isEmpty { out.append(("owner", owner)) }
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) { out.append(("tags.\(key)", value)) }
    }

    /// Every object's fields, by id.
    public static func all(_ definitions: Definitions) -> [ObjectID: Fields] {
        var out: [ObjectID: Fields] = [:]
        for e in definitions.entities { out[ObjectID(.entity, e.name)] = fields(of: e) }
        for s in definitions.sources { out[ObjectID(.source, s.name)] = fields(of: s) }
        for v in definitions.featureViews { out[ObjectID(.featureView, v.name)] = fields(of: v) }
        for s in definitions.featureServices { out[ObjectID(.featureService, s.name)] = fields(of: s) }
        for s in definitions.requestSources { out[ObjectID(.requestSource, s.name)] = fields(of: s) }
        for v in definitions.onDemandViews { out[ObjectID(.onDemandFeatureView, v.name)] = fields(of: v) }
        return out
    }

    /// The digest of one object's fields.
    public static func digest(_ id: ObjectID, _ fields: Fields) -> String {
        var hasher = SHA256()
        hasher.update("\(id.kind.rawValue)\u{1}\(id.name)\n")
        for field in fields {
            hasher.update(field.path)
            hasher.update([1])
            hasher.update(field.value)
            hasher.update([10])
        }
        return SHA256.hexString(hasher.finalize())
    }

    /// The digest of a whole set of definitions: the digest of its objects' digests, in id order.
    public static func digest(_ definitions: Definitions) -> String {
        let all = all(definitions)
        var hasher = SHA256()
        for id in all.keys.sorted() {
            hasher.update(digest(id, all[id] ?? []))
            hasher.update([10])
        }
        return SHA256.hexString(hasher.finalize())
    }
}
