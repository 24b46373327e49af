import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import TesseraOnline
import TesseraOnlineSQLite
import TesseraRegistry
import TesseraRegistrySQLite
import TesseraTesting
import Testing

/// Materialization end to end: online = offline, kill -9 and rerun, newer values kept.
@Suite(.serialized) struct MaterializeTests {
    static let rows = 20_000
    static var drivers: Int { rows / 10 }

    static func repo(_ dir: TemporaryDirectory, name: String = "repo") throws -> String {
        let repo = dir.file(name)
        let initResult = try CommandRunner.run([
            "init", repo, "--rows", String(rows), "--data-start", "2026-01-01",
        ])
        #expect(initResult.status == 0, "\(initResult)")
        let apply = try CommandRunner.run(["apply", "--repo", repo])
        #expect(apply.status == 0, "\(apply)")
        return repo
    }

    static func store(_ repo: String) throws -> SQLiteOnlineStore {
        try SQLiteOnlineStore(path: repo + "/.tessera/online.db")
    }

    static let features = ["conv_rate", "acc_rate", "avg_daily_trips"]

    /// Every driver's stored record in the repository's embedded store.
    static func records(_ repo: String) throws -> [OnlineRecord?] {
        try records(try store(repo))
    }

    /// Every driver's stored record in `store`.
    static func records(_ store: any OnlineStore) throws -> [OnlineRecord?] {
        let keys = (0..<drivers).map { EntityKey(int64: Int64($0)) }
        return try store.readRecords(view: "driver_hourly_stats", keys: keys, features: features)
    }

    @Test func servedValuesEqualTheTrainingSetAtTheEnd() throws {
        let dir = try TemporaryDirectory("materialize")
        defer { dir.remove() }
        let repo = try MaterializeTests.repo(dir)
        let endText = "2026-01-20T12:00:00Z"
        let end = try #require(Timestamp(parsing: endText))
        let result = try CommandRunner.run(["materialize", "2026-01-01", endText, "--repo", repo, "--json"])
        #expect(result.status == 0, "\(result)")

        // Online, read at END with the view's ttl.
        let keys = (0..<MaterializeTests.drivers).map { EntityKey(int64: Int64($0)) }
        let served = try MaterializeTests.store(repo).read(
            view: "driver_hourly_stats", keys: keys, features: MaterializeTests.features, ttl: .days(2), now: end)

        // Offline: a training set for every driver at END.
        let registry = SQLiteRegistry(path: repo + "/.tessera/registry.db")
        let definitions = try #require(try registry.current()).definitions
        let sources = RepositorySources(root: repo, definitions: definitions)
        let ids = (0..<MaterializeTests.drivers).map { Int64($0) }
        let entities = try RecordBatch([
            "driver_id": .int64(ids), "event_timestamp": .timestamp(ids.map { _ in end.microseconds }),
        ])
        let offline = try TrainingSetBuilder(definitions: definitions) { try sources.readers(for: $0) }.build(
            TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["driver_hourly_stats"])))
        var present = 0
        var absent = 0
        for (row, online) in served.enumerated() {
            for (k, name) in MaterializeTests.features.enumerated() {
                let expected = offline.batch.column(named: name)?.value(at: row) ?? .null
                if online.statuses[k] == .present {
                    present += 1
                    #expect(online.values[k] == expected, "driver \(row) \(name)")
                } else {
                    absent += 1
                    #expect(
                        expected == .null, "driver \(row) \(name): \(online.statuses[k]) online, \(expected) offline")
                    #expect(online.statuses[k] == .outsideMaxAge || online.statuses[k] == .notFound)
                }
            }
        }
        #expect(present > 1000 && absent > 1000, "both kinds of rows are exercised (\(present), \(absent))")
        // The watermark was recorded.
        #expect(try registry.watermarks()["driver_hourly_stats"]?.end == end)

        // January's trips are older than every window of now: the aggregated views load
        // nothing, and say why instead of showing an interval that starts after its end.
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let views = try #require(summary?["views"] as? [[String: Any]])
        let aggregated = try #require(views.first { $0["view"] as? String == "driver_trip_aggs" })
        #expect(aggregated["start"] as? String == aggregated["end"] as? String, "\(aggregated)")
        #expect((aggregated["note"] as? String)?.contains("older than the longest window (1w) before now") == true)
        #expect(views.first { $0["view"] as? String == "driver_hourly_stats" }?["note"] == nil)
        let text = try CommandRunner.run([
            "materialize", "2026-01-01", endText, "--repo", repo, "--views", "driver_trip_aggs",
        ])
        #expect(text.status == 0 && text.stdout.contains("note: every event up to 2026-01-20T12:00:00Z"), "\(text)")
    }

    /// `--memory-limit`: the entities found in parts by key hash (re-split when a part
    /// outgrows its budget) give the store one pass gives.
    @Test func aMemoryLimitGivesTheSameStore() throws {
        let dir = try TemporaryDirectory("materialize-limit")
        defer { dir.remove() }
        let whole = try MaterializeTests.repo(dir, name: "whole")
        let parts = try MaterializeTests.repo(dir, name: "parts")
        let args = ["materialize", "2026-01-01", "2026-02-01", "--views", "driver_hourly_stats"]
        #expect(try CommandRunner.run(args + ["--repo", whole]).status == 0)
        let limited = try CommandRunner.run(args + ["--repo", parts, "--memory-limit", "1MB", "--json"])
        #expect(limited.status == 0, "\(limited)")
        let summary = try JSONSerialization.jsonObject(with: Data(limited.stdout.utf8)) as? [String: Any]
        let view = (summary?["views"] as? [[String: Any]])?.first
        // 2,000 drivers against the smallest budget (1,024 entities): two parts or more.
        #expect((view?["parts"] as? Int ?? 0) >= 2, "\(limited.stdout)")
        #expect(view?["entities_written"] as? Int == MaterializeTests.drivers, "\(limited.stdout)")
        let expected = try MaterializeTests.records(whole)
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(try MaterializeTests.records(parts) == expected)
        let text = try CommandRunner.run(args + ["--repo", parts, "--memory-limit", "1MB"])
        #expect(text.status == 0 && text.stdout.contains("parts by key hash"), "\(text)")
        let bad = try CommandRunner.run(args + ["--repo", parts, "--memory-limit", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--memory-limit 0: write a size"), "\(bad)")
    }

    @Test func killedMaterializationsRerunToTheCleanState() throws {
        let dir = try TemporaryDirectory("kill")
        defer { dir.remove() }
        let clean = try MaterializeTests.repo(dir, name: "clean")
        let killed = try MaterializeTests.repo(dir, name: "killed")
        let args = ["materialize", "2026-01-01", "2026-02-01", "--batch-rows", "150", "--threads", "1"]
        #expect(try CommandRunner.run(args + ["--repo", clean]).status == 0)
        let interrupted = try CommandRunner.killRuns(
            args + ["--repo", killed], afterMilliseconds: [15, 40, 70, 110, 160, 230])
        #expect(interrupted >= 2, "the kills must land while materializing")
        #expect(try CommandRunner.run(args + ["--repo", killed]).status == 0)
        let expected = try MaterializeTests.records(clean)
        let got = try MaterializeTests.records(killed)
        #expect(expected.compactMap { $0 }.count > 1000)
        #expect(got == expected)
    }

    /// Window aggregations: a rebuild killed at any point and run again serves exactly what an
    /// uninterrupted one does, and both equal a training set at the read time.
    @Test func killedAggregationRebuildsRerunToTheSameValues() throws {
        let dir = try TemporaryDirectory("kill-aggs")
        defer { dir.remove() }
        // Data ending today, so the 7-day windows hold trips.
        let startDay = Timestamp(
            microseconds: (Timestamp.now - .days(29)).microseconds / 86_400_000_000 * 86_400_000_000)
        func make(_ name: String) throws -> String {
            let repo = dir.file(name)
            let result = try CommandRunner.run([
                "init", repo, "--rows", "300000", "--data-start", startDay.iso8601,
            ])
            #expect(result.status == 0, "\(result)")
            #expect(try CommandRunner.run(["apply", "--repo", repo]).status == 0)
            return repo
        }
        let clean = try make("clean")
        let killed = try make("killed")
        // END in the future: trips of the coming hours enter the state and count once their time is past.
        let args = ["materialize", "now-30d", "2100-01-01", "--views", "driver_trip_aggs", "--threads", "1"]
        let first = try CommandRunner.run(args + ["--repo", clean])
        #expect(first.status == 0, "\(first)")
        let interrupted = try CommandRunner.killRuns(
            args + ["--repo", killed], afterMilliseconds: [20, 60, 120, 200, 320])
        #expect(interrupted >= 2, "the kills must land while materializing")
        #expect(try CommandRunner.run(args + ["--repo", killed]).status == 0)

        let registry = SQLiteRegistry(path: clean + "/.tessera/registry.db")
        let definitions = try #require(try registry.current()).definitions
        let view = try #require(definitions.featureView("driver_trip_aggs"))
        let program = AggregationProgram(view: view)
        let names = view.features.map(\.name)
        let drivers = (0..<3_000).map { Int64($0) }
        let keys = drivers.map { EntityKey(int64: $0) }
        // Read a minute from now: later than both runs' clocks.
        let t = (Timestamp.now + .minutes(1)).microseconds
        // What lookups serve: the values read from each key's state.
        let a = program.values(
            try Self.storeAt(clean).readStates(view: view.name, keys: keys), features: names, at: t
        ).values
        let b = program.values(
            try Self.storeAt(killed).readStates(view: view.name, keys: keys), features: names, at: t
        ).values
        #expect(a == b, "the killed-and-rerun store serves what the clean one does")
        // And both equal the training set at t.
        let sources = RepositorySources(root: clean, definitions: definitions)
        let entities = try RecordBatch([
            "driver_id": .int64(drivers), "event_timestamp": .timestamp(drivers.map { _ in t }),
        ])
        let offline = try TrainingSetBuilder(definitions: definitions) { try sources.readers(for: $0) }.build(
            TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["driver_trip_aggs"])))
        var nonEmpty = 0
        for (f, name) in names.enumerated() {
            let expected = try #require(offline.batch.column(named: name))
            let differing = (0..<expected.count).filter { a[f][$0] != expected.value(at: $0) }
            #expect(
                differing.isEmpty,
                "\(name): \(differing.count) drivers differ, first \(differing.first.map { "\($0): online \(a[f][$0]), offline \(expected.value(at: $0))" } ?? "")"
            )
            nonEmpty += (0..<expected.count).filter { expected.isValid($0) }.count
        }
        #expect(nonEmpty > 10_000)
    }

    static func storeAt(_ repo: String) throws -> SQLiteOnlineStore {
        try SQLiteOnlineStore(path: repo + "/.tessera/online.db")
    }

    @Test func aNewerPushedValueSurvivesMaterialization() throws {
        let dir = try TemporaryDirectory("newer")
        defer { dir.remove() }
        let repo = try MaterializeTests.repo(dir)
        let future = Timestamp(seconds: 1_900_000_000)
        let store = try MaterializeTests.store(repo)
        try store.write(
            try OnlineWriteBatch(
                view: "driver_hourly_stats", joinKeys: [.int64([7])],
                eventTimestamps: .timestamp([future.microseconds]),
                features: [
                    ("conv_rate", .float32([0.5])), ("acc_rate", .float32([0.25])), ("avg_daily_trips", .int32([42])),
                ]))
        #expect(try CommandRunner.run(["materialize", "2026-01-01", "2026-02-01", "--repo", repo]).status == 0)
        let record = try MaterializeTests.records(repo)[7]
        #expect(record?.eventTimestamp == future)
        #expect(record?.values == [.float32(0.5), .float32(0.25), .int32(42)])
        // Other drivers were loaded.
        #expect(try MaterializeTests.records(repo)[8] != nil)
    }

    /// An apply that committed but died before dropping stale online values: the next
    /// materialize finishes the drop.
    @Test func pendingDropsAreFinishedByTheNextMaterialize() throws {
        let dir = try TemporaryDirectory("pending")
        defer { dir.remove() }
        let repo = try MaterializeTests.repo(dir)
        #expect(try CommandRunner.run(["materialize", "2026-01-01", "2026-02-01", "--repo", repo]).status == 0)
        #expect(try MaterializeTests.store(repo).rowCount(view: "driver_hourly_stats") > 0)
        // Retype a feature (breaking) and apply through the library only: the registry records the
        // drop as pending, as if the CLI had been killed right after the commit.
        let file = repo + "/features/drivers.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "avg_daily_trips: int32", with: "avg_daily_trips: int64")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try FeatureRepository.load(at: repo)
        let service = RegistryService(repository: loaded, store: SQLiteRegistry(path: repo + "/.tessera/registry.db"))
        guard case .applied = try service.apply(allowBreaking: true) else {
            Issue.record("expected the apply to land")
            return
        }
        #expect(try service.store.pendingOnlineDrops() == ["driver_hourly_stats"])
        #expect(try MaterializeTests.store(repo).rowCount(view: "driver_hourly_stats") > 0)
        let result = try CommandRunner.run([
            "materialize", "2026-01-01", "2026-02-01", "--repo", repo, "--views", "customer_profile",
        ])
        #expect(result.status == 0, "\(result)")
        #expect(try MaterializeTests.store(repo).rowCount(view: "driver_hourly_stats") == 0)
        #expect(try service.store.pendingOnlineDrops().isEmpty)
    }

    @Test func incrementalRunsFromTheWatermarkAndApplyDropsRemovedViews() throws {
        let dir = try TemporaryDirectory("incremental")
        defer { dir.remove() }
        let repo = try MaterializeTests.repo(dir)
        let first = try CommandRunner.run(["materialize-incremental", "2026-01-15", "--repo", repo, "--json"])
        #expect(first.status == 0, "\(first)")
        let second = try CommandRunner.run([
            "materialize-incremental", "2026-01-20", "--repo", repo, "--lateness", "1h", "--json",
        ])
        let summary = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        let views = summary?["views"] as? [[String: Any]]
        let drivers = views?.first { $0["view"] as? String == "driver_hourly_stats" }
        #expect(drivers?["start"] as? String == "2026-01-14T23:00:00Z")
        #expect(drivers?["end"] as? String == "2026-01-20T00:00:00Z")
        #expect(try MaterializeTests.store(repo).rowCount(view: "driver_hourly_stats") > 0)

        // Removing the view (and the service and on-demand view using it) drops its online rows
        // and watermark.
        try FileManager.default.removeItem(atPath: repo + "/features/rides.yaml")
        let drivers_yaml = repo + "/features/drivers.yaml"
        let text = try String(contentsOfFile: drivers_yaml, encoding: .utf8)
        let cut = try #require(text.range(of: "feature_views:"))
        try String(text[..<cut.lowerBound]).write(toFile: drivers_yaml, atomically: true, encoding: .utf8)
        try """
        feature_services:
          - name: ride_ranking_v1
            features: [customer_profile:segment]
        """.write(toFile: repo + "/features/services.yaml", atomically: true, encoding: .utf8)
        let apply = try CommandRunner.run(["apply", "--repo", repo, "--allow-breaking"])
        #expect(apply.status == 0, "\(apply)")
        #expect(apply.stdout.contains("Dropped the online values of driver_hourly_stats"))
        #expect(try MaterializeTests.store(repo).rowCount(view: "driver_hourly_stats") == 0)
        #expect(try SQLiteRegistry(path: repo + "/.tessera/registry.db").watermarks()["driver_hourly_stats"] == nil)
    }
}
