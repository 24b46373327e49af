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
        .library(name: "TesseraRegistry", targets: ["TesseraRegistry"]),
        .library(name: "TesseraOnline", targets: ["TesseraOnline"]),
        .library(name: "TesseraServer", targets: ["TesseraServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
        // Benchmarks against the peers (pyarrow, DuckDB, Feast), run by `tessera bench`.
        .target(
            name: "TesseraBench",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraWorkload", "TesseraDefinitions",
                "TesseraRegistry", "TesseraEngine", "TesseraOnline", "TesseraServer",
            ],
            swiftSettings: swiftSettings),
        // The engine: point-in-time joins and materialization plans over columnar batches.
        .target(
            name: "TesseraEngine",
            dependencies: ["TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraDefinitions"],
            swiftSettings: swiftSettings),
        // Definitions: the feature repository (YAML), validation and diffs.
        .target(
            name: "TesseraDefinitions",
            dependencies: ["TesseraCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        // A small, fast wrapper over SQLite's C API shared by the registry and the online store.
        .target(name: "TesseraSQLite", dependencies: ["CSQLite"], swiftSettings: swiftSettings),
        // The registry: applied definitions and their history, behind a protocol.
        .target(
            name: "TesseraRegistry",
            dependencies: ["TesseraCore", "TesseraDefinitions", "TesseraSQLite"],
            swiftSettings: swiftSettings),
        // The online store: the OnlineStore seam, its embedded SQLite implementation, the
        // conformance suite any backend runs, and the in-process feature lookup.
        .target(
            name: "TesseraOnline",
            dependencies: ["TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraRegistry", "TesseraSQLite"],
            swiftSettings: swiftSettings),
        // The HTTP feature server (Feast-compatible JSON) on Hummingbird, with Prometheus metrics.
        .target(
            name: "TesseraServer",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraDefinitions", "TesseraRegistry", "TesseraOnline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
        // The command line, kept apart from the thin executable so tests can drive it.
        .target(
            name: "TesseraCLI",
            dependencies: [
                "TesseraCore", "TesseraColumnar", "TesseraFormats", "TesseraDefinitions",
                "TesseraRegistry", "TesseraWorkload", "TesseraBench", "TesseraEngine", "TesseraOnline", "TesseraServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(name: "tessera", dependencies: ["TesseraCLI"], swiftSettings: swiftSettings),

        // Shared test support: temporary folders, fixtures, running the built binary.
        .target(
            name: "TesseraTesting", dependencies: ["TesseraCore", "TesseraDefinitions", "TesseraRegistry"],
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
            name: "TesseraFormatsTests",
            dependencies: ["TesseraFormats", "TesseraColumnar", "TesseraWorkload", "TesseraTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraEngineTests",
            dependencies: [
                "TesseraEngine", "TesseraColumnar", "TesseraTesting",
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
            name: "TesseraOnlineTests",
            dependencies: [
                "TesseraOnline", "TesseraColumnar", "TesseraDefinitions", "TesseraRegistry", "TesseraTesting",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraServerTests",
            dependencies: [
                "TesseraServer", "TesseraOnline", "TesseraColumnar", "TesseraDefinitions", "TesseraRegistry",
                "TesseraTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            exclude: ["Golden"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TesseraCLITests",
            dependencies: [
                "TesseraCLI", "TesseraRegistry", "TesseraTesting", "TesseraOnline", "TesseraEngine", "TesseraFormats",
                "TesseraDefinitions", "TesseraColumnar",
            ],
            swiftSettings: swiftSettings),
    ]
)
