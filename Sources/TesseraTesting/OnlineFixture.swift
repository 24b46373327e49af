import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraRegistry
import TesseraRegistrySQLite

/// A small applied repository for online-store, lookup and server tests: drivers (int64
/// keys, a push source, ttl 2 days), customers (string keys) and a view on both.
public enum OnlineFixture {
    /// The definitions `repository(in:)` applies.
    public static let definitions = Definitions(
        entities: [
            Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)]),
            Entity(name: "customer", joinKeys: [JoinKey("customer_id", .string)]),
        ],
        sources: [
            DataSource(
                name: "driver_stats", kind: .file(path: "data/driver_stats.parquet", format: .parquet),
                timestampField: "event_timestamp", createdTimestampField: "created"),
            DataSource(
                name: "driver_push", kind: .push(batchSource: "driver_stats"), timestampField: "event_timestamp",
                createdTimestampField: "created"),
            DataSource(
                name: "customer_file", kind: .file(path: "data/customers.parquet", format: .parquet),
                timestampField: "event_timestamp"),
        ],
        featureViews: [
            FeatureView(
                name: "driver_hourly_stats", entities: ["driver"], source: "driver_push",
                features: [
                    Feature("conv_rate", .float32), Feature("acc_rate", .float32), Feature("avg_daily_trips", .int32),
                ],
                ttl: .days(2)),
            FeatureView(
                name: "customer_profile", entities: ["customer"], source: "customer_file",
                features: [
                    Feature("current_balance", .float64), Feature("name", .string), Feature("tags", .list(.string)),
                    Feature("avg_daily_trips", .int64),
                ]),
            FeatureView(
                name: "driver_customer", entities: ["driver", "customer"], source: "customer_file",
                features: [Feature("trips_together", .int64)], ttl: .days(30)),
        ],
        featureServices: [
            FeatureService(
                name: "driver_quality",
                features: [FeatureReference(view: "driver_hourly_stats", features: ["conv_rate", "acc_rate"])]),
            FeatureService(
                name: "everything",
                features: [FeatureReference(view: "driver_hourly_stats"), FeatureReference(view: "customer_profile")],
                fullFeatureNames: true),
        ])

    /// Writes `tessera.yaml` (`config`) into `directory` and applies `definitions` to its registry.
    ///
    /// - Returns: the repository's root folder.
    @discardableResult
    public static func repository(
        in directory: TemporaryDirectory, definitions: Definitions = OnlineFixture.definitions,
        config: String = "project: fixture\n"
    )
        throws -> String
    {
        try directory.write("tessera.yaml", config)
        try apply(definitions, root: directory.path)
        return directory.path
    }

    /// Applies `definitions` as the next registry version of the repository at `root`.
    public static func apply(_ definitions: Definitions, root: String) throws {
        let registry = SQLiteRegistry(path: root + "/.tessera/registry.db")
        let current = try registry.current()
        let plan = Plan(from: current?.definitions ?? Definitions(), to: definitions)
        _ = try registry.apply(
            definitions, plan: plan, project: "fixture", user: "test", expectedVersion: current?.version.version,
            at: Timestamp(seconds: 1_767_225_600))
    }
}
