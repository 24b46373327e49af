import Foundation
import TesseraCore
import Yams

/// Reads `tessera.yaml`: the project, its stores (each option kept with its place, so the
/// backend that validates it can point at it) and the feature server's settings.
struct ConfigParser {
    let reader: YAMLReader
    /// The repository's folder, for files the config names (an API-key file).
    let root: String

    static let fields = [
        "project", "description", "registry", "online_store", "offline_store", "feature_server", "definitions",
    ]
    static let serverFields = [
        "max_body_size", "max_entity_rows", "max_features", "max_push_future", "registry_check_interval",
        "read_threads", "write_threads", "auth",
    ]

    func parse(_ root: Node) -> ProjectConfig? {
        guard let pairs = reader.mapping(root, "tessera.yaml") else { return nil }
        reader.checkKeys(pairs, in: root, allowed: ConfigParser.fields, required: ["project"], what: "tessera.yaml")
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        guard let projectNode = value("project"), let project = reader.name(projectNode, "the project name") else {
            return nil
        }
        var config = ProjectConfig(project: project)
        if let node = value("description") { config.description = reader.string(node, "the description") ?? "" }
        if let node = value("registry"), let store = store(node, "registry", defaultType: "sqlite") {
            config.registry = store
        }
        if let node = value("online_store"), let store = store(node, "online_store", defaultType: "sqlite") {
            config.onlineStore = store
        }
        if let node = value("offline_store"), let store = store(node, "offline_store", defaultType: "native") {
            config.offlineStore = store
        }
        if let node = value("feature_server") { config.featureServer = featureServer(node) }
        if let node = value("definitions") {
            config.definitionGlobs = reader.stringList(node, "definitions")?.map(\.0)
        }
        return config
    }

    /// A store: a bare path (`registry: state/registry.db`) or a mapping with a type and options.
    private func store(_ node: Node, _ what: String, defaultType: String) -> StoreConfig? {
        if case .scalar(let scalar) = node {
            var store = StoreConfig(type: defaultType, options: ["path": .scalar(scalar.string)])
            store.location = reader.location(node)
            store.optionLocations["path"] = reader.location(node)
            store.valueLocations["path"] = reader.location(node)
            return store
        }
        guard let pairs = reader.mapping(node, what) else { return nil }
        var store = StoreConfig(type: defaultType)
        store.location = reader.location(node)
        for pair in pairs {
            if pair.key == "type" {
                store.type = reader.string(pair.value, "the type of \(what)") ?? defaultType
                store.typeLocation = reader.location(pair.value)
                continue
            }
            store.optionLocations[pair.key] = reader.location(pair.keyNode)
            store.valueLocations[pair.key] = reader.location(pair.value)
            switch pair.value {
            case .scalar(let scalar):
                store.options[pair.key] = .scalar(scalar.string)
            case .sequence:
                if let items = reader.stringList(pair.value, "'\(pair.key)' of \(what)") {
                    store.options[pair.key] = .list(items.map(\.0))
                }
            case .mapping:
                if let map = reader.stringMap(pair.value, "'\(pair.key)' of \(what)") {
                    store.options[pair.key] = .map(map)
                }
            default:
                reader.error(pair.value, "'\(pair.key)' of \(what) must be a value, a list or a mapping")
            }
        }
        return store
    }

    private func featureServer(_ node: Node) -> FeatureServerConfig {
        var config = FeatureServerConfig()
        guard let pairs = reader.mapping(node, "feature_server") else { return config }
        reader.checkKeys(pairs, in: node, allowed: ConfigParser.serverFields, required: [], what: "feature_server")
        for pair in pairs {
            let what = "feature_server.\(pair.key)"
            switch pair.key {
            case "max_body_size":
                guard let text = reader.string(pair.value, what) else { continue }
                guard let bytes = ByteSize.parse(text), bytes > 0 else {
                    reader.error(
                        pair.value, "\(what) '\(text)' is not a size", hint: "write e.g. 10MB, 512KB or 1048576")
                    continue
                }
                config.maxBodyBytes = bytes
            case "max_entity_rows", "max_features", "read_threads", "write_threads":
                guard let text = reader.string(pair.value, what) else { continue }
                guard let number = Int(text), number >= 1, pair.key.hasPrefix("max") || number <= 256 else {
                    reader.error(
                        pair.value,
                        "\(what) '\(text)' is not \(pair.key.hasPrefix("max") ? "a positive integer" : "an integer from 1 to 256")"
                    )
                    continue
                }
                switch pair.key {
                case "max_entity_rows": config.maxEntityRows = number
                case "max_features": config.maxFeatures = number
                case "read_threads": config.readThreads = number
                default: config.writeThreads = number
                }
            case "max_push_future", "registry_check_interval":
                guard let span = reader.duration(pair.value, what) else { continue }
                if pair.key == "max_push_future" {
                    config.maxPushFuture = span
                } else {
                    config.registryCheckInterval = span
                }
            case "auth":
                config.authEnabled = true
                config.apiKeys = auth(pair.value)
            default:
                continue
            }
        }
        return config
    }

    /// `auth: {api_keys: [...]}` or `auth: {api_keys_file: path}` (or both).
    private func auth(_ node: Node) -> [APIKey] {
        guard let pairs = reader.mapping(node, "feature_server.auth") else { return [] }
        reader.checkKeys(
            pairs, in: node, allowed: ["api_keys", "api_keys_file"], required: [], what: "feature_server.auth")
        var keys: [APIKey] = []
        for pair in pairs {
            switch pair.key {
            case "api_keys":
                keys += ConfigParser.apiKeys(pair.value, reader: reader)
            case "api_keys_file":
                guard let path = reader.string(pair.value, "feature_server.auth.api_keys_file") else { continue }
                let full = path.hasPrefix("/") ? path : root + "/" + path
                guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
                    reader.error(
                        pair.value, "cannot read the API-key file \(path)",
                        hint: "create it with `tessera api-key create`, or fix the path (relative to the repository)")
                    continue
                }
                let fileReader = YAMLReader(file: path)
                do {
                    if let fileRoot = try Yams.compose(yaml: text) {
                        if let filePairs = fileReader.mapping(fileRoot, path) {
                            fileReader.checkKeys(
                                filePairs, in: fileRoot, allowed: ["api_keys"], required: ["api_keys"], what: path)
                            if let list = filePairs.first(where: { $0.key == "api_keys" })?.value {
                                keys += ConfigParser.apiKeys(list, reader: fileReader)
                            }
                        }
                    }
                } catch {
                    fileReader.syntaxError(error)
                }
                reader.absorb(fileReader.diagnostics)
            default:
                continue
            }
        }
        var seen: [String: Int] = [:]
        for (index, key) in keys.enumerated() {
            if seen[key.sha256] != nil {
                reader.error(node, "API key '\(key.name)' has the same hash as '\(keys[seen[key.sha256] ?? 0].name)'")
            }
            seen[key.sha256] = index
        }
        return keys
    }

    /// A list of `{name, role, sha256}` entries.
    static func apiKeys(_ node: Node, reader: YAMLReader) -> [APIKey] {
        guard case .sequence(let items) = node else {
            reader.error(
                node, "api_keys must be a list of {name, role, sha256}", hint: "found \(reader.describe(node))")
            return []
        }
        var keys: [APIKey] = []
        for item in items {
            guard let pairs = reader.mapping(item, "an API key") else { continue }
            reader.checkKeys(
                pairs, in: item, allowed: ["name", "role", "sha256"], required: ["name", "role", "sha256"],
                what: "an API key")
            func text(_ key: String) -> (String, Node)? {
                guard let pair = pairs.first(where: { $0.key == key }),
                    let value = reader.string(pair.value, "the \(key) of an API key")
                else { return nil }
                return (value, pair.value)
            }
            guard let (name, _) = text("name"), let (roleText, roleNode) = text("role"),
                let (hash, hashNode) = text("sha256")
            else { continue }
            guard let role = AccessRole(rawValue: roleText) else {
                reader.error(
                    roleNode, "'\(roleText.prefix(40))' is not a role of API key '\(name)'",
                    hint: (Suggestions.hint(for: roleText, in: AccessRole.allCases.map(\.rawValue)).map { $0 + " " }
                        ?? "") + "(reader, writer or admin)")
                continue
            }
            let lower = hash.lowercased()
            guard lower.utf8.count == 64, lower.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else {
                reader.error(
                    hashNode, "the sha256 of API key '\(name)' is not 64 hexadecimal digits",
                    hint: "store the key's SHA-256, never the key: `tessera api-key create` prints both")
                continue
            }
            keys.append(APIKey(name: name, role: role, sha256: lower))
        }
        return keys
    }
}
