import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOffline
import TesseraOnline
import TesseraRegistry
import TesseraTesting
import Testing

/// The application layer: a repository opened from tessera.yaml with the backends it names.
@Suite struct FeatureStoreTests {
    static let definitions = """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: stats
            path: data/stats.parquet
            timestamp_field: ts
          - name: stats_push
            type: push
            batch_source: stats
        feature_views:
          - name: rates
            entities: [driver]
            source: stats_push
            ttl: 2d
            schema: {rate: float64, trips: int64}

        """

    /// A repository with `config` and two drivers' rows in data/stats.parquet.
    static func repository(_ dir: TemporaryDirectory, config: String) throws {
        try dir.write("tessera.yaml", config)
        try dir.write("features/drivers.yaml", definitions)
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        let batch = try RecordBatch([
            "driver_id": .int64([1, 1, 2]), "ts": .timestamp([1_000_000, 5_000_000, 3_000_000]),
            "rate": .float64([0.1, 0.5, 0.3]), "trips": .int64([1, 5, 3]),
        ])
        let writer = try ParquetWriter(path: dir.file("data/stats.parquet"), schema: batch.schema)
        try writer.write(batch)
        try writer.close()
    }

    /// Every problem of tessera.yaml at once — its own fields and each store's type, options and
    /// values — each at its line and column, with the choices.
    @Test func configurationProblemsAreReportedTogetherWithTheirPlaces() throws {
        let dir = try TemporaryDirectory("store-config")
        defer { dir.remove() }
        try Self.repository(
            dir,
            config: """
                project: p
                registry:
                  type: sqlite
                  pth: state/registry.db
                online_store:
                  type: sqlite
                  durability: sometimes
                  readers: -1
                offline_store:
                  type: dask
                feature_server:
                  max_features: none

                """)
        #expect {
            try FeatureStore.open(dir.path)
        } throws: { error in
            guard let error = error as? DiagnosticsError else { return false }
            let lines = error.diagnostics.map(\.description)
            let expected = [
                "tessera.yaml:4:3: error: unknown option 'pth' for registry type 'sqlite'\n    did you mean 'path'? (it accepts: path)",
                "tessera.yaml:7:15: error: online_store.durability 'sometimes' is not accepted",
                "tessera.yaml:8:12: error: online_store.readers -1 is out of range",
                "tessera.yaml:10:9: error: offline_store type 'dask' is not available\n    this build has: 'native', 'postgres', 'spark'",
                "tessera.yaml:12:17: error: feature_server.max_features 'none' is not a positive integer",
            ]
            return lines.count == 5 && zip(lines, expected).allSatisfy { $0.hasPrefix($1) }
        }
    }

    /// Each backend's documented default is a value it accepts, and each option can be set.
    @Test func everyOptionOfEveryBackendIsSettable() throws {
        let dir = try TemporaryDirectory("store-options")
        defer { dir.remove() }
        let backends = Backends.standard
        let sections: [(String, [any BackendDescription])] = [
            ("registry", backends.registries), ("online_store", backends.onlineStores),
            ("offline_store", backends.offlineEngines),
        ]
        for (role, available) in sections {
            for backend in available {
                var options: [String: OptionValue] = [:]
                for option in backend.options {
                    switch option.kind {
                    case .integer(let range):
                        options[option.name] = .scalar(option.defaultValue ?? String(range.lowerBound))
                    case .choice(let words): options[option.name] = .scalar(option.defaultValue ?? words[0])
                    case .stringMap: options[option.name] = .map(["key": "value"])
                    case .stringList: options[option.name] = .list(["x"])
                    default: options[option.name] = .scalar(option.defaultValue ?? "x")
                    }
                }
                let store = StoreConfig(type: backend.type, options: options)
                let result = BackendSettings.validate(store, role: role, available: available, root: dir.path)
                if case .failure(let error) = result {
                    Issue.record("\(role) \(backend.type): \(error)")
                }
                #expect(!backend.summary.isEmpty)
                for option in backend.options { #expect(!option.help.isEmpty, "\(backend.type).\(option.name)") }
            }
        }
    }

    /// The whole workflow through the application layer on in-memory registry and online
    /// store: plan, apply, a training set, materialize, a lookup, a push read back.
    @Test func theWorkflowRunsOnInMemoryBackends() throws {
        let dir = try TemporaryDirectory("store-memory")
        defer { dir.remove() }
        try Self.repository(
            dir, config: "project: p\nregistry: {type: memory}\nonline_store: {type: memory}\n")
        var configuration = FeatureStore.Configuration()
        configuration.now = { Timestamp(microseconds: 6_000_000) }
        let store = try FeatureStore.open(dir.path, backends: .withMemory, configuration: configuration)
        #expect(store.onlineStoreType == "memory")
        let repository = try store.repository()
        let plan = try store.plan(repository)
        #expect(plan.plan.changes.count == 4)
        guard case .applied(let version) = try store.apply(repository, allowBreaking: false).outcome else {
            Issue.record("nothing applied")
            return
        }
        #expect(version.version == 1)
        #expect(try store.history().count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.file(".tessera/registry.db")))

        let entities = try RecordBatch([
            "driver_id": .int64([1, 2, 1]), "event_timestamp": .timestamp([2_000_000, 4_000_000, 9_000_000]),
        ])
        let training = try store.trainingSet(
            TrainingSetRequest(spine: .entities(entities, name: "labels"), selection: .features(["rates"])))
        #expect(training.batch.column(named: "trips")?.values == [.int64(1), .int64(3), .int64(5)])

        let summary = try store.materialize(
            MaterializeRequest(.range(start: Timestamp(microseconds: 0), end: Timestamp(microseconds: 10_000_000))))
        #expect(summary.views.map(\.entitiesWritten) == [2])
        let request = LookupRequest(
            features: .references(["rates:trips"]), entities: [("driver_id", [.int64(1), .int64(2), .int64(3)])])
        #expect(try store.onlineFeatures(request).vector(named: "trips")?.values == [.int64(5), .int64(3), .null])

        let push = PushRequest(
            source: "stats_push",
            columns: [
                ("driver_id", [.int64(2)]), ("ts", [.int64(5)]), ("rate", [.float64(0.9)]), ("trips", [.int64(9)]),
            ])
        let first = try store.push(push, to: .onlineAndOffline)
        let again = try store.push(push, to: .onlineAndOffline)
        #expect(first.pushID == again.pushID)
        #expect(try store.onlineFeatures(request).vector(named: "trips")?.values == [.int64(5), .int64(9), .null])
        // The pushed row reaches training sets once, though pushed twice.
        let later = try RecordBatch(["driver_id": .int64([2]), "event_timestamp": .timestamp([9_000_000])])
        let after = try store.trainingSet(
            TrainingSetRequest(spine: .entities(later, name: "labels"), selection: .features(["rates"])))
        #expect(after.batch.column(named: "trips")?.values == [.int64(9)])
        let logged =
            FileManager.default.enumerator(atPath: dir.file(".tessera/push/stats_push"))?
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".parquet") && !$0.hasPrefix(".") } ?? []
        #expect(logged.count == 1, "\(logged)")
    }

    @Test func nothingAppliedIsAClearError() throws {
        let dir = try TemporaryDirectory("store-empty")
        defer { dir.remove() }
        try Self.repository(dir, config: "project: p\n")
        let store = try FeatureStore.open(dir.path)
        #expect {
            try store.applied()
        } throws: { error in String(describing: error).contains("run `tessera apply") }
    }
}

/// docs/definitions.md documents every option of every backend of this build.
@Suite struct BackendDocumentationTests {
    @Test func everyOptionIsDocumented() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/definitions.md")
        let docs = try String(contentsOf: url, encoding: .utf8)
        let backends = Backends.standard
        let all: [(String, [any BackendDescription])] = [
            ("registry", backends.registries), ("online_store", backends.onlineStores),
            ("offline_store", backends.offlineEngines),
        ]
        for (role, list) in all {
            for backend in list {
                #expect(docs.contains("**`\(role): {type: \(backend.type)}`**"), "\(role) \(backend.type) undocumented")
                for option in backend.options {
                    #expect(docs.contains("| `\(option.name)` |"), "\(role).\(option.name) undocumented")
                }
            }
        }
    }
}
