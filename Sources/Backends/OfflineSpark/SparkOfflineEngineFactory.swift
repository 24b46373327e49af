import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraSourcePostgres

/// `offline_store: {type: spark, master: …}`.
public struct SparkOfflineEngineFactory: OfflineEngineFactory {
    public init() {}

    public var type: String { "spark" }
    public var summary: String {
        "Spark computes training sets and materializations over the repository's Parquet sources (pyspark, or a Spark Connect server)"
    }
    public var options: [BackendOption] {
        [
            BackendOption(
                "master", .string, default: "local[2]",
                help: "the Spark master: local[N], spark://host:7077, yarn, k8s://…"),
            BackendOption(
                "connect", .string, help: "a Spark Connect server (sc://host:15002) to run the jobs instead of master"),
            BackendOption(
                "spark_home", .path, help: "a Spark installation to use (default: the one pyspark ships)"),
            BackendOption(
                "python", .string,
                help: "the Python with pyspark installed (default: $TESSERA_PYTHON, else python3 on the PATH)"),
            BackendOption("conf", .stringMap, help: "Spark settings, such as spark.sql.shuffle.partitions: \"8\""),
            BackendOption(
                "work_dir", .path, default: ".tessera/spark",
                help: "where jobs' inputs and results are written: a folder Spark's executors can read and write"),
            BackendOption(
                "aggregations", .choice(["sql", "native"]), default: "sql",
                help:
                    "where count, sum, mean, min, max, var and stddev windows are computed: in SQL (exact partial states, merged by Tessera) or by the native engine reading the rows"
            ),
            BackendOption(
                "threads", .integer(1...1024),
                help:
                    "cores for the parts the native engine runs (CSV sources, the aggregate functions the SQL does not express; default: every core)"
            ),
        ]
    }

    public func makeEngine(_ settings: BackendSettings) throws -> any OfflineEngine {
        let environment = ProcessInfo.processInfo.environment
        let work = settings.path("work_dir") ?? settings.root + "/.tessera/spark"
        let session = SparkSession.shared(
            SparkSession.Settings(
                python: settings.string("python") ?? environment["TESSERA_PYTHON"] ?? "python3",
                master: settings.string("master") ?? "local[2]", connect: settings.string("connect"),
                sparkHome: settings.path("spark_home"), conf: settings.map("conf") ?? [:],
                log: work + "/driver.log"))
        let native = NativeEngine(
            root: settings.root, threads: settings.integer("threads") ?? ProcessInfo.processInfo.activeProcessorCount,
            connectors: [PostgresSourceConnector()])
        var engine = SparkOfflineEngine(native: native, session: session, workFolder: work)
        engine.aggregationsInSQL = settings.string("aggregations") != "native"
        return engine
    }
}
