import Foundation
import TesseraDefinitions
import TesseraRegistry

/// `registry: {type: postgres, url: postgresql://tessera@host:5432/features}`.
public struct PostgresRegistryFactory: RegistryStoreFactory {
    public init() {}

    public var type: String { "postgres" }
    public var summary: String {
        "a PostgreSQL database shared by every machine (concurrent applies: one wins, the other changes nothing)"
    }
    public var options: [BackendOption] {
        [
            BackendOption(
                "url", .string, required: true,
                help:
                    "postgresql://user[:password]@host[:port]/database; without a password in the URL, TESSERA_PG_PASSWORD or password_file is used"
            ),
            BackendOption(
                "password_file", .path,
                help: "a file holding the password (its first line), relative to the repository"),
            BackendOption(
                "schema", .string, default: "tessera",
                help: "the schema of the registry's tables (created on first use): one per project"),
        ]
    }

    public func makeRegistry(_ settings: BackendSettings) throws(RegistryError) -> any RegistryStore {
        let url = settings.string("url") ?? ""
        var endpoint: PostgresEndpoint
        do {
            endpoint = try PostgresEndpoint(url: url)
        } catch {
            throw RegistryError(.unreadable, path: "tessera.yaml", "registry.url: \(error.description)")
        }
        if endpoint.password == nil {
            if let file = settings.path("password_file") {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw RegistryError(.unreadable, path: file, "registry.password_file cannot be read")
                }
                endpoint.password = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            } else if let password = ProcessInfo.processInfo.environment["TESSERA_PG_PASSWORD"], !password.isEmpty {
                endpoint.password = password
            }
        }
        let schema = settings.string("schema") ?? "tessera"
        guard let first = schema.unicodeScalars.first, first == "_" || CharacterSet.lowercaseLetters.contains(first),
            schema.unicodeScalars.allSatisfy({
                $0 == "_" || CharacterSet.lowercaseLetters.contains($0) || CharacterSet.decimalDigits.contains($0)
            })
        else {
            throw RegistryError(
                .unreadable, path: "tessera.yaml",
                "registry.schema '\(schema)' must be lowercase letters, digits and '_', starting with a letter or '_'")
        }
        return PostgresRegistry(endpoint: endpoint, schema: schema)
    }
}
