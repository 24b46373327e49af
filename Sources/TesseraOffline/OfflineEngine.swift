import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// The offline seam: where training sets and materializations are computed.
///
/// It works at the level of a whole request, like Feast's `RetrievalJob`: the native engine
/// reads Parquet and CSV itself; a SQL engine (Spark, PostgreSQL) would compile the same
/// request to SQL and run it where the data lives. Either way the rules are the ones in
/// docs/semantics.md, and the shared logic — resolving features, naming columns, checking
/// requests — lives in this module (`FeatureResolution`), so engines cannot drift.
///
/// Every call takes the applied definitions: the engine keeps no copy of the registry.
public protocol OfflineEngine: Sendable {
    /// Builds a point-in-time-correct training set: every entity row, in order, with the
    /// values of the requested features as they were known at its time.
    ///
    /// - Parameter progress: short phase descriptions ("joining driver_hourly_stats").
    /// - Throws: `TrainingSetError` for requests that cannot be answered (names, types), or
    ///   the source's own errors (unreadable files).
    func trainingSet(
        _ request: TrainingSetRequest, definitions: Definitions, progress: @escaping @Sendable (String) -> Void
    ) throws -> TrainingSet

    /// Finds each entity's latest row of a view with event time in `start ... end`
    /// (inclusive), by `LatestWins`, and hands the winners to `emit` in batches of
    /// `LatestRows.schema(of:definitions:)`, at most `request.batchRows` rows each.
    ///
    /// - Parameter progress: source rows read so far.
    func latestRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> LatestRowsStats

    /// Whether `latestRows` honours `LatestRowsRequest.keyPartition` and `entityBudget` (a
    /// materialization under a memory limit splits into parts only then).
    var partitionsEntities: Bool { get }

    /// The source rows of a view with window aggregations whose event time is in
    /// `start ... end`, as batches of `AggregationRows.schema(of:definitions:)` (join keys,
    /// times and the aggregations' input columns): what the online aggregation state is
    /// built from. Rows with a null key or event time are left out.
    ///
    /// - Parameter progress: source rows read so far.
    /// - Returns: the source rows read.
    func aggregationRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> Int

    /// Appends rows pushed to a push source to the offline store, so training sets see them
    /// with the push source's batch source. Idempotent: appending the same `pushID` again
    /// (a client's retry) adds nothing.
    ///
    /// - Parameter batch: typed rows named as the views name them (see `FeatureStore.push`).
    func appendPushed(_ batch: RecordBatch, source: DataSource, definitions: Definitions, pushID: String) throws

    /// The rows a view's source holds, when it is cheap to know (file footers); for progress.
    func estimatedRows(of view: FeatureView, definitions: Definitions) -> Int?

    /// Problems with the sources of a repository about to be applied (missing files, columns,
    /// types), each at the definition it comes from.
    func validateSources(_ repository: FeatureRepository) -> [Diagnostic]

    /// The columns a source holds and their types, named as in the source; `nil` when the
    /// source cannot be read (source checks then say why). Types aggregation inputs.
    func columns(of source: DataSource, definitions: Definitions) -> [String: ValueType]?

    /// What `trainingSet` would run for `request`, without running it (`tessera training-set
    /// --explain`): a SQL engine's generated queries, and where each view is computed.
    ///
    /// - Throws: the same request errors as `trainingSet` (names, services).
    func explain(_ request: TrainingSetRequest, definitions: Definitions) throws -> String
}

extension OfflineEngine {
    public var partitionsEntities: Bool { false }

    /// The native plan: one scan and one operator per view, on this machine.
    public func explain(_ request: TrainingSetRequest, definitions: Definitions) throws -> String {
        let (selections, _, onDemand) = try FeatureResolution.selections(for: request, in: definitions)
        var lines = ["-- The native engine runs no SQL: it reads each view's source once, on this machine."]
        for selection in selections {
            lines.append(contentsOf: TrainingSetExplanation.native(selection, reason: nil))
        }
        lines.append(contentsOf: TrainingSetExplanation.onDemand(onDemand))
        return lines.joined(separator: "\n")
    }
}

/// The lines `explain` writes for the parts engines compute the same way.
public enum TrainingSetExplanation {
    /// A view computed natively (`reason`: why not by the engine's server).
    public static func native(_ selection: ViewSelection, reason: String?) -> [String] {
        let view = selection.view
        let plain = selection.features.filter { !$0.isAggregated }.map(\.name)
        let aggregated = selection.features.filter(\.isAggregated).map(\.name)
        var lines: [String] = []
        let why = reason.map { " (\($0))" } ?? ""
        if !plain.isEmpty {
            lines.append(
                "-- \(view.name): as-of join of \(plain.joined(separator: ", ")) over source '\(view.source)' by the native engine\(why)"
            )
        }
        if !aggregated.isEmpty {
            lines.append(
                "-- \(view.name): window aggregations \(aggregated.joined(separator: ", ")) over source '\(view.source)' by the native engine\(why)"
            )
        }
        return lines
    }

    /// On-demand features, computed after the joins from the joined columns.
    public static func onDemand(_ selections: [OnDemandSelection]) -> [String] {
        selections.map { selection in
            "-- \(selection.view.name): on-demand features \(selection.features.map(\.name).joined(separator: ", ")) computed by Tessera from the joined columns"
        }
    }
}

/// Makes an `OfflineEngine` from its `offline_store:` settings in `tessera.yaml`.
public protocol OfflineEngineFactory: BackendDescription {
    func makeEngine(_ settings: BackendSettings) throws -> any OfflineEngine
}

/// What `OfflineEngine.latestRows` computes.
public struct LatestRowsRequest: Sendable {
    public var view: FeatureView
    public var start: Timestamp
    public var end: Timestamp
    /// Entities per emitted batch.
    public var batchRows: Int
    /// Cores to use; `nil`: the engine's setting.
    public var threads: Int?
    /// Native engine: source rows kept before compacting to the winners (`nil`: its default).
    public var retainedRowLimit: Int?
    /// Only the entities whose key hash falls in this part (`KeyPartition`): a materialization
    /// under a memory limit reads the source once per part (`nil`: every entity).
    public var keyPartition: KeyPartition?
    /// With `keyPartition`: give up (`LatestRowsStats.overBudget`) as soon as more entities than
    /// this are held, emitting nothing, so the caller can split into more parts.
    public var entityBudget: Int?

    public init(
        view: FeatureView, start: Timestamp, end: Timestamp, batchRows: Int = 65_536, threads: Int? = nil,
        retainedRowLimit: Int? = nil
    ) {
        self.view = view
        self.start = start
        self.end = end
        self.batchRows = max(1, batchRows)
        self.threads = threads
        self.retainedRowLimit = retainedRowLimit
    }
}

/// Part `index` of `count` of the entities, by a hash of their join keys: the parts are
/// disjoint and together hold every entity.
public struct KeyPartition: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = max(1, count)
    }
}

/// What one `latestRows` call did.
public struct LatestRowsStats: Sendable, Codable {
    public var view: String
    public var rowsRead: Int
    public var entities: Int
    /// Set when the request's `entityBudget` was passed: nothing was emitted; the entities
    /// held and source rows read when it gave up (to size the parts).
    public var overBudget: OverBudget? = nil
    /// The key-hash parts the entities were found in (`nil`: one pass).
    public var parts: Int? = nil

    public struct OverBudget: Sendable, Codable {
        public var entities: Int
        public var rowsRead: Int

        public init(entities: Int, rowsRead: Int) {
            self.entities = entities
            self.rowsRead = rowsRead
        }
    }

    public init(view: String, rowsRead: Int, entities: Int) {
        self.view = view
        self.rowsRead = rowsRead
        self.entities = entities
    }
}

/// The shape of `latestRows` batches: join keys, `__event_timestamp`, `__created_timestamp`,
/// then the view's features.
public enum LatestRows {
    public static let eventColumn = "__event_timestamp"
    public static let createdColumn = "__created_timestamp"

    public static func schema(of view: FeatureView, definitions: Definitions) -> Schema {
        var fields = definitions.joinKeys(of: view).map { Field($0.name, $0.type.joinKeyType, nullable: false) }
        fields.append(Field(eventColumn, .timestamp, nullable: false))
        fields.append(Field(createdColumn, .timestamp))
        fields += view.plainFeatures.map { Field($0.name, $0.type) }
        return Schema(fields)
    }
}
