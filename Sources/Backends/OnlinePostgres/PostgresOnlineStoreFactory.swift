import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraPostgres

/// `online_store: {type: postgres, url: postgresql://tessera@host:5432/features, …}`.
public struct PostgresOnlineStoreFactory: OnlineStoreFactory {
    public init() {}

    public var type: String { "postgres" }
    public var summary: String {
        "a PostgreSQL database (11 or later) shared by every replica: one row per entity and view, newest-wins upserts"
    }
    public var options: [BackendOption] {
        let defaults = PostgresOnlineStore.Configuration()
        return PostgresEndpoint.options + [
            BackendOption(
                "schema", .string, default: defaults.schema,
                help:
                    "the schema of the store's tables (online_views, online_rows, online_states, online_layouts), created on first use"
            ),
            BackendOption(
                "connections", .integer(1...256), default: String(defaults.connections),
                help: "connections per process: how many reads and writes run at once"),
            BackendOption(
                "timeout", .duration, default: "5s", help: "how long a connect may take before the call fails"),
            BackendOption(
                "statement_timeout", .duration, default: "60s",
                help: "how long one statement may run before PostgreSQL cancels it (and the call fails)"),
        ]
    }

    public func makeStore(_ settings: BackendSettings) throws(OnlineStoreError) -> any OnlineStore {
        var configuration = PostgresOnlineStore.Configuration()
        let endpoint: PostgresEndpoint
        do {
            endpoint = try PostgresEndpoint(settings: settings, section: "online_store")
            configuration.schema = try PostgresEndpoint.schema(
                settings, section: "online_store", fallback: configuration.schema)
        } catch {
            throw OnlineStoreError(.unsupported, error.description)
        }
        if let connections = settings.integer("connections") { configuration.connections = connections }
        if let timeout = settings.duration("timeout"), timeout > .zero {
            configuration.timeout = .microseconds(timeout.microseconds)
        }
        if let timeout = settings.duration("statement_timeout"), timeout > .zero {
            configuration.statementTimeout = .microseconds(timeout.microseconds)
        }
        return PostgresOnlineStore(endpoint: endpoint, configuration: configuration)
    }
}
