import TesseraCore
import TesseraDefinitions
import TesseraRegistry

/// The behaviour every `RegistryStore` must have, as checks any implementation can run (the
/// same shape as `OnlineStoreConformance`): give a factory that makes a fresh, empty registry.
///
/// ```swift
/// @Test(arguments: RegistryStoreConformance.Check.allCases)
/// func conformance(_ check: RegistryStoreConformance.Check) throws {
///     try RegistryStoreConformance.run(check) { MyRegistry(...) }
/// }
/// ```
public enum RegistryStoreConformance {
    public typealias Factory = () throws -> any RegistryStore

    public enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        case emptyRegistry
        case appliesRecordVersions
        case staleApplyWritesNothing
        case otherProjectRefused
        case watermarksNeverMoveBack
        case pendingDropsRecordedWithApply

        public var description: String { rawValue }
    }

    public static func runAll(_ factory: Factory) throws {
        for check in Check.allCases { try run(check, factory) }
    }

    public static func run(_ check: Check, _ factory: Factory) throws {
        let verifier = RegistryVerifier(check: check, store: try factory())
        switch check {
        case .emptyRegistry: try verifier.emptyRegistry()
        case .appliesRecordVersions: try verifier.appliesRecordVersions()
        case .staleApplyWritesNothing: try verifier.staleApplyWritesNothing()
        case .otherProjectRefused: try verifier.otherProjectRefused()
        case .watermarksNeverMoveBack: try verifier.watermarksNeverMoveBack()
        case .pendingDropsRecordedWithApply: try verifier.pendingDropsRecordedWithApply()
        }
    }
}

/// A registry check that did not hold.
public struct RegistryConformanceFailure: Error, Sendable, CustomStringConvertible {
    public var check: RegistryStoreConformance.Check
    public var message: String
    public var line: Int

    public var description: String { "registry conformance '\(check)' failed (line \(line)): \(message)" }
}

struct RegistryVerifier {
    let check: RegistryStoreConformance.Check
    let store: any RegistryStore

    func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
        if !condition { throw RegistryConformanceFailure(check: check, message: message(), line: line) }
    }

    static func definitions(ttlDays: Int64) -> Definitions {
        Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
            sources: [
                DataSource(name: "stats", kind: .file(path: "d.parquet", format: .parquet), timestampField: "ts")
            ],
            featureViews: [
                FeatureView(
                    name: "v", entities: ["driver"], source: "stats", features: [Feature("f", .float32)],
                    ttl: .days(ttlDays))
            ])
    }

    @discardableResult
    func apply(_ ttlDays: Int64, expected: Int?, project: String = "p", drop: [String] = [], at seconds: Int64 = 100)
        throws -> RegistryVersion
    {
        let definitions = RegistryVerifier.definitions(ttlDays: ttlDays)
        let before = try store.current()?.definitions ?? Definitions()
        return try store.apply(
            definitions, plan: Plan(from: before, to: definitions), project: project, user: "u\(ttlDays)",
            expectedVersion: expected, at: Timestamp(seconds: seconds), dropOnline: drop)
    }

    func emptyRegistry() throws {
        try expect(try store.current() == nil, "a fresh registry has a current version")
        try expect(try store.head() == nil, "a fresh registry has a head")
        try expect(try store.history(limit: nil).isEmpty, "a fresh registry has history")
        try expect(try store.watermarks().isEmpty, "a fresh registry has watermarks")
        try expect(try store.pendingOnlineDrops().isEmpty, "a fresh registry has pending drops")
        try expect(try store.definitions(at: 1) == nil, "a fresh registry has version 1")
    }

    func appliesRecordVersions() throws {
        let first = try apply(2, expected: nil, at: 100)
        try expect(first.version == 1, "the first apply is version \(first.version), not 1")
        let second = try apply(3, expected: 1, at: 200)
        try expect(second.version == 2, "the second apply is version \(second.version), not 2")
        try expect(
            second.digest == CanonicalFields.digest(RegistryVerifier.definitions(ttlDays: 3).normalized),
            "the digest is not the definitions' canonical digest")
        let head = try store.head()
        try expect(head?.version == 2 && head?.digest == second.digest, "head is \(String(describing: head))")
        let current = try store.current()
        try expect(current?.definitions == RegistryVerifier.definitions(ttlDays: 3).normalized, "current definitions")
        try expect(current?.project == "p" && current?.version.user == "u3", "current project and user")
        let history = try store.history(limit: nil)
        try expect(history.map(\.version) == [2, 1], "history is \(history.map(\.version)), not newest first")
        try expect(history.last?.appliedAt == Timestamp(seconds: 100), "the apply time is kept")
        try expect(try store.history(limit: 1).map(\.version) == [2], "history limit")
        try expect(
            try store.definitions(at: 1) == RegistryVerifier.definitions(ttlDays: 2).normalized,
            "definitions of version 1")
    }

    func staleApplyWritesNothing() throws {
        try apply(2, expected: nil)
        do {
            try apply(3, expected: nil)
            try expect(false, "an apply planned against an empty registry was accepted after version 1")
        } catch let error as RegistryError {
            try expect(error.kind == .conflict, "a stale apply failed with \(error.kind), not .conflict")
        }
        try expect(try store.head()?.version == 1, "a refused apply moved the head")
        try expect(try store.history(limit: nil).count == 1, "a refused apply was recorded")
    }

    func otherProjectRefused() throws {
        try apply(2, expected: nil, project: "p")
        do {
            try apply(3, expected: 1, project: "q")
            try expect(false, "an apply of another project was accepted")
        } catch let error as RegistryError {
            try expect(error.kind == .projectMismatch, "another project failed with \(error.kind)")
        }
        try expect(try store.head()?.version == 1, "a refused apply moved the head")
    }

    func watermarksNeverMoveBack() throws {
        let t = { Timestamp(seconds: $0) }
        try store.recordMaterialization([
            MaterializationWatermark(view: "a", start: t(0), end: t(100), recordedAt: t(1)),
            MaterializationWatermark(view: "b", start: t(0), end: t(50), recordedAt: t(1)),
        ])
        try store.recordMaterialization([MaterializationWatermark(view: "a", start: t(0), end: t(60), recordedAt: t(2))]
        )
        let marks = try store.watermarks()
        try expect(marks["a"]?.end == t(100), "watermark of 'a' moved back to \(String(describing: marks["a"]?.end))")
        try expect(marks["b"]?.end == t(50), "watermark of 'b'")
        try store.recordMaterialization([
            MaterializationWatermark(view: "a", start: t(90), end: t(200), recordedAt: t(3))
        ])
        try expect(try store.watermarks()["a"]?.start == t(90), "a later watermark replaces the earlier one")
    }

    func pendingDropsRecordedWithApply() throws {
        try apply(2, expected: nil)
        try store.recordMaterialization([
            MaterializationWatermark(
                view: "v", start: Timestamp(seconds: 0), end: Timestamp(seconds: 10), recordedAt: Timestamp(seconds: 1))
        ])
        try apply(3, expected: 1, drop: ["v", "w"])
        try expect(try store.pendingOnlineDrops() == ["v", "w"], "pending drops after the apply")
        try store.completeOnlineDrops(["v"])
        try expect(try store.pendingOnlineDrops() == ["w"], "pending drops after completing 'v'")
        try expect(try store.watermarks()["v"] == nil, "a completed drop keeps the view's watermark")
    }
}
