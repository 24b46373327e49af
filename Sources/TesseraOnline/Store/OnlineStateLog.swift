/// One record of the pushed-event log: the rows one push gave one window-aggregated view,
/// as opaque bytes (the engine defines them).
///
/// Pushes append records instead of rewriting each key's aggregation state: one short
/// append per push instead of a page per key. Readers merge the records after a state's
/// mark into it; a fold merges them into the states for good and removes them. The log is
/// what makes pushes cheap and keeps them durable and visible to every process.
public struct OnlineLogRecord: Sendable, Equatable {
    /// The record's number: increasing in commit order, never reused.
    public var seq: Int64
    public var view: String
    public var payload: [UInt8]

    public init(seq: Int64, view: String, payload: [UInt8]) {
        self.seq = seq
        self.view = view
        self.payload = payload
    }
}

/// What a write does to the pushed-event log, in the same transaction as its rows and states.
public struct OnlineLogChange: Sendable {
    /// Records to append, in order; the store numbers them after every record it ever held.
    public var append: [(view: String, payload: [UInt8])]
    /// Records up to this number are merged into the states (by a fold) or replaced (by a
    /// rebuild): they are removed and the store's mark moves up to it.
    public var foldThrough: Int64?
    /// The mark the folder saw. When the store's differs (another writer folded first), the
    /// write fails with `OnlineStoreError.Kind.conflict` and changes nothing; `nil`: no check.
    public var expectedMark: Int64?
    /// One view's records up to a number are removed without moving the mark (a rebuild of
    /// that view's states replaced them; other views' records stay).
    public var discard: (view: String, through: Int64)?

    public init(
        append: [(view: String, payload: [UInt8])] = [], foldThrough: Int64? = nil, expectedMark: Int64? = nil,
        discard: (view: String, through: Int64)? = nil
    ) {
        self.append = append
        self.foldThrough = foldThrough
        self.expectedMark = expectedMark
        self.discard = discard
    }

    public var isEmpty: Bool { append.isEmpty && foldThrough == nil && discard == nil }
}

/// The log's records after some number, and its mark.
public struct OnlineLogRead: Sendable, Equatable {
    /// Records numbered above the asked number, in order.
    public var records: [OnlineLogRecord]
    /// Every record up to this number was folded or replaced (0: none ever was).
    public var mark: Int64
    /// The highest number ever given (0: none): the next record gets a greater one.
    public var head: Int64

    public init(records: [OnlineLogRecord], mark: Int64, head: Int64) {
        self.records = records
        self.mark = mark
        self.head = head
    }
}

/// What a logged write did: per batch, its summary; the numbers of the appended records.
public struct OnlineLoggedWrite: Sendable {
    public var summaries: [OnlineWriteSummary]
    public var appended: [Int64]

    public init(summaries: [OnlineWriteSummary], appended: [Int64]) {
        self.summaries = summaries
        self.appended = appended
    }
}

extension OnlineStore {
    /// Stores without a log: pushes update states in place (`write(_:states:)`).
    public var keepsStateLog: Bool { false }

    public func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate], log: OnlineLogChange)
        throws(OnlineStoreError) -> OnlineLoggedWrite
    {
        guard log.isEmpty else {
            throw OnlineStoreError(.unsupported, "this online store keeps no pushed-event log")
        }
        return OnlineLoggedWrite(summaries: try write(batches, states: states), appended: [])
    }

    public func readStateLog(after seq: Int64) throws(OnlineStoreError) -> OnlineLogRead {
        OnlineLogRead(records: [], mark: 0, head: 0)
    }
}

/// Defaults of the application layer's use of the log, declared here so that every store
/// that keeps one offers the same option (`fold_rows`).
public enum PendingStatesDefaults {
    /// Pending pushed rows before a push folds them into the stored states.
    public static let foldRows = 1 << 20
}
