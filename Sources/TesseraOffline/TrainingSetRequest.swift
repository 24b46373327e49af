import TesseraColumnar
import TesseraCore

/// What a training set is made of: labelled entity rows (or a time range) and the features to join.
public struct TrainingSetRequest: Sendable {
    /// Where the entity rows come from.
    public enum Spine: Sendable {
        /// Labelled events: every row is kept, in order, with all its columns.
        case entities(RecordBatch, name: String)
        /// No entity file: the sources' own (join keys, event time) pairs in `start ... end`, deduplicated
        /// and sorted by time then keys (Feast issue #1611).
        case range(start: Timestamp, end: Timestamp)
    }

    /// What features to join.
    public enum Selection: Sendable {
        /// `view:feature` or `view` (all its features) references.
        case features([String])
        /// A feature service by name (its `full_feature_names` and `join_key_map` apply).
        case service(String)
    }

    public var spine: Spine
    public var selection: Selection
    /// The entity rows' time column (also the spine's output name in range mode).
    public var timestampColumn: String
    /// Name feature columns `view__feature`.
    public var fullFeatureNames: Bool
    /// Entity-data column → join key, for columns named differently from the join key
    /// (`--join-key-map COLUMN=KEY`); replaces a service's entry for the same key.
    public var joinKeyMap: [String: String]
    /// Also require `created <= t` (no leakage of values backfilled after the event).
    public var createdNotAfterTime: Bool
    /// Cores to use.
    public var threads: Int
    /// How each view is joined; `.automatic` picks streaming unless a key has many entity rows.
    public var strategy: JoinStrategy = .automatic
    /// Streaming join: source rows kept before dropping those no entity row points at
    /// (default: 256 MB of feature values, and at least two rows per entity row). Lower means less
    /// memory and more compaction work.
    public var retainedRowLimit: Int? = nil

    /// The as-of join algorithms; they give identical results.
    public enum JoinStrategy: String, Sendable, CaseIterable {
        case automatic
        /// Offer each feature row to the entity rows it can serve, as it is read.
        case streaming
        /// Keep the pruned feature rows, sort them per key, binary-search per entity row.
        case sorted
    }

    public init(
        spine: Spine, selection: Selection, timestampColumn: String = "event_timestamp",
        fullFeatureNames: Bool = false, joinKeyMap: [String: String] = [:], createdNotAfterTime: Bool = false,
        threads: Int = 1
    ) {
        self.spine = spine
        self.selection = selection
        self.timestampColumn = timestampColumn
        self.fullFeatureNames = fullFeatureNames
        self.joinKeyMap = joinKeyMap
        self.createdNotAfterTime = createdNotAfterTime
        self.threads = max(1, threads)
    }
}

/// A built training set and what happened while building it.
public struct TrainingSet: Sendable {
    public var batch: RecordBatch
    /// Entity rows in the output.
    public var rows: Int
    /// Rows that found a value in every requested view.
    public var rowsWithAllFeatures: Int
    /// Per view: rows read from its sources, rows kept after key and time pruning, entity rows matched.
    public var views: [ViewStats]

    public struct ViewStats: Sendable, Codable {
        public var view: String
        public var rowsRead: Int
        public var rowsKept: Int
        public var matched: Int

        public init(view: String, rowsRead: Int, rowsKept: Int, matched: Int) {
            self.view = view
            self.rowsRead = rowsRead
            self.rowsKept = rowsKept
            self.matched = matched
        }
    }

    public init(batch: RecordBatch, rows: Int, rowsWithAllFeatures: Int, views: [ViewStats]) {
        self.batch = batch
        self.rows = rows
        self.rowsWithAllFeatures = rowsWithAllFeatures
        self.views = views
    }
}

/// Why a training set cannot be built, in words a user can act on.
public struct TrainingSetError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\n    \(hint)"
    }
}
