import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraPostgres
import TesseraSourcePostgres

/// `offline_store: {type: postgres, url: …}`.
public struct PostgresOfflineEngineFactory: OfflineEngineFactory {
    public init() {}

    public var type: String { "postgres" }
    public var summary: String {
        "PostgreSQL computes training sets and materializations over the `type: postgres` sources in its database"
    }
    public var options: [BackendOption] {
        PostgresEndpoint.options + [
            BackendOption(
                "aggregations", .choice(["sql", "native"]), default: "sql",
                help:
                    "where count, sum, mean, min, max, var and stddev windows are computed: in SQL (exact partial states, merged by Tessera) or by the native engine reading the rows"
            ),
            BackendOption(
                "threads", .integer(1...1024),
                help:
                    "cores for the parts the native engine runs (file sources, the aggregate functions the SQL does not express; default: every core)"
            ),
        ]
    }

    public func makeEngine(_ settings: BackendSettings) throws -> any OfflineEngine {
        let endpoint = try PostgresEndpoint(settings: settings, section: "offline_store")
        let native = NativeEngine(
            root: settings.root, threads: settings.integer("threads") ?? ProcessInfo.processInfo.activeProcessorCount,
            connectors: [PostgresSourceConnector()])
        var engine = PostgresOfflineEngine(endpoint: endpoint, native: native)
        engine.aggregationsInSQL = settings.string("aggregations") != "native"
        return engine
    }
}
