import TesseraDefinitions
import TesseraRegistry

/// `registry: {type: sqlite, path: .tessera/registry.db}`, the default.
public struct SQLiteRegistryFactory: RegistryStoreFactory {
    public init() {}

    public var type: String { "sqlite" }
    public var summary: String { "one SQLite file in the repository (embedded, nothing to install)" }
    public var options: [BackendOption] {
        [
            BackendOption(
                "path", .path, default: ".tessera/registry.db", help: "the registry file, relative to the repository")
        ]
    }

    public func makeRegistry(_ settings: BackendSettings) throws(RegistryError) -> any RegistryStore {
        SQLiteRegistry(path: settings.path("path") ?? settings.root + "/.tessera/registry.db")
    }
}
