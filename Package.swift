// swift-tools-version: 6.1
import PackageDescription

// Every target gets the same upcoming-feature flags (Hummingbird's habit).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .library(name: "TesseraCore", targets: ["TesseraCore"]),
        .library(name: "TesseraColumnar", targets: ["TesseraColumnar"]),
        .library(name: "TesseraFormats", targets: ["TesseraFormats"]),
        .library(name: "TesseraDefinitions", targets: ["TesseraDefinitions"]),
        .library(name: "TesseraExpressions", targets: ["TesseraExpressions"]),
        .library(name: "TesseraRegistry", targets: ["TesseraRegistry"]),
        .library(name: "TesseraOnline", targets: ["TesseraOnline"]),
        .library(name: "TesseraOffline", targets: ["TesseraOffline"]),
        .library(name: "TesseraEngine", targets: ["TesseraEngine"]),
        .library(name: "TesseraApp", targets: ["TesseraApp"]),
        .library(name: "TesseraServer", targets: ["TesseraServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSystem/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CSystem/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CSnappy", path: "Sources/CSystem/CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(
            name: "CLZ4", path: "Sources/CSystem/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CSystem/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // Layer 1: value types shared by every layer (types, durations, time, digests, diagnostics).
        .target(name: "TesseraCore", swiftSettings: swiftSettings),
        // Layer 2: columnar batches and kernels.
        .target(name: "TesseraColumnar", dependencies: ["TesseraCore"], swiftSettings: swiftSettings),
        // Layer 3: file formats (Parquet, CSV) and compression codecs.
        .target(
            name: "TesseraFormats",
            dependencies: ["TesseraCore", "TesseraColumnar", "CZstd", "CSnappy", "CLZ4", "CZlib"],
            swiftSettings: swiftSettings),
        // The reference workload's deterministic generator (init, benchmarks, tests).
        .target(
            name: "TesseraWorkload", dependencies: ["TesseraCore", "TesseraColumnar"], swiftSettings: swiftSettings),
        // Terminal output shared by the CLI and the benchmark commands: results, progress, errors.
        .target(
            name: "TesseraConsole",
            dependencies: ["TesseraCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        // Benchmarks against the peers (pyarrow, DuckDB, Feast) and their `tessera bench` commands.
        .target(
            name: "TesseraBench",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraWorkload", "TesseraDefinitions",
                "TesseraExpressions", "TesseraRegistry", "TesseraOffline", "TesseraEngine", "TesseraOnline", "TesseraApp", "TesseraServer",
                "TesseraConsole", "TesseraLocalServers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),
        // The offline seam: the OfflineEngine protocol (training sets and latest rows for an
        // interval, as batches), its requests and results, and feature resolution shared by engines.
        .target(
            name: "TesseraOffline",
            dependencies: ["TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraExpressions"],
            swiftSettings: swiftSettings),
        // The native engine: operators (latest value, …), training-set and materialization plans over
        // columnar batches read from Parquet and CSV; the embedded OfflineEngine.
        .target(
            name: "TesseraEngine",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraDefinitions", "TesseraOffline",
                "TesseraExpressions",
            ],
            swiftSettings: swiftSettings),
        // Expressions: the SQL expression language (parser, type checker, vectorized evaluator)
        // of derived features, filters, aggregation inputs and on-demand features.
        .target(
            name: "TesseraExpressions", dependencies: ["TesseraCore", "TesseraColumnar"],
            swiftSettings: swiftSettings),
        // Definitions: the feature repository (YAML), validation, diffs and backend settings.
        .target(
            name: "TesseraDefinitions",
            dependencies: ["TesseraCore", "TesseraExpressions", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        // A small, fast wrapper over SQLite's C API shared by the embedded registry and online store.
        .target(name: "TesseraSQLite", dependencies: ["CSQLite"], swiftSettings: swiftSettings),
        // The registry seam: RegistryStore, its in-memory implementation, plan/apply (RegistryService).
        .target(
            name: "TesseraRegistry", dependencies: ["TesseraCore", "TesseraDefinitions"],
            swiftSettings: swiftSettings),
        // The online seam: OnlineStore, write batches, entity keys, statuses and ttl rules, the
        // value encoding stores share, and the in-memory implementation.
        .target(
            name: "TesseraOnline", dependencies: ["TesseraCore", "TesseraColumnar", "TesseraDefinitions"],
            swiftSettings: swiftSettings),
        // Backends, one folder each, registered by type in TesseraApp/Backends.swift.
        // The embedded registry: one SQLite file.
        .target(
            name: "TesseraRegistrySQLite", dependencies: ["TesseraCore", "TesseraDefinitions", "TesseraRegistry", "TesseraSQLite"],
            path: "Sources/Backends/RegistrySQLite", swiftSettings: swiftSettings),
        // The embedded online store: one SQLite file in WAL mode.
        .target(
            name: "TesseraOnlineSQLite",
            dependencies: ["TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraOnline", "TesseraSQLite"],
            path: "Sources/Backends/OnlineSQLite", swiftSettings: swiftSettings),
        // PostgreSQL endpoints (URL, password sources) and a few blocking connections on
        // postgres-nio, shared by the PostgreSQL backends.
        .target(
            name: "TesseraPostgres",
            dependencies: [
                "TesseraCore", "TesseraDefinitions",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        // The registry in PostgreSQL, shared by every machine of a deployment.
        .target(
            name: "TesseraRegistryPostgres",
            dependencies: [
                "TesseraCore", "TesseraDefinitions", "TesseraRegistry", "TesseraPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/Backends/RegistryPostgres", swiftSettings: swiftSettings),
        // The online store in PostgreSQL, shared by every replica.
        .target(
            name: "TesseraOnlinePostgres",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraOnline", "TesseraPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Backends/OnlinePostgres", swiftSettings: swiftSettings),
        // PostgreSQL tables and queries as batch sources of the native engine (`type: postgres`).
        .target(
            name: "TesseraSourcePostgres",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraEngine", "TesseraPostgres", "TesseraSQL",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Backends/SourcePostgres", swiftSettings: swiftSettings),
        // SQL generation for the SQL offline engines (PostgreSQL, Spark): the point-in-time join,
        // window aggregation and latest-row queries in each dialect, no I/O.
        .target(
            name: "TesseraSQL",
            dependencies: ["TesseraCore", "TesseraDefinitions", "TesseraEngine", "TesseraExpressions"],
            swiftSettings: swiftSettings),
        // PostgreSQL as the offline engine (`offline_store: {type: postgres}`): the generated SQL
        // run where the sources' tables are.
        .target(
            name: "TesseraOfflinePostgres",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraOffline", "TesseraEngine", "TesseraSQL",
                "TesseraPostgres", "TesseraSourcePostgres", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Backends/OfflinePostgres", swiftSettings: swiftSettings),
        // Spark as the offline engine (`offline_store: {type: spark}`): the generated Spark SQL run
        // by a long-lived pyspark driver (or a Spark Connect server) over the Parquet sources.
        .target(
            name: "TesseraOfflineSpark",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraDefinitions", "TesseraOffline",
                "TesseraEngine", "TesseraSQL", "TesseraSourcePostgres",
            ],
            path: "Sources/Backends/OfflineSpark", swiftSettings: swiftSettings),
        // A focused Redis client (RESP on SwiftNIO): pipelining, timeouts, AUTH/ACL, pooling
        // with reconnects (issue: scale-out stores).
        .target(
            name: "TesseraRedis",
            dependencies: [
                "TesseraCore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        // The online store in Redis, on the client above.
        .target(
            name: "TesseraOnlineRedis",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraOnline", "TesseraRedis",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/Backends/OnlineRedis", swiftSettings: swiftSettings),
        // The application layer: FeatureStore (a repository opened from tessera.yaml, with its
        // backends), the one API the CLI, the server, the benchmarks and tests call.
        .target(
            name: "TesseraApp",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraDefinitions", "TesseraExpressions",
                "TesseraRegistry",
                "TesseraOnline", "TesseraOffline", "TesseraEngine", "TesseraRegistrySQLite", "TesseraOnlineSQLite",
                "TesseraOnlineRedis", "TesseraRegistryPostgres", "TesseraOnlinePostgres", "TesseraSourcePostgres",
                "TesseraOfflinePostgres", "TesseraOfflineSpark",
            ],
            swiftSettings: swiftSettings),
        // The HTTP feature server (Feast-compatible JSON) on Hummingbird, with Prometheus metrics.
        .target(
            name: "TesseraServer",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraOnline", "TesseraApp", "TesseraFormats",
                "TesseraOffline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
        // The command line, kept apart from the thin executable so tests can drive it.
        .target(
            name: "TesseraCLI",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraDefinitions", "TesseraRegistry",
                "TesseraWorkload", "TesseraOffline", "TesseraOnline", "TesseraApp", "TesseraServer", "TesseraConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),
        // The executable: the CLI's commands plus `tessera bench`.
        .executableTarget(
            name: "tessera",
            dependencies: ["TesseraCLI", "TesseraBench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),

        // The application layer's runnable example (docs/application.md).
        .executableTarget(
            name: "feature-store-tour",
            dependencies: [
                "TesseraApp", "TesseraColumnar", "TesseraCore", "TesseraDefinitions", "TesseraOffline", "TesseraOnline",
                "TesseraRegistry",
            ],
            path: "Examples/FeatureStoreTour", swiftSettings: swiftSettings),

        // Throwaway servers on loopback ports (PostgreSQL clusters in temporary folders) and
        // temporary folders, for the tests and the benchmarks.
        .target(
            name: "TesseraLocalServers", dependencies: ["TesseraCore", "TesseraColumnar", "TesseraFormats"],
            swiftSettings: swiftSettings),
        // Shared test support: fixtures, running the built binary, and the conformance suites
        // every OnlineStore and RegistryStore implementation runs.
        .target(
            name: "TesseraTesting",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraRegistry", "TesseraOnline",
                "TesseraRegistrySQLite", "TesseraLocalServers", "TesseraFormats",
            ],
            swiftSettings: swiftSettings),

        .testTarget(
            name: "TesseraRedisTests", dependencies: ["TesseraRedis", "TesseraCore", "TesseraTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraOnlineRedisTests",
            dependencies: ["TesseraOnlineRedis", "TesseraOnline", "TesseraRedis", "TesseraColumnar", "TesseraCore", "TesseraDefinitions", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraCoreTests",
            dependencies: [
                "TesseraCore", "TesseraTesting", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraColumnarTests",
            dependencies: [
                "TesseraColumnar", "TesseraTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraExpressionsTests",
            dependencies: ["TesseraExpressions", "TesseraColumnar", "TesseraFormats", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraFormatsTests",
            dependencies: ["TesseraFormats", "TesseraColumnar", "TesseraWorkload", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraEngineTests",
            dependencies: [
                "TesseraEngine", "TesseraOffline", "TesseraColumnar", "TesseraTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraDefinitionsTests",
            dependencies: ["TesseraDefinitions", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraRegistryTests",
            dependencies: ["TesseraRegistry", "TesseraDefinitions", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraRegistryPostgresTests",
            dependencies: ["TesseraRegistryPostgres", "TesseraPostgres", "TesseraRegistry", "TesseraDefinitions", "TesseraCore", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraOnlinePostgresTests",
            dependencies: [
                "TesseraOnlinePostgres", "TesseraPostgres", "TesseraOnline", "TesseraColumnar", "TesseraCore",
                "TesseraDefinitions", "TesseraTesting",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraSourcePostgresTests",
            dependencies: [
                "TesseraSourcePostgres", "TesseraPostgres", "TesseraEngine", "TesseraColumnar", "TesseraCore",
                "TesseraDefinitions", "TesseraTesting", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraOfflinePostgresTests",
            dependencies: [
                "TesseraOfflinePostgres", "TesseraSourcePostgres", "TesseraSQL", "TesseraPostgres", "TesseraEngine",
                "TesseraOffline", "TesseraColumnar", "TesseraCore", "TesseraDefinitions", "TesseraTesting",
                "TesseraWorkload", .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraOfflineSparkTests",
            dependencies: [
                "TesseraOfflineSpark", "TesseraSQL", "TesseraEngine", "TesseraOffline", "TesseraFormats",
                "TesseraColumnar", "TesseraCore", "TesseraDefinitions", "TesseraTesting",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraRegistrySQLiteTests",
            dependencies: ["TesseraRegistrySQLite", "TesseraRegistry", "TesseraDefinitions", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraOnlineTests",
            dependencies: ["TesseraOnline", "TesseraColumnar", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraOnlineSQLiteTests",
            dependencies: ["TesseraOnlineSQLite", "TesseraOnline", "TesseraColumnar", "TesseraDefinitions", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraAppTests",
            dependencies: [
                "TesseraApp", "TesseraOnline", "TesseraOffline", "TesseraRegistry", "TesseraColumnar",
                "TesseraDefinitions", "TesseraFormats", "TesseraTesting",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraServerTests",
            dependencies: [
                "TesseraServer", "TesseraApp", "TesseraOnline", "TesseraColumnar", "TesseraDefinitions",
                "TesseraRegistry", "TesseraFormats", "TesseraOnlineSQLite", "TesseraSQLite", "TesseraTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            exclude: ["Golden"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraCLITests",
            dependencies: [
                "TesseraCLI", "TesseraApp", "TesseraRegistry", "TesseraTesting", "TesseraOnline", "TesseraEngine",
                "TesseraFormats", "TesseraDefinitions", "TesseraColumnar", "TesseraOffline", "TesseraRegistrySQLite",
                "TesseraOnlineSQLite", "TesseraOnlinePostgres", "TesseraPostgres",
            ],
            swiftSettings: swiftSettings),
    ]
)
