import TesseraColumnar
import TesseraCore

/// Rows for one feature view, column by column: what materialization and pushes write.
///
/// Each row carries its join-key values, its event time, an optional created time and the
/// view's feature values. The store keeps, per entity key, the row with the greatest
/// (event time, created time); see `OnlineStore.write(_:)`.
public struct OnlineWriteBatch: Sendable {
    /// The feature view the rows belong to.
    public let view: String
    /// The join-key columns, in the view's join-key order.
    public let joinKeys: [Column]
    /// Event times (microseconds since the epoch, UTC), one per row, never null.
    public let eventTimestamps: [Int64]
    /// Created (write) times; they break ties between equal event times. A missing created
    /// time counts as the oldest possible.
    public let createdTimestamps: [Int64]?
    /// The feature names, parallel to `features`.
    public let featureNames: [String]
    /// The feature columns.
    public let features: [Column]
    /// The view's ttl (zero: values never expire). Stores apply ttl on read whatever this
    /// says; a store that can evict dead keys (Redis) uses it to expire them.
    public var ttl: TimeSpan = .zero

    /// The number of rows.
    public var count: Int { eventTimestamps.count }

    /// A batch from columns.
    ///
    /// - Throws: `OnlineStoreError.invalidBatch` when lengths differ, feature names repeat or
    ///   are empty, there is no join key, or a timestamp column is not a timestamp.
    public init(
        view: String, joinKeys: [Column], eventTimestamps: Column, createdTimestamps: Column? = nil,
        features: [(name: String, column: Column)]
    ) throws(OnlineStoreError) {
        guard !joinKeys.isEmpty else {
            throw OnlineStoreError(.invalidBatch, "a write to '\(view)' needs at least one join-key column")
        }
        let rows = eventTimestamps.count
        for (index, column) in joinKeys.enumerated() where column.count != rows {
            throw OnlineStoreError(
                .invalidBatch, "join key \(index + 1) of '\(view)' has \(column.count) rows, expected \(rows)")
        }
        var seen = Set<String>()
        for feature in features {
            guard !feature.name.isEmpty, seen.insert(feature.name).inserted else {
                throw OnlineStoreError(.invalidBatch, "feature name '\(feature.name)' is empty or repeated")
            }
            guard feature.column.count == rows else {
                throw OnlineStoreError(
                    .invalidBatch,
                    "feature '\(feature.name)' of '\(view)' has \(feature.column.count) rows, expected \(rows)")
            }
        }
        self.view = view
        self.joinKeys = joinKeys
        self.eventTimestamps = try OnlineWriteBatch.times(eventTimestamps, "event timestamp", view, nullable: false)
        if let createdTimestamps {
            guard createdTimestamps.count == rows else {
                throw OnlineStoreError(
                    .invalidBatch,
                    "created timestamps of '\(view)' have \(createdTimestamps.count) rows, expected \(rows)"
                )
            }
            self.createdTimestamps = try OnlineWriteBatch.times(
                createdTimestamps, "created timestamp", view, nullable: true)
        } else {
            self.createdTimestamps = nil
        }
        self.featureNames = features.map(\.name)
        self.features = features.map(\.column)
    }

    /// A batch from a record batch: the named join-key and timestamp columns, and every
    /// other column as a feature.
    ///
    /// - Throws: `OnlineStoreError.invalidBatch` naming a missing column, as `init(view:joinKeys:…)`.
    public init(
        view: String, batch: RecordBatch, joinKeys: [String], eventTimestamp: String, createdTimestamp: String? = nil
    ) throws(OnlineStoreError) {
        func column(_ name: String) throws(OnlineStoreError) -> Column {
            guard let column = batch.column(named: name) else {
                var message = "the batch for '\(view)' has no column '\(name)'"
                if let hint = Suggestions.hint(for: name, in: batch.schema.names) { message += "; \(hint)" }
                throw OnlineStoreError(.invalidBatch, message)
            }
            return column
        }
        var keys: [Column] = []
        for name in joinKeys { keys.append(try column(name)) }
        let event = try column(eventTimestamp)
        let created = try createdTimestamp.map { (name) throws(OnlineStoreError) in try column(name) }
        let special = Set(joinKeys + [eventTimestamp] + (createdTimestamp.map { [$0] } ?? []))
        let features = zip(batch.schema.fields, batch.columns).filter { !special.contains($0.0.name) }.map {
            (name: $0.0.name, column: $0.1)
        }
        try self.init(
            view: view, joinKeys: keys, eventTimestamps: event, createdTimestamps: created, features: features)
    }

    private static func times(_ column: Column, _ what: String, _ view: String, nullable: Bool)
        throws(OnlineStoreError) -> [Int64]
    {
        guard column.type == .timestamp || column.type == .int64, case .int64(var values) = column.data else {
            throw OnlineStoreError(.invalidBatch, "the \(what) column of '\(view)' is \(column.type), not a timestamp")
        }
        if column.nullCount > 0 {
            for row in 0..<values.count where !column.isValid(row) {
                guard nullable else {
                    throw OnlineStoreError(.invalidBatch, "the \(what) of '\(view)' is null in row \(row)")
                }
                values[row] = Int64.min
            }
        }
        return values
    }
}

/// What one write did.
public struct OnlineWriteSummary: Sendable, Equatable {
    /// Rows in the batch.
    public var received: Int
    /// Rows stored: new keys, or newer than (or as new as) the stored row.
    public var written: Int
    /// Rows not stored because the store (or the same batch) holds a newer row for their key.
    public var skipped: Int

    public init(received: Int, written: Int, skipped: Int) {
        self.received = received
        self.written = written
        self.skipped = skipped
    }
}
