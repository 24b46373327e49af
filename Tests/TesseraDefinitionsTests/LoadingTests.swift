import TesseraCore
import TesseraDefinitions
import TesseraTesting
import Testing

@Suite struct LoadingTests {
    @Test func loadsEveryKindWithItsFields() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        let repo = try fixture.load()
        #expect(repo.config.project == "demo")
        #expect(repo.config.registry.type == "sqlite" && repo.config.registry.isDefault)
        #expect(repo.files == ["features/drivers.yaml", "features/services.yaml"])
        let d = repo.definitions
        #expect(d.entities.map(\.name) == ["driver"])
        #expect(d.entities[0].joinKeys == [JoinKey("driver_id", .int64)])
        #expect(d.entities[0].description == "A driver.")
        let source = try #require(d.source("driver_stats"))
        #expect(source.kind == .file(path: "data/driver_stats.csv", format: .csv))
        #expect(source.timestampField == "event_timestamp")
        #expect(source.createdTimestampField == "created")
        let view = try #require(d.featureView("driver_hourly_stats"))
        #expect(view.ttl == .days(2))
        #expect(view.features.map(\.name) == ["conv_rate", "acc_rate", "avg_daily_trips"])
        #expect(view.features.map(\.type) == [.float32, .float32, .int32])
        #expect(view.online && view.offline)
        let service = try #require(d.featureService("ranking"))
        #expect(
            service.features == [
                FeatureReference(view: "driver_hourly_stats", features: ["conv_rate"]),
                FeatureReference(view: "driver_hourly_stats", features: ["avg_daily_trips"]),
            ])
        #expect(
            repo.locations[ObjectID(.featureView, "driver_hourly_stats")]?.description == "features/drivers.yaml:12:5")
    }

    @Test func acceptsLongFormsListsAndPushSources() throws {
        let fixture = try RepositoryFixture(files: [
            "a/b/defs.yml": """
            entities:
              - name: user
                join_keys: {user_id: string, region: int32}
            sources:
              - name: events
                path: data/*.parquet
                timestamp_field: ts
                field_mapping: {uid: user_id}
              - name: events_push
                type: push
                batch_source: events
            feature_views:
              - name: user_profile
                entities: user
                source: events_push
                ttl: 1h30m
                online: false
                schema:
                  embedding: list<float32>
                  tags_list: {type: "list<string>", description: Free tags., tags: {pii: "no"}}
                  raw: bytes
                  seen_at: timestamp
            feature_services:
              - name: all_user
                full_feature_names: true
                join_key_map: {uid: user_id}
                features:
                  - user_profile:embedding
                  - {view: user_profile, features: [raw]}
            """
        ])
        defer { fixture.directory.remove() }
        let d = try fixture.load().definitions
        #expect(d.entities[0].joinKeys == [JoinKey("user_id", .string), JoinKey("region", .int32)])
        #expect(d.source("events_push")?.kind == .push(batchSource: "events"))
        #expect(d.source("events")?.fieldMapping == ["uid": "user_id"])
        let view = try #require(d.featureView("user_profile"))
        #expect(view.ttl == TimeSpan(microseconds: 5_400_000_000))
        #expect(view.online == false)
        #expect(view.features.map(\.type) == [.list(.float32), .list(.string), .bytes, .timestamp])
        #expect(view.features[1].description == "Free tags.")
        #expect(view.features[1].tags == ["pii": "no"])
        #expect(d.featureService("all_user")?.joinKeyMap == ["uid": "user_id"])
    }

    @Test func reportsEveryProblemWithFileLineAndColumn() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write(
            "features/bad.yaml",
            """
            entities:
              - name: rider
                join_keys:
                  rider_id: int65
                descripton: typo
            feature_views:
              - name: rider_stats
                entities: [ridr]
                source: nowhere
                ttl: 3x
                schema:
                  a: float32
            feature_services:
              - name: svc
                features:
                  - driver_hourly_stats:conv_rat
            """)
        let found = fixture.diagnostics().map { "\($0.location) \($0.message) | \($0.hint ?? "")" }
        #expect(
            found == [
                "features/bad.yaml:4:17 unknown type 'int65' for join key 'rider_id' of entity 'rider' | did you mean 'int64' or 'int32'?",
                "features/bad.yaml:5:5 unknown field 'descripton' in entity 'rider' | did you mean 'description'?",
                "features/bad.yaml:8:15 feature view 'rider_stats' uses entity 'ridr', which is not defined | did you mean 'rider'?",
                "features/bad.yaml:9:13 feature view 'rider_stats' reads source 'nowhere', which is not defined | ",
                "features/bad.yaml:10:10 '3x' is not a duration for the ttl of feature view 'rider_stats' | write a number and a unit: 30s, 15m, 2h, 7d, 1w, or 0 for unbounded",
                "features/bad.yaml:16:9 feature view 'driver_hourly_stats' has no feature 'conv_rat' (used by feature service 'svc') | did you mean 'conv_rate'?",
            ])
    }

    @Test func yamlSyntaxErrorNamesFileAndLine() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write("features/broken.yaml", "entities:\n  - name: x\n    join_keys: [a\n")
        let found = fixture.diagnostics()
        #expect(found.count == 1)
        #expect(found.first?.location.file == "features/broken.yaml")
        #expect((found.first?.location.line ?? 0) >= 3)
        #expect(found.first?.message.hasPrefix("invalid YAML") == true)
    }

    @Test func duplicateNamesAcrossFilesNameBothPlaces() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write("features/more.yaml", "entities:\n  - name: driver\n    join_keys: {driver_id: int64}\n")
        let found = fixture.diagnostics()
        #expect(found.map(\.message) == ["duplicate entity name 'driver'"])
        #expect(found.first?.location.description == "features/more.yaml:2:5")
        #expect(found.first?.hint == "first declared at features/drivers.yaml:2:5")
    }

    @Test func featureNameCollisionInServiceNamesBothViews() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write(
            "features/other.yaml",
            """
            feature_views:
              - name: driver_daily_stats
                entities: [driver]
                source: driver_stats
                schema: {conv_rate: float64}
            feature_services:
              - name: mixed
                features: [driver_hourly_stats, driver_daily_stats]
              - name: mixed_full
                full_feature_names: true
                features: [driver_hourly_stats, driver_daily_stats]
            """)
        let found = fixture.diagnostics()
        #expect(found.count == 1)
        #expect(
            found.first?.message
                == "feature service 'mixed' gets a feature named 'conv_rate' from both 'driver_hourly_stats' and 'driver_daily_stats'"
        )
        #expect(found.first?.location.description == "features/other.yaml:8:37")
    }

    @Test func missingConfigAndEmptyFolder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(throws: DiagnosticsError.self) { try FeatureRepository.load(at: dir.path) }
        do throws(DiagnosticsError) {
            _ = try FeatureRepository.load(at: dir.path)
        } catch {
            #expect(error.description.contains("has no tessera.yaml"))
        }
        try dir.write("tessera.yaml", "projec: x\n")
        do throws(DiagnosticsError) {
            _ = try FeatureRepository.load(at: dir.path)
            Issue.record("expected an error")
        } catch {
            let messages = error.diagnostics.map(\.message)
            #expect(messages.contains("unknown field 'projec' in tessera.yaml"))
            #expect(messages.contains("tessera.yaml is missing the required field 'project'"))
            #expect(error.diagnostics.first?.hint == "did you mean 'project'?")
        }
    }

    @Test func structuralMistakesAreReported() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write(
            "features/x.yaml",
            """
            entitys: []
            sources:
              - name: s
                path: data/missing.csv
                timestamp_field: ts
              - name: p
                type: push
                batch_source: nope
            feature_views:
              - name: v
                entities: [driver, driver]
                source: s
                schema:
                  driver_id: int64
                  ts: float32
                  x: int64
            """)
        let messages = fixture.diagnostics().map(\.message)
        #expect(messages.contains("unknown section 'entitys'"))
        #expect(messages.contains("the path 'data/missing.csv' of source 's' does not exist"))
        #expect(messages.contains("push source 'p' names batch_source 'nope', which is not defined"))
        #expect(messages.contains("feature view 'v' lists entity 'driver' twice"))
        #expect(messages.contains("feature 'driver_id' of feature view 'v' has the name of a join key"))
        #expect(messages.contains("feature 'ts' of feature view 'v' has the name of the source's timestamp column"))
    }

    /// `type: postgres` sources: a URL naming a user and a database, exactly one of a table
    /// and a query, and fields of other source types refused; a password in the URL loads
    /// with a warning, and plans show it as `***`.
    @Test func postgresSourcesAreCheckedWhereTheyAreWritten() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write(
            "features/pg.yaml",
            """
            sources:
              - name: both
                type: postgres
                url: postgresql://u@db/warehouse
                table: t
                query: SELECT 1
                timestamp_field: ts
              - name: neither
                type: postgres
                url: postgresql://u@db/warehouse
                timestamp_field: ts
              - name: no_user
                type: postgres
                url: postgresql://db/warehouse
                table: t
                timestamp_field: ts
              - name: not_a_url
                type: postgres
                url: mysql://u@db/warehouse
                table: t
                timestamp_field: ts
              - name: bad_table
                type: postgres
                url: postgresql://u@db/warehouse
                table: "a; drop table b"
                timestamp_field: ts
              - name: with_path
                type: postgres
                url: postgresql://u@db/warehouse
                table: t
                path: data/x.parquet
              - name: typo
                type: postgress
                path: data/x.parquet
                timestamp_field: ts
            """)
        let messages = fixture.diagnostics().map(\.message)
        #expect(messages.contains("source 'both' gives both a table and a query"), "\(messages)")
        #expect(messages.contains("source 'neither' names no table or query"), "\(messages)")
        #expect(
            messages.contains("the url of source 'no_user' names no user (postgresql://user@host/database)"),
            "\(messages)")
        #expect(messages.contains { $0.hasPrefix("the url of source 'not_a_url':") }, "\(messages)")
        #expect(
            messages.contains("the table 'a; drop table b' of source 'bad_table' is not a table name"), "\(messages)")
        #expect(messages.contains { $0.contains("'path'") && $0.contains("with_path") }, "\(messages)")
        #expect(messages.contains { $0.contains("timestamp_field") && $0.contains("with_path") }, "\(messages)")
        #expect(messages.contains("unknown source type 'postgress' in source 'typo'"), "\(messages)")

        try fixture.write(
            "features/pg.yaml",
            """
            sources:
              - name: warehouse
                type: postgres
                url: postgresql://u:hunter2@db:6432/warehouse
                query: SELECT * FROM driver_stats
                timestamp_field: event_timestamp
              - name: warehouse_push
                type: push
                batch_source: warehouse
            """)
        let repository = try fixture.load()
        let source = try #require(repository.definitions.source("warehouse"))
        #expect(
            source.kind
                == .postgres(
                    PostgresRelation(
                        url: "postgresql://u:hunter2@db:6432/warehouse", query: "SELECT * FROM driver_stats")))
        #expect(
            repository.warnings.map(\.message) == [
                "the url of source 'warehouse' holds a password, which is kept in git with the definitions"
            ])
        let fields = CanonicalFields.fields(of: source).map { "\($0.path)=\($0.value)" }
        #expect(fields.contains("url=postgresql://u:***@db:6432/warehouse"), "\(fields)")
        #expect(!fields.joined().contains("hunter2"))
    }

    /// `tessera api-key create --file secrets/api-keys.yaml` writes a YAML file inside the
    /// repository: it is configuration, not definitions, and loading skips it (a file with
    /// other sections beside `api_keys` is still read, and its mistakes reported).
    @Test func apiKeyFilesInTheRepositoryAreNotDefinitions() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write(
            "secrets/api-keys.yaml",
            "# API keys of the feature server (SHA-256 only). Keep out of git.\napi_keys:\n  - name: \"t\"\n    role: reader\n    sha256: \(String(repeating: "ab", count: 32))\n"
        )
        let repository = try fixture.load()
        #expect(repository.definitions.featureViews.map(\.name) == ["driver_hourly_stats"])
        try fixture.write("secrets/mixed.yaml", "api_keys: []\nentitys: []\n")
        #expect(fixture.diagnostics().map(\.message).contains("unknown section 'api_keys'"))
    }

    @Test func duplicateYAMLKeysAreSyntaxErrors() throws {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        try fixture.write("features/x.yaml", "entities:\n  - name: a\n    join_keys: {k: int64}\n    name: b\n")
        let found = fixture.diagnostics()
        #expect(found.map(\.message) == ["invalid YAML: duplicate key 'name'"])
        #expect(found.first?.location.file == "features/x.yaml")
        #expect(found.first?.location.line == 2)
    }
}
