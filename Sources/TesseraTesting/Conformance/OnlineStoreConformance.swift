import TesseraColumnar
import TesseraCore
import TesseraOnline

/// The behaviour every `OnlineStore` must have, as checks any implementation can run.
///
/// In the manner of SwiftNIO's `ByteToMessageDecoderVerifier`: give a factory that makes a
/// fresh, empty store; each check throws a `ConformanceFailure` saying what differed.
///
/// ```swift
/// @Test(arguments: OnlineStoreConformance.Check.allCases)
/// func conformance(_ check: OnlineStoreConformance.Check) throws {
///     try OnlineStoreConformance.run(check) { try MyStore(...) }
/// }
/// ```
public enum OnlineStoreConformance {
    /// Makes a fresh, empty store.
    public typealias Factory = () throws -> any OnlineStore

    /// One behaviour to check.
    public enum Check: String, CaseIterable, Sendable, CustomStringConvertible {
        case roundTripInRequestOrder
        case newestEventWins
        case equalTimesNewWriteWins
        case createdBreaksEventTies
        case idempotentRewrite
        case duplicateKeysInOneBatch
        case ttlStatuses
        case notFound
        case nullValues
        case compositeKeys
        case stringKeys
        case everyFeatureType
        case featureSubsetAndOrder
        case featureAddedLater
        case manyViews
        case dropView
        case rowCounts
        case invalidBatchesRejected
        case atomicAcrossViews
        case aggregationStates
        case statesAtomicWithRows
        case pushedEventLog

        public var description: String { rawValue }
    }

    /// Runs every check on stores from `factory`.
    public static func runAll(_ factory: Factory) throws {
        for check in Check.allCases { try run(check, factory) }
    }

    /// Runs one check on a fresh store from `factory`.
    public static func run(_ check: Check, _ factory: Factory) throws {
        let store = try factory()
        var verifier = Verifier(check: check, store: store)
        switch check {
        case .roundTripInRequestOrder: try verifier.roundTripInRequestOrder()
        case .newestEventWins: try verifier.newestEventWins()
        case .equalTimesNewWriteWins: try verifier.equalTimesNewWriteWins()
        case .createdBreaksEventTies: try verifier.createdBreaksEventTies()
        case .idempotentRewrite: try verifier.idempotentRewrite()
        case .duplicateKeysInOneBatch: try verifier.duplicateKeysInOneBatch()
        case .ttlStatuses: try verifier.ttlStatuses()
        case .notFound: try verifier.notFound()
        case .nullValues: try verifier.nullValues()
        case .compositeKeys: try verifier.compositeKeys()
        case .stringKeys: try verifier.stringKeys()
        case .everyFeatureType: try verifier.everyFeatureType()
        case .featureSubsetAndOrder: try verifier.featureSubsetAndOrder()
        case .featureAddedLater: try verifier.featureAddedLater()
        case .manyViews: try verifier.manyViews()
        case .dropView: try verifier.dropView()
        case .rowCounts: try verifier.rowCounts()
        case .invalidBatchesRejected: try verifier.invalidBatchesRejected()
        case .atomicAcrossViews: try verifier.atomicAcrossViews()
        case .aggregationStates: try verifier.aggregationStates()
        case .statesAtomicWithRows: try verifier.statesAtomicWithRows()
        case .pushedEventLog: try verifier.pushedEventLog()
        }
    }
}

/// A check that did not hold: which one, what was expected, what the store did.
public struct ConformanceFailure: Error, Sendable, CustomStringConvertible {
    public var check: OnlineStoreConformance.Check
    public var message: String
    public var line: Int

    public var description: String { "online store conformance '\(check)' failed (line \(line)): \(message)" }
}

/// The checks' shared helpers: writing small batches and comparing reads.
struct Verifier {
    let check: OnlineStoreConformance.Check
    let store: any OnlineStore
    /// A fixed "now" for ttl checks: 2026-01-10T00:00:00Z.
    static let now = Timestamp(seconds: 1_768_003_200)

    init(check: OnlineStoreConformance.Check, store: any OnlineStore) {
        self.check = check
        self.store = store
    }

    func fail(_ message: String, line: Int = #line) -> ConformanceFailure {
        ConformanceFailure(check: check, message: message, line: line)
    }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
        if !condition { throw fail(message(), line: line) }
    }

    func expectEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: String, line: Int = #line) throws {
        if actual != expected { throw fail("\(what): expected \(expected), got \(actual)", line: line) }
    }

    /// Writes rows of one int64 key, with event/created seconds and one float64 feature `f`.
    @discardableResult
    func write(
        _ view: String = "v", ids: [Int64], events: [Int64], created: [Int64]? = nil, values: [Double?]
    ) throws -> OnlineWriteSummary {
        let batch = try OnlineWriteBatch(
            view: view, joinKeys: [.int64(ids)], eventTimestamps: .timestamp(events.map { $0 * 1_000_000 }),
            createdTimestamps: created.map { .timestamp($0.map { $0 * 1_000_000 }) },
            features: [
                (
                    "f",
                    Column(type: .float64, scalars: values.map { $0.map(ScalarValue.float64) ?? .null })
                        ?? Column(empty: .float64)
                )
            ])
        return try store.write(batch)
    }

    /// Reads feature `f` of `view` for `ids` with no ttl.
    func read(_ view: String = "v", ids: [Int64], ttl: TimeSpan = .zero, now: Timestamp = Verifier.now) throws
        -> [OnlineFeatureRow]
    {
        try store.read(view: view, keys: ids.map(EntityKey.init(int64:)), features: ["f"], ttl: ttl, now: now)
    }

    func values(_ rows: [OnlineFeatureRow]) -> [ScalarValue] { rows.map { $0.values[0] } }
}
