import TesseraCore
import Yams

/// Reads `tessera.yaml`.
struct ConfigParser {
    let reader: YAMLReader

    static let fields = ["project", "description", "registry", "online_store", "offline_store", "definitions"]
    static let storeFields = [
        "type", "path", "dsn", "url", "host", "port", "database", "user", "password", "key_prefix",
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
        if let node = value("definitions") {
            config.definitionGlobs = reader.stringList(node, "definitions")?.map(\.0)
        }
        return config
    }

    /// A store: a bare path (`registry: state/registry.db`) or a mapping with a type.
    private func store(_ node: Node, _ what: String, defaultType: String) -> StoreConfig? {
        if case .scalar(let scalar) = node {
            return StoreConfig(type: defaultType, path: scalar.string)
        }
        guard let pairs = reader.mapping(node, what) else { return nil }
        reader.checkKeys(pairs, in: node, allowed: ConfigParser.storeFields, required: [], what: what)
        var store = StoreConfig(type: defaultType)
        for pair in pairs {
            guard let text = reader.string(pair.value, "'\(pair.key)' of \(what)") else { continue }
            switch pair.key {
            case "type": store.type = text
            case "path": store.path = text
            default: store.options[pair.key] = text
            }
        }
        if store.type == "sqlite", store.path == nil {
            store.path = what == "registry" ? ".tessera/registry.db" : ".tessera/online.db"
        }
        return store
    }
}
