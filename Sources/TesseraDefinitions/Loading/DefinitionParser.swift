import Foundation
import TesseraCore
import Yams

/// Objects parsed from one definition file, with where each was declared.
struct ParsedFile {
    var definitions = Definitions()
    var locations: [ObjectID: SourceLocation] = [:]
    /// Where each feature reference of each service was written, for precise messages.
    var referenceLocations: [String: [SourceLocation]] = [:]
    var fieldLocations: [ObjectID: [String: SourceLocation]] = [:]
}

/// Turns the YAML of a definition file into model values.
struct DefinitionParser {
    let reader: YAMLReader

    static let sections = ObjectKind.allCases.map(\.sectionKey)

    func parse(root: Node, into parsed: inout ParsedFile) {
        guard let pairs = reader.mapping(root, "a definition file") else { return }
        for pair in pairs {
            guard let kind = ObjectKind.allCases.first(where: { $0.sectionKey == pair.key }) else {
                let hint =
                    Suggestions.hint(for: pair.key, in: DefinitionParser.sections)
                    ?? "a definition file lists \(DefinitionParser.sections.joined(separator: ", "))"
                reader.error(pair.keyNode, "unknown section '\(pair.key)'", hint: hint)
                continue
            }
            let items: [Node]
            switch pair.value {
            case .sequence(let sequence): items = Array(sequence)
            case .scalar(let scalar) where scalar.string.isEmpty || scalar.tag.description.hasSuffix("null"):
                items = []
            default:
                reader.error(
                    pair.value, "'\(pair.key)' must be a list of \(kind.label) definitions (lines starting with '- ')")
                continue
            }
            for item in items {
                switch kind {
                case .entity:
                    if let entity = entity(item) {
                        parsed.definitions.entities.append(entity)
                        parsed.locations[ObjectID(.entity, entity.name)] = reader.location(item)
                    }
                case .source:
                    if let source = source(item) {
                        parsed.definitions.sources.append(source)
                        parsed.locations[ObjectID(.source, source.name)] = reader.location(item)
                    }
                case .featureView:
                    if let view = featureView(item) {
                        parsed.definitions.featureViews.append(view)
                        parsed.locations[ObjectID(.featureView, view.name)] = reader.location(item)
                    }
                case .requestSource:
                    if let source = requestSource(item) {
                        parsed.definitions.requestSources.append(source)
                        parsed.locations[ObjectID(.requestSource, source.name)] = reader.location(item)
                    }
                case .onDemandFeatureView:
                    if let view = onDemandView(item) {
                        parsed.definitions.onDemandViews.append(view)
                        parsed.locations[ObjectID(.onDemandFeatureView, view.name)] = reader.location(item)
                    }
                case .featureService:
                    if let (service, locations) = featureService(item) {
                        parsed.definitions.featureServices.append(service)
                        parsed.locations[ObjectID(.featureService, service.name)] = reader.location(item)
                        parsed.referenceLocations[service.name] = locations
                    }
                }
            }
        }
    }

    /// The `name` of an object, read first so that later messages can name it.
    private func objectName(_ pairs: [(key: String, keyNode: Node, value: Node)], _ node: Node, _ kind: ObjectKind)
        -> String?
    {
        guard let pair = pairs.first(where: { $0.key == "name" }) else {
            reader.error(node, "a \(kind.label) is missing the required field 'name'")
            return nil
        }
        return reader.name(pair.value, "the \(kind.label) name")
    }

    private func common(
        _ pairs: [(key: String, keyNode: Node, value: Node)], what: String
    ) -> (description: String, owner: String, tags: [String: String]) {
        var description = ""
        var owner = ""
        var tags: [String: String] = [:]
        for pair in pairs {
            switch pair.key {
            case "description": description = reader.string(pair.value, "the description of \(what)") ?? ""
            case "owner": owner = reader.string(pair.value, "the owner of \(what)") ?? ""
            case "tags": tags = reader.stringMap(pair.value, "the tags of \(what)") ?? [:]
            default: break
            }
        }
        return (description, owner, tags)
    }

    static let entityFields = ["name", "join_keys", "description", "owner", "tags"]

    func entity(_ node: Node) -> Entity? {
        guard let pairs = reader.mapping(node, "an entity") else { return nil }
        let name = objectName(pairs, node, .entity)
        if let name { reader.recordFields(ObjectID(.entity, name), pairs) }
        let what = "entity '\(name ?? "?")'"
        reader.checkKeys(pairs, in: node, allowed: DefinitionParser.entityFields, required: ["join_keys"], what: what)
        var keys: [JoinKey] = []
        if let pair = pairs.first(where: { $0.key == "join_keys" }) {
            if let keyPairs = reader.mapping(pair.value, "the join_keys of \(what) (join key: type)") {
                if keyPairs.isEmpty { reader.error(pair.value, "\(what) needs at least one join key") }
                for keyPair in keyPairs {
                    guard YAMLReader.isIdentifier(keyPair.key) else {
                        reader.error(keyPair.keyNode, "join key '\(keyPair.key)' of \(what) is not a valid name")
                        continue
                    }
                    guard
                        let type = reader.type(keyPair.value, "join key '\(keyPair.key)' of \(what)", allowList: false)
                    else { continue }
                    keys.append(JoinKey(keyPair.key, type))
                }
            } else {
            }
        }
        let (description, owner, tags) = common(pairs, what: what)
        // Field errors are already reported; the object is kept so references to it resolve.
        guard let name else { return nil }
        return Entity(name: name, joinKeys: keys, description: description, owner: owner, tags: tags)
    }

    static let sourceFields = [
        "name", "type", "path", "format", "url", "table", "query", "password_file", "timestamp_field",
        "created_timestamp_field", "field_mapping", "batch_source", "description", "owner", "tags",
    ]
    static let sourceTypes = ["file", "push", "postgres"]
    /// The fields only one source type takes.
    static let typeFields: [String: [String]] = [
        "file": ["path", "format"], "push": ["batch_source"], "postgres": ["url", "table", "query", "password_file"],
    ]

    func source(_ node: Node) -> DataSource? {
        guard let pairs = reader.mapping(node, "a source") else { return nil }
        let name = objectName(pairs, node, .source)
        if let name { reader.recordFields(ObjectID(.source, name), pairs) }
        let what = "source '\(name ?? "?")'"
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        var type = "file"
        if let node = value("type"), let text = reader.string(node, "the type of \(what)") {
            type = text
            if !DefinitionParser.sourceTypes.contains(text) {
                reader.error(
                    node, "unknown source type '\(text)' in \(what)",
                    hint: Suggestions.hint(for: text, in: DefinitionParser.sourceTypes)
                        ?? "expected 'file', 'push' or 'postgres'")
            }
        }
        let others = DefinitionParser.typeFields.filter { $0.key != type }.values.flatMap { $0 }
        let allowed = DefinitionParser.sourceFields.filter {
            !others.contains($0) || DefinitionParser.typeFields[type]?.contains($0) == true
        }
        let required: [String] =
            switch type {
            case "push": []
            case "postgres": ["url", "timestamp_field"]
            default: ["path", "timestamp_field"]
            }
        reader.checkKeys(pairs, in: node, allowed: allowed, required: required, what: what)
        var kind = SourceKind.push(batchSource: nil)
        if type == "postgres" {
            kind = .postgres(postgresRelation(value, what: what, node: node))
        } else if type == "file" {
            let path = value("path").flatMap { reader.string($0, "the path of \(what)") }
            var format: FileFormat? = nil
            if let node = value("format"), let text = reader.string(node, "the format of \(what)") {
                format = FileFormat(rawValue: text.lowercased())
                if format == nil {
                    reader.error(node, "unknown format '\(text)' in \(what)", hint: "expected 'parquet' or 'csv'")
                }
            } else if let path {
                format = FileFormat.inferred(from: path)
                if format == nil {
                    reader.error(
                        value("path"), "cannot tell the format of '\(path)' in \(what) from its extension",
                        hint: "add 'format: parquet' or 'format: csv'")
                }
            }
            kind = .file(path: path ?? "", format: format ?? .parquet)
        } else {
            kind = .push(batchSource: value("batch_source").flatMap { reader.name($0, "the batch_source of \(what)") })
        }
        var timestamp = value("timestamp_field").flatMap { reader.string($0, "the timestamp_field of \(what)") }
        if timestamp == nil, type == "push" { timestamp = "" }  // inherited from the batch source
        let created = value("created_timestamp_field").flatMap {
            reader.string($0, "the created_timestamp_field of \(what)")
        }
        let mapping = value("field_mapping").flatMap { reader.stringMap($0, "the field_mapping of \(what)") } ?? [:]
        let (description, owner, tags) = common(pairs, what: what)
        guard let name else { return nil }
        return DataSource(
            name: name, kind: kind, timestampField: timestamp ?? "", createdTimestampField: created,
            fieldMapping: mapping, description: description, owner: owner, tags: tags)
    }

    /// A `type: postgres` source's server and relation: a `url` naming a user and a database,
    /// and exactly one of `table` (`name` or `schema.name`) and `query`.
    private func postgresRelation(_ value: (String) -> Node?, what: String, node: Node) -> PostgresRelation {
        var url = ""
        if let urlNode = value("url"), let text = reader.string(urlNode, "the url of \(what)") {
            url = text
            do {
                let parts = try ServiceURL(
                    text, schemes: ["postgresql://", "postgres://"], form: "postgresql://user@host[:port]/database")
                if parts.user == nil {
                    reader.error(urlNode, "the url of \(what) names no user (postgresql://user@host/database)")
                } else if parts.path.isEmpty {
                    reader.error(urlNode, "the url of \(what) names no database (postgresql://user@host/database)")
                }
                if parts.password != nil {
                    reader.warning(
                        urlNode, "the url of \(what) holds a password, which is kept in git with the definitions",
                        hint: "leave it out and set password_file or TESSERA_PG_PASSWORD")
                }
            } catch {
                reader.error(urlNode, "the url of \(what): \(error.description)")
            }
        }
        let table = value("table").flatMap { reader.string($0, "the table of \(what)") }
        let query = value("query").flatMap { reader.string($0, "the query of \(what)") }
        if table != nil, query != nil {
            reader.error(value("query"), "\(what) gives both a table and a query", hint: "keep one")
        } else if table == nil, query == nil {
            reader.error(node, "\(what) names no table or query", hint: "add 'table: name' or 'query: SELECT ...'")
        }
        if let table, let tableNode = value("table"), PostgresRelation.tableParts(table) == nil {
            reader.error(
                tableNode, "the table '\(table)' of \(what) is not a table name",
                hint: "write name or schema.name (a part with other characters in double quotes)")
        }
        if let query, query.trimmingSpaces().isEmpty {
            reader.error(value("query"), "the query of \(what) is empty")
        }
        let passwordFile = value("password_file").flatMap { reader.string($0, "the password_file of \(what)") }
        return PostgresRelation(url: url, table: table, query: query, passwordFile: passwordFile)
    }

    static let viewFields = [
        "name", "entities", "source", "schema", "aggregations", "filter", "ttl", "online", "offline", "description",
        "owner", "tags",
    ]
    static let aggregationFields = [
        "column", "expression", "type", "function", "functions", "window", "windows", "name", "description",
    ]
    static let featureFields = ["type", "expression", "description", "tags"]

    func featureView(_ node: Node) -> FeatureView? {
        guard let pairs = reader.mapping(node, "a feature view") else { return nil }
        let name = objectName(pairs, node, .featureView)
        if let name { reader.recordFields(ObjectID(.featureView, name), pairs) }
        let what = "feature view '\(name ?? "?")'"
        reader.checkKeys(
            pairs, in: node, allowed: DefinitionParser.viewFields, required: ["entities", "source"], what: what)
        if !pairs.contains(where: { $0.key == "schema" || $0.key == "aggregations" }) {
            reader.error(
                node, "\(what) declares no features",
                hint: "give it a 'schema' (features: types) or 'aggregations' (windowed functions of columns)")
        }
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        let entities = value("entities").flatMap { reader.stringList($0, "the entities of \(what)") }?.map(\.0)
        if let entities, entities.isEmpty { reader.error(value("entities"), "\(what) names no entities") }
        let source = value("source").flatMap { reader.string($0, "the source of \(what)") }
        var features: [Feature] = []
        if let schema = value("schema") {
            features = self.features(
                schema, what: what, id: name.map { ObjectID(.featureView, $0) }, expressionRequired: false)
        }
        if let node = value("aggregations"), let name {
            aggregations(node, what: what, id: ObjectID(.featureView, name), into: &features)
        }
        var ttl = TimeSpan.zero
        if let node = value("ttl") {
            if let span = reader.duration(node, "the ttl of \(what)") { ttl = span }
        }
        var filter: String?
        if let node = value("filter"), let parsed = reader.expression(node, "the filter of \(what)") {
            filter = parsed.text
            if let name { reader.fieldLocations[ObjectID(.featureView, name), default: [:]]["filter"] = parsed.at }
        }
        let online = value("online").flatMap { reader.bool($0, "'online' of \(what)") } ?? true
        let offline = value("offline").flatMap { reader.bool($0, "'offline' of \(what)") } ?? true
        let (description, owner, tags) = common(pairs, what: what)
        guard let name else { return nil }
        return FeatureView(
            name: name, entities: entities ?? [], source: source ?? "", features: features, ttl: ttl, online: online,
            offline: offline, description: description, owner: owner, tags: tags, filter: filter)
    }

    /// A `schema:` (or an on-demand view's `features:`) mapping of feature name → type, or →
    /// `{type, expression, description, tags}`; each expression's place is recorded.
    private func features(_ schema: Node, what: String, id: ObjectID?, expressionRequired: Bool) -> [Feature] {
        var features: [Feature] = []
        let label =
            expressionRequired
            ? "the features of \(what) (feature: {type, expression})" : "the schema of \(what) (feature: type)"
        guard let featurePairs = reader.mapping(schema, label) else { return [] }
        if featurePairs.isEmpty { reader.error(schema, "\(what) declares no features") }
        for pair in featurePairs {
            guard YAMLReader.isIdentifier(pair.key) else {
                reader.error(
                    pair.keyNode, "feature name '\(pair.key)' in \(what) is not a valid name",
                    hint: "use letters, digits and '_', starting with a letter or '_'")
                continue
            }
            let featureWhat = "feature '\(pair.key)' of \(what)"
            guard case .mapping = pair.value else {
                if expressionRequired {
                    reader.error(
                        pair.value, "\(featureWhat) needs an expression",
                        hint: "write \(pair.key): {type: float64, expression: \"a * b\"}")
                    continue
                }
                guard let type = reader.type(pair.value, featureWhat) else { continue }
                features.append(Feature(pair.key, type))
                continue
            }
            guard let detail = reader.mapping(pair.value, featureWhat) else { continue }
            reader.checkKeys(
                detail, in: pair.value, allowed: DefinitionParser.featureFields,
                required: expressionRequired ? ["type", "expression"] : ["type"], what: featureWhat)
            guard let typeNode = detail.first(where: { $0.key == "type" })?.value,
                let type = reader.type(typeNode, featureWhat)
            else { continue }
            let (description, _, tags) = common(detail, what: featureWhat)
            var expression: String?
            if let node = detail.first(where: { $0.key == "expression" })?.value,
                let parsed = reader.expression(node, "the expression of \(featureWhat)")
            {
                expression = parsed.text
                if let id { reader.fieldLocations[id, default: [:]]["expression:" + pair.key] = parsed.at }
            }
            features.append(Feature(pair.key, type, description: description, tags: tags, expression: expression))
        }
        return features
    }

    static let requestSourceFields = ["name", "schema", "description", "owner", "tags"]

    func requestSource(_ node: Node) -> RequestSource? {
        guard let pairs = reader.mapping(node, "a request source") else { return nil }
        let name = objectName(pairs, node, .requestSource)
        if let name { reader.recordFields(ObjectID(.requestSource, name), pairs) }
        let what = "request source '\(name ?? "?")'"
        reader.checkKeys(
            pairs, in: node, allowed: DefinitionParser.requestSourceFields, required: ["schema"], what: what)
        var fields: [RequestSource.Field] = []
        if let schema = pairs.first(where: { $0.key == "schema" })?.value,
            let fieldPairs = reader.mapping(schema, "the schema of \(what) (field: type)")
        {
            if fieldPairs.isEmpty { reader.error(schema, "\(what) declares no fields") }
            for pair in fieldPairs {
                guard YAMLReader.isIdentifier(pair.key) else {
                    reader.error(
                        pair.keyNode, "field name '\(pair.key)' in \(what) is not a valid name",
                        hint: "use letters, digits and '_', starting with a letter or '_'")
                    continue
                }
                guard let type = reader.type(pair.value, "field '\(pair.key)' of \(what)") else { continue }
                fields.append(RequestSource.Field(pair.key, type))
            }
        }
        let (description, owner, tags) = common(pairs, what: what)
        guard let name else { return nil }
        return RequestSource(name: name, schema: fields, description: description, owner: owner, tags: tags)
    }

    static let onDemandFields = ["name", "sources", "features", "description", "owner", "tags"]

    func onDemandView(_ node: Node) -> OnDemandFeatureView? {
        guard let pairs = reader.mapping(node, "an on-demand feature view") else { return nil }
        let name = objectName(pairs, node, .onDemandFeatureView)
        let id = name.map { ObjectID(.onDemandFeatureView, $0) }
        if let id { reader.recordFields(id, pairs) }
        let what = "on-demand feature view '\(name ?? "?")'"
        reader.checkKeys(
            pairs, in: node, allowed: DefinitionParser.onDemandFields, required: ["sources", "features"], what: what)
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        let sources = value("sources").flatMap { reader.stringList($0, "the sources of \(what)") }?.map(\.0) ?? []
        if value("sources") != nil && sources.isEmpty {
            reader.error(value("sources"), "\(what) names no sources", hint: "list feature views and request sources")
        }
        let features = value("features").map { self.features($0, what: what, id: id, expressionRequired: true) } ?? []
        let (description, owner, tags) = common(pairs, what: what)
        guard let name else { return nil }
        return OnDemandFeatureView(
            name: name, sources: sources, features: features, description: description, owner: owner, tags: tags)
    }

    /// `aggregations:`: each entry's functions × windows become features, named by the
    /// entry's template (default `{column}_{function}_{window}`), each recorded at its entry.
    private func aggregations(_ node: Node, what: String, id: ObjectID, into features: inout [Feature]) {
        guard case .sequence(let entries) = node else {
            reader.error(
                node, "the aggregations of \(what) must be a list", hint: "found \(reader.describe(node))")
            return
        }
        if entries.isEmpty { reader.error(node, "\(what) has an empty 'aggregations' list") }
        for entry in entries {
            guard let pairs = reader.mapping(entry, "an aggregation of \(what)") else { continue }
            let entryWhat = "an aggregation of \(what)"
            reader.checkKeys(
                pairs, in: entry, allowed: DefinitionParser.aggregationFields, required: [], what: entryWhat)
            func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
            var column = value("column").flatMap { reader.name($0, "the column of \(entryWhat)") }
            var expression: String?
            var expressionAt: SourceLocation?
            if let node = value("expression"), let parsed = reader.expression(node, "the expression of \(entryWhat)") {
                if value("column") != nil {
                    reader.error(node, "\(entryWhat) has both a column and an expression", hint: "keep one")
                }
                if value("name") == nil {
                    reader.error(
                        node, "\(entryWhat) aggregates an expression, so it needs a 'name' template",
                        hint: "e.g. name: \"completed_fare_{function}_{window}\"")
                }
                expression = parsed.text
                column = Aggregation.column(for: parsed.text)
                expressionAt = parsed.at
            }
            var inputType: ValueType?
            if let node = value("type") {
                inputType = reader.type(node, "the column of \(entryWhat)", allowList: false)
            } else if expression == nil, let column,
                let declared = features.first(where: { $0.name == column && !$0.isAggregated })
            {
                inputType = declared.type
            }
            var functionNodes: [(String, Node)] = []
            if let node = value("function") {
                functionNodes += reader.stringList(node, "the function of \(entryWhat)") ?? []
            }
            if let node = value("functions") {
                functionNodes += reader.stringList(node, "the functions of \(entryWhat)") ?? []
            }
            if functionNodes.isEmpty {
                reader.error(
                    entry, "\(entryWhat) names no function", hint: "write functions: [sum, mean] or function: count")
            }
            var windowNodes: [(String, Node)] = []
            if let node = value("window") { windowNodes += reader.stringList(node, "the window of \(entryWhat)") ?? [] }
            if let node = value("windows") {
                windowNodes += reader.stringList(node, "the windows of \(entryWhat)") ?? []
            }
            if windowNodes.isEmpty {
                reader.error(entry, "\(entryWhat) names no window", hint: "write windows: [1h, 1d, 7d] or lifetime")
            }
            var windows: [(AggregationWindow, String, Node)] = []
            for (text, node) in windowNodes {
                if text.trimmingSpaces().lowercased() == "lifetime" {
                    windows.append((.lifetime, "lifetime", node))
                    continue
                }
                guard let span = TimeSpan(parsing: text) else {
                    reader.error(
                        node, "'\(Echo.clip(text, limit: 40))' is not a window of \(entryWhat)",
                        hint: "write a duration (30m, 1h, 7d) or lifetime")
                    continue
                }
                guard span.microseconds > 0 else {
                    reader.error(
                        node, "a window of 0 covers no events", hint: "write a duration (30m, 1h, 7d) or lifetime")
                    continue
                }
                windows.append((.length(span), text.trimmingSpaces().lowercased(), node))
            }
            let template = value("name").flatMap { reader.string($0, "the name of \(entryWhat)") }
            let description =
                value("description").flatMap { reader.string($0, "the description of \(entryWhat)") } ?? ""
            for (text, functionNode) in functionNodes {
                let function: AggregateFunction
                switch AggregateFunction.parse(text) {
                case .success(let parsed): function = parsed
                case .failure(let problem):
                    reader.error(
                        functionNode, "\(problem.message) in \(entryWhat)",
                        hint: Suggestions.hint(for: text, in: AggregateFunction.spellings)
                            ?? "functions: \(AggregateFunction.spellings.joined(separator: ", "))")
                    continue
                }
                if function.needsInput && column == nil {
                    reader.error(
                        functionNode, "\(function) in \(entryWhat) needs a column",
                        hint: "add 'column: NAME' (only count works without one)")
                    continue
                }
                if let inputType, let problem = function.rejects(inputType) {
                    reader.error(functionNode, "\(problem) (column '\(column ?? "")' of \(entryWhat))")
                    continue
                }
                for (window, windowText, _) in windows {
                    let pattern = template ?? (column == nil ? "{function}_{window}" : "{column}_{function}_{window}")
                    let featureName = pattern.replacingOccurrences(
                        of: "{column}", with: expression == nil ? column ?? "" : "expr"
                    )
                    .replacingOccurrences(of: "{function}", with: function.nameComponent)
                    .replacingOccurrences(of: "{window}", with: windowText)
                    let where_ = template.flatMap { _ in value("name") } ?? functionNode
                    guard YAMLReader.isIdentifier(featureName) else {
                        reader.error(
                            where_,
                            "the aggregation feature name '\(Echo.clip(featureName, limit: 60))' of \(what) is not a valid name",
                            hint:
                                "name templates use {column}, {function} and {window}; the result must be letters, digits and '_'"
                        )
                        continue
                    }
                    if features.contains(where: { $0.name == featureName }) {
                        reader.error(
                            where_, "\(what) has two features named '\(featureName)'",
                            hint: template == nil
                                ? "give the aggregation a 'name' template" : "make the name template tell them apart")
                        continue
                    }
                    let aggregation = Aggregation(
                        column: column, inputType: inputType, function: function, window: window,
                        expression: expression)
                    features.append(
                        Feature(
                            featureName, function.resultType(input: inputType), description: description,
                            aggregation: aggregation))
                    reader.fieldLocations[id, default: [:]]["aggregation:" + featureName] = reader.location(where_)
                    if let expressionAt {
                        reader.fieldLocations[id, default: [:]]["expression:" + featureName] = expressionAt
                    }
                }
            }
        }
    }

    static let serviceFields = [
        "name", "features", "full_feature_names", "join_key_map", "description", "owner", "tags",
    ]

    func featureService(_ node: Node) -> (FeatureService, [SourceLocation])? {
        guard let pairs = reader.mapping(node, "a feature service") else { return nil }
        let name = objectName(pairs, node, .featureService)
        if let name { reader.recordFields(ObjectID(.featureService, name), pairs) }
        let what = "feature service '\(name ?? "?")'"
        reader.checkKeys(pairs, in: node, allowed: DefinitionParser.serviceFields, required: ["features"], what: what)
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        var references: [FeatureReference] = []
        var locations: [SourceLocation] = []
        if let list = value("features") {
            if case .sequence(let items) = list {
                for item in items {
                    if let reference = featureReference(item, what: what) {
                        references.append(reference)
                        locations.append(reader.location(item))
                    } else {
                    }
                }
                if items.isEmpty { reader.error(list, "\(what) lists no features") }
            } else {
                reader.error(
                    list, "the features of \(what) must be a list",
                    hint: "write '- view:feature' or '- view' (all its features), one per line")
            }
        }
        let full = value("full_feature_names").flatMap { reader.bool($0, "'full_feature_names' of \(what)") } ?? false
        let keyMap = value("join_key_map").flatMap { reader.stringMap($0, "the join_key_map of \(what)") } ?? [:]
        let (description, owner, tags) = common(pairs, what: what)
        guard let name else { return nil }
        return (
            FeatureService(
                name: name, features: references, fullFeatureNames: full, joinKeyMap: keyMap,
                description: description, owner: owner, tags: tags), locations
        )
    }

    /// `view:feature`, `view` (every feature), or `{view: v, features: [a, b]}`.
    private func featureReference(_ node: Node, what: String) -> FeatureReference? {
        if case .mapping = node {
            guard let pairs = reader.mapping(node, "a feature reference in \(what)") else { return nil }
            reader.checkKeys(
                pairs, in: node, allowed: ["view", "features"], required: ["view"],
                what: "a feature reference in \(what)")
            guard let viewNode = pairs.first(where: { $0.key == "view" })?.value,
                let view = reader.string(viewNode, "the view of a feature reference")
            else { return nil }
            let features = pairs.first(where: { $0.key == "features" }).flatMap {
                reader.stringList($0.value, "the features of a reference to '\(view)'")
            }?.map(\.0)
            return FeatureReference(view: view, features: features)
        }
        guard let text = reader.string(node, "a feature reference in \(what)") else { return nil }
        guard let reference = FeatureReference(parsing: text) else {
            reader.error(
                node, "'\(text)' is not a feature reference", hint: "write 'view:feature', 'view:[a, b]' or 'view'")
            return nil
        }
        return reference
    }
}
