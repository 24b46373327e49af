import Foundation
import TesseraDefinitions
import TesseraPostgres
import TesseraRegistry

/// `registry: {type: postgres, url: postgresql://tessera@host:5432/features}`.
public struct PostgresRegistryFactory: RegistryStoreFactory {
    public init() {}

    public var type: String { "postgres" }
    public var summary: String {
        "a PostgreSQL database shared by every machine (concurrent applies: one wins, the other changes nothing)"
    }
    public var options: [BackendOption] {
        PostgresEndpoint.options + [
            BackendOption(
                "schema", .string, default: "tessera",
                help: "the schema of the registry's tables (created on first use): one per project")
        ]
    }

    public func makeRegistry(_ settings: BackendSettings) throws(RegistryError) -> any RegistryStore {
        do {
            return PostgresRegistry(
                endpoint: try PostgresEndpoint(settings: settings, section: "registry"),
                schema: try PostgresEndpoint.schema(settings, section: "registry", fallback: "tessera"))
        } catch {
            throw RegistryError(.unreadable, path: "tessera.yaml", error.description)
        }
    }
}
