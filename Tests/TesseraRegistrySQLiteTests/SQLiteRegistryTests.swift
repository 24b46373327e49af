import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraRegistry
import TesseraRegistrySQLite
import TesseraTesting
import Testing

@Suite struct SQLiteRegistryTests {
    static func sample(ttlDays: Int64 = 2) -> Definitions {
        Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
            sources: [
                DataSource(name: "stats", kind: .file(path: "d.parquet", format: .parquet), timestampField: "ts")
            ],
            featureViews: [
                FeatureView(
                    name: "v", entities: ["driver"], source: "stats", features: [Feature("f", .float32)],
                    ttl: .days(ttlDays))
            ],
            featureServices: [FeatureService(name: "svc", features: [FeatureReference(view: "v")])])
    }

    @Test func applyRecordsVersionsWithHistory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let registry = SQLiteRegistry(path: dir.file(".tessera/registry.db"))
        #expect(try registry.current() == nil)
        #expect(try registry.head() == nil)
        #expect(
            !FileManager.default.fileExists(atPath: dir.file(".tessera/registry.db")),
            "reading must not create the file")
        let first = SQLiteRegistryTests.sample()
        let plan1 = Plan(from: Definitions(), to: first)
        let v1 = try registry.apply(
            first, plan: plan1, project: "p", user: "ana", expectedVersion: nil,
            at: Timestamp(seconds: 100))
        #expect(v1.version == 1)
        #expect(v1.digest == CanonicalFields.digest(first))
        let second = SQLiteRegistryTests.sample(ttlDays: 3)
        let plan2 = Plan(from: first, to: second)
        let v2 = try registry.apply(
            second, plan: plan2, project: "p", user: "bo", expectedVersion: 1,
            at: Timestamp(seconds: 200))
        #expect(v2.version == 2)
        let current = try #require(try registry.current())
        #expect(current.definitions == second.normalized)
        #expect(current.project == "p")
        #expect(current.version.user == "bo")
        let history = try registry.history(limit: nil)
        #expect(history.map(\.version) == [2, 1])
        #expect(history.map(\.user) == ["bo", "ana"])
        #expect(history[0].plan == plan2)
        #expect(history[1].appliedAt == Timestamp(seconds: 100))
        #expect(try registry.history(limit: 1).map(\.version) == [2])
        #expect(try registry.definitions(at: 1) == first.normalized)
        // A second handle sees the same state (state is on disk, not in the object).
        #expect(try SQLiteRegistry(path: registry.path).head()?.version == 2)
    }

    @Test func staleApplyIsRejectedAndWritesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let registry = SQLiteRegistry(path: dir.file("r.db"))
        let defs = SQLiteRegistryTests.sample()
        _ = try registry.apply(
            defs, plan: Plan(from: Definitions(), to: defs), project: "p", user: "u",
            expectedVersion: nil, at: .now)
        #expect(throws: RegistryError.self) {
            try registry.apply(
                SQLiteRegistryTests.sample(ttlDays: 9), plan: Plan(changes: []), project: "p",
                user: "u", expectedVersion: nil, at: .now)
        }
        #expect(throws: RegistryError.self) {
            try registry.apply(defs, plan: Plan(changes: []), project: "other", user: "u", expectedVersion: 1, at: .now)
        }
        #expect(try registry.history(limit: nil).count == 1)
        #expect(try registry.current()?.definitions == defs.normalized)
    }

    @Test func corruptFileIsReportedAndLeftAlone() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("registry.db")
        let garbage = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let registry = SQLiteRegistry(path: path)
        do {
            _ = try registry.current()
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .corrupt)
            #expect(error.description.hasPrefix(path + ": not a readable registry database"))
        }
        let defs = SQLiteRegistryTests.sample()
        #expect(throws: RegistryError.self) {
            try SQLiteRegistry(path: path).apply(
                defs, plan: Plan(changes: []), project: "p", user: "u",
                expectedVersion: nil, at: .now)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }
}

@Suite struct WatermarkTests {
    @Test func watermarksPersistAndNeverMoveBack() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let registry = SQLiteRegistry(path: dir.file("r.db"))
        #expect(try registry.watermarks().isEmpty)
        let t = { (s: Int64) in Timestamp(seconds: s) }
        try registry.recordMaterialization([
            MaterializationWatermark(view: "a", start: t(0), end: t(100), recordedAt: t(1)),
            MaterializationWatermark(view: "b", start: t(0), end: t(50), recordedAt: t(1)),
        ])
        try registry.recordMaterialization([
            MaterializationWatermark(view: "a", start: t(0), end: t(90), recordedAt: t(2)),  // older: ignored
            MaterializationWatermark(view: "b", start: t(50), end: t(70), recordedAt: t(2)),
        ])
        let marks = try SQLiteRegistry(path: dir.file("r.db")).watermarks()
        #expect(marks["a"]?.end == t(100))
        #expect(marks["b"]?.end == t(70))
        #expect(marks["b"]?.start == t(50))
    }
}

@Suite struct RegistryReadOnlyAndDropsTests {
    @Test func readingNeverWritesAndDropsTravelWithTheApply() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // An empty SQLite file: reads find nothing and create no tables.
        let path = dir.file("r.db")
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        let registry = SQLiteRegistry(path: path)
        #expect(try registry.head() == nil)
        #expect(try registry.watermarks().isEmpty)
        #expect(try registry.pendingOnlineDrops().isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty, "reads must not write")

        let defs = SQLiteRegistryTests.sample()
        _ = try registry.apply(
            defs, plan: Plan(from: Definitions(), to: defs), project: "p", user: "u", expectedVersion: nil, at: .now,
            dropOnline: ["v", "w"])
        try registry.recordMaterialization([
            MaterializationWatermark(view: "v", start: .now, end: .now, recordedAt: .now)
        ])
        #expect(try SQLiteRegistry(path: path).pendingOnlineDrops() == ["v", "w"])
        try registry.completeOnlineDrops(["v"])
        #expect(try registry.pendingOnlineDrops() == ["w"])
        #expect(try registry.watermarks()["v"] == nil)
    }
}
