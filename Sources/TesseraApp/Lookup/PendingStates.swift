import Foundation
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraEngine
import TesseraOnline

/// Pushed rows of window-aggregated views that the stored states do not hold yet: this
/// process's copy of the store's pushed-event log (`OnlineLogRecord`), by view and key.
///
/// Why: merging a push into each key's stored state rewrote a page of the store per key —
/// 4 KiB written for a 32-byte event, and the disk's write-back stalls on top — which held
/// pushes to about 15,000 events a second. Now a push appends one log record (its rows, a
/// page or two) and adds the rows here; reads merge a key's pending rows into its stored
/// state with the same merge a fold uses, so values are unchanged to the bit. Once enough
/// rows are pending, a push starts a fold on a thread of its own, which merges them into
/// the states a chunk of keys per transaction, so every page it rewrites carries many events.
///
/// Several processes may share one store: each follows the log (at most once per
/// `followInterval` on reads), so rows another process pushed are served within it. A
/// state records the last log record it includes (its mark); a read merges only later
/// records, so a fold by any process never counts a row twice, whichever snapshot a
/// reader holds.
public final class PendingStates: Sendable {
    public struct Settings: Sendable {
        /// Pending rows (over all views) past which a push folds them all into the states
        /// and the log's records are removed (the online store's `fold_rows`).
        public var foldRows = PendingStatesDefaults.foldRows
        /// Pending pushes of one key past which a push folds the keys with that many (a read
        /// merges each of them; a hot key would make its reads slow).
        public var foldPushesPerKey = 64
        /// Keys whose states a fold writes per transaction (pushes wait for one at most).
        public var foldChunkKeys = 4_096
        /// How often, at most, reads look for records other processes appended.
        public var followInterval: Duration = .milliseconds(1)
        /// How long rows another process folded stay here: readers of this process may hold
        /// a read snapshot from before that fold for a moment (`snapshot_reuse`).
        public var foldGrace: Duration = .seconds(1)

        public init() {}
    }

    /// One push's rows of one key: the record's, at `rows`. Small, so the per-key lists
    /// that reads copy cost two references per push.
    struct Delta: Sendable {
        let seq: Int64
        let record: Record
        let rows: ArraySlice<Int>

        var push: String { record.push }
        var program: AggregationProgram { record.program }
        var events: AggregationProgram.Events { record.events }
    }

    /// One push's rows of one view, by key: what a log record holds. A class, immutable, so
    /// every key's delta shares it.
    final class Record: Sendable {
        let view: String
        let push: String
        let program: AggregationProgram
        let keys: [EntityKey]
        let rows: [ArraySlice<Int>]
        let events: AggregationProgram.Events

        init(
            view: String, push: String, program: AggregationProgram, keys: [EntityKey], rows: [ArraySlice<Int>],
            events: AggregationProgram.Events
        ) {
            self.view = view
            self.push = push
            self.program = program
            self.keys = keys
            self.rows = rows
            self.events = events
        }
    }

    struct State {
        /// Every log record up to this one is here (or was folded).
        var seen: Int64 = 0
        /// This process's records added past `seen` (other records in between are not here yet).
        var ahead: Set<Int64> = []
        var views: [String: [EntityKey: [Delta]]] = [:]
        var rows = 0
        var hottest = 0
        /// The store's mark as last seen.
        var mark: Int64 = 0
        /// A fold by another process: its rows are dropped from here once `at` has passed.
        var prune: (mark: Int64, at: UInt64)?
        var lastFollow: UInt64 = 0
        var loaded = false
        var lastFoldError: String?
    }

    public let settings: Settings
    let state = Mutex(State())
    /// Held while following the log, so one thread at a time replays records.
    private let following = Mutex(())
    /// Set while a fold runs, so one fold at a time runs.
    private let folding = Atomic<Bool>(false)
    private let followNanos: UInt64
    private let graceNanos: UInt64

    public init(settings: Settings = Settings()) {
        self.settings = settings
        followNanos = MonotonicClock.nanoseconds(settings.followInterval)
        graceNanos = MonotonicClock.nanoseconds(settings.foldGrace)
    }

    // MARK: Log records

    /// The payload of one log record: version 1 · u16 push id length · push id · u32 keys ·
    /// per key: u32 key length · key bytes · u32 rows · rows × u32 row numbers · the events
    /// (`AggregationProgram.encode`).
    static func payload(_ record: Record) -> [UInt8] {
        var out: [UInt8] = [1]
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { out.append(contentsOf: $0) } }
        let push = Array(record.push.utf8.prefix(Int(UInt16.max)))
        withUnsafeBytes(of: UInt16(push.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: push)
        u32(record.keys.count)
        for (key, rows) in zip(record.keys, record.rows) {
            u32(key.bytes.count)
            out.append(contentsOf: key.bytes)
            u32(rows.count)
            for row in rows { u32(row) }
        }
        out.append(contentsOf: record.program.encode(record.events))
        return out
    }

    /// The record a payload holds, or `nil` when it is not one of `program`'s (a record
    /// written before a breaking apply, or damaged: its rows are then not served).
    static func record(view: String, payload: [UInt8], program: AggregationProgram) -> Record? {
        var at = 0
        func u32() -> Int? {
            guard at + 4 <= payload.count else { return nil }
            defer { at += 4 }
            return Int(
                UInt32(payload[at]) | UInt32(payload[at + 1]) << 8 | UInt32(payload[at + 2]) << 16
                    | UInt32(payload[at + 3]) << 24)
        }
        guard payload.first == 1, payload.count >= 3 else { return nil }
        let pushLength = Int(payload[1]) | Int(payload[2]) << 8
        at = 3 + pushLength
        guard at <= payload.count, let push = String(validating: payload[3..<at], as: UTF8.self),
            let keyCount = u32()
        else { return nil }
        var keys: [EntityKey] = []
        var rowNumbers: [Int] = []
        var starts = [0]
        for _ in 0..<keyCount {
            guard let length = u32(), at + length <= payload.count else { return nil }
            keys.append(EntityKey(bytes: Array(payload[at..<at + length])))
            at += length
            guard let count = u32(), at + 4 * count <= payload.count else { return nil }
            for _ in 0..<count {
                guard let row = u32() else { return nil }
                rowNumbers.append(row)
            }
            starts.append(rowNumbers.count)
        }
        guard let events = program.decodeEvents(Array(payload[at...])),
            rowNumbers.allSatisfy({ $0 < events.count })
        else { return nil }
        let rows = keys.indices.map { rowNumbers[starts[$0]..<starts[$0 + 1]] }
        return Record(view: view, push: push, program: program, keys: keys, rows: rows, events: events)
    }

    // MARK: Adding and following

    /// Adds the records this process appended (numbered `seqs`, in order).
    func add(_ records: [Record], seqs: [Int64]) {
        state.withLock { state in
            for (record, seq) in zip(records, seqs) {
                guard seq > state.seen else { continue }  // already replayed from the log
                if seq == state.seen + 1 { state.seen = seq } else { state.ahead.insert(seq) }
                PendingStates.insert(record, seq: seq, into: &state)
            }
        }
    }

    private static func insert(_ record: Record, seq: Int64, into state: inout State) {
        // Modified in place: a copy of a view's dictionary per push would cost its size.
        var hottest = state.hottest
        for (key, rows) in zip(record.keys, record.rows) {
            let delta = Delta(seq: seq, record: record, rows: rows)
            state.views[record.view, default: [:]][key, default: []].insert(ordered: delta)
            hottest = max(hottest, state.views[record.view]?[key]?.count ?? 0)
        }
        state.hottest = hottest
        state.rows += record.events.count
    }

    /// Replays the log records other processes appended since the last look, when
    /// `followInterval` has passed (or `force`). Without `force`, a thread that finds
    /// another one following goes on with what is here.
    func follow(_ store: any OnlineStore, programs: (String) -> AggregationProgram?, force: Bool = false)
        throws(OnlineStoreError)
    {
        let now = MonotonicClock.nanoseconds()
        let due = state.withLock { $0.loaded ? now &- $0.lastFollow >= followNanos : true }
        guard force || due else { return }
        func body() throws(OnlineStoreError) {
            let seen = self.state.withLock { $0.seen }
            let read = try store.readStateLog(after: seen)
            let records = read.records.map { logged in
                (
                    logged.seq,
                    programs(logged.view).flatMap { program in
                        PendingStates.record(view: logged.view, payload: logged.payload, program: program)
                    }
                )
            }
            self.state.withLock { state in
                for (seq, record) in records where seq > state.seen {
                    if state.ahead.remove(seq) == nil, let record {
                        PendingStates.insert(record, seq: seq, into: &state)
                    }
                    state.seen = seq
                }
                // Records folded before this process saw them are in the states already.
                state.seen = max(state.seen, read.mark)
                state.ahead = state.ahead.filter { $0 > state.seen }
                if read.mark > state.mark {
                    state.prune = (read.mark, now &+ self.graceNanos)
                    state.mark = read.mark
                }
                if let prune = state.prune, now >= prune.at {
                    PendingStates.drop(through: prune.mark, in: &state)
                    state.prune = nil
                }
                state.lastFollow = now
                state.loaded = true
            }
        }
        if force {
            try following.withLock { (_) throws(OnlineStoreError) in try body() }
        } else {
            let result: Result<Void, OnlineStoreError>? = following.withLockIfAvailable { _ in
                do throws(OnlineStoreError) {
                    try body()
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try result?.get()
        }
    }

    /// Drops the pending rows of records up to `mark` (of `view` only, when given): they
    /// are in the states now.
    private static func drop(through mark: Int64, view only: String? = nil, in state: inout State) {
        var rows = 0
        var hottest = 0
        var counted: Set<Int64> = []
        for (view, keys) in state.views {
            var kept: [EntityKey: [Delta]] = [:]
            for (key, list) in keys {
                let rest = only == nil || only == view ? list.filter { $0.seq > mark } : list
                guard !rest.isEmpty else { continue }
                kept[key] = rest
                hottest = max(hottest, rest.count)
                for delta in rest where counted.insert(delta.seq).inserted { rows += delta.events.count }
            }
            state.views[view] = kept.isEmpty ? nil : kept
        }
        state.rows = rows
        state.hottest = hottest
    }

    /// Forgets the rows of `view`'s records up to `mark`: a rebuild replaced its states with
    /// ones that hold the source's rows and record that mark.
    func discard(view: String, through mark: Int64) {
        state.withLock { PendingStates.drop(through: mark, view: view, in: &$0) }
    }

    // MARK: Reading and folding

    /// The states of `keys` of `view` as reads see them: the stored ones with the pending
    /// rows merged in (`now` as the merge's time, as a push at `now` would).
    func states(
        view: String, keys: [EntityKey], program: AggregationProgram, store: any OnlineStore, now: Int64,
        programs: (String) -> AggregationProgram?
    ) throws(OnlineStoreError) -> [[UInt8]?] {
        if store.keepsStateLog { try follow(store, programs: programs) }
        // The pending rows before the states: a fold that lands between the two then shows
        // in the states' marks, instead of its rows missing from both.
        let pending: [[Delta]]? = state.withLock { state in
            guard let byKey = state.views[view] else { return nil }
            return keys.map { byKey[$0] ?? [] }
        }
        var states = try store.readStates(view: view, keys: keys)
        guard let pending else { return states }
        for (index, deltas) in pending.enumerated() where !deltas.isEmpty {
            states[index] = PendingStates.merge(states[index], deltas, program: program, now: now)
        }
        return states
    }

    /// `held` as a read sees it: with the rows of `deltas` the state does not include yet,
    /// in log order, in one merge (one copy of the state however many pushes are pending).
    static func merge(_ held: [UInt8]?, _ deltas: [Delta], program: AggregationProgram, now: Int64) -> [UInt8]? {
        let included = held.map { program.logMark($0) } ?? 0
        let parts = deltas.compactMap { delta in
            delta.seq > included && delta.program.takesSameInputs(as: program)
                ? AggregationProgram.Part(events: delta.events, rows: delta.rows, push: delta.push) : nil
        }
        guard !parts.isEmpty else { return held }
        return program.merged(held, parts: parts, now: now)
    }

    /// What fold is due: all pending rows (too many, or twice too many: a background fold
    /// is behind, and the push waits for one), those of hot keys, or none.
    enum FoldDue { case none, hotKeys, all, behind }

    var foldDue: FoldDue {
        state.withLock {
            $0.rows >= 2 * settings.foldRows
                ? .behind
                : $0.rows >= settings.foldRows ? .all : $0.hottest >= settings.foldPushesPerKey ? .hotKeys : .none
        }
    }

    /// Merges pending rows into the stored states: every pending row, after which the log's
    /// records are removed; or with `hotKeysOnly` those of the keys with `foldPushesPerKey`
    /// pending pushes (their records stay: other keys' rows are in them).
    ///
    /// The states are written `foldChunkKeys` keys per transaction, so pushes (which need
    /// the store's writer) wait for one chunk at most, not for the whole fold. Each chunk's
    /// states record the fold's mark, so readers skip what they hold whatever they read
    /// first; a crash between chunks leaves the log whole and the next fold finishes. A fold
    /// already running in this process makes this one do nothing (or, with `wait`, run after
    /// it); a full fold another process made first makes this one's last step do nothing.
    func fold(
        _ store: any OnlineStore, programs: (String) -> AggregationProgram?, now: Int64, hotKeysOnly: Bool = false,
        wait: Bool = false
    ) throws(OnlineStoreError) {
        guard store.keepsStateLog else { return }
        while !folding.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            guard wait else { return }
            usleep(1_000)
        }
        defer { folding.store(false, ordering: .releasing) }
        try follow(store, programs: programs, force: true)
        let (through, expected, views) = state.withLock { ($0.seen, $0.mark, $0.views) }
        let hot = settings.foldPushesPerKey
        let chunk = max(1, settings.foldChunkKeys)
        for (view, byKey) in views.sorted(by: { $0.key < $1.key }) {
            guard let program = programs(view) else { continue }
            var due: [(key: EntityKey, deltas: [Delta])] = []
            for (key, list) in byKey where !hotKeysOnly || list.count >= hot {
                let deltas = list.filter { $0.seq <= through && $0.program.takesSameInputs(as: program) }
                if !deltas.isEmpty { due.append((key, deltas)) }
            }
            guard !due.isEmpty else { continue }
            // In key order: each chunk is one stretch of the store's B-tree.
            due.sort { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
            let batch = FoldBatch(due.map(\.deltas), program: program)
            for start in stride(from: 0, to: due.count, by: chunk) {
                let range = start..<min(due.count, start + chunk)
                let keys = due[range].map(\.key)
                let update = OnlineStateUpdate(view: view, keys: keys) { index, held in
                    batch.merged(held, start + index, now: now, mark: through)
                }
                try store.write([], states: [update], log: OnlineLogChange())
                state.withLock { PendingStates.drop(through: through, keys: [view: keys], in: &$0) }
            }
        }
        guard !hotKeysOnly else { return }
        do {
            try store.write([], states: [], log: OnlineLogChange(foldThrough: through, expectedMark: expected))
        } catch  where error.kind == .conflict {
            // Another process folded first: its fold removed these records; follow it.
            try follow(store, programs: programs, force: true)
            return
        }
        state.withLock { state in
            PendingStates.drop(through: through, in: &state)
            state.mark = max(state.mark, through)
        }
    }

    /// Starts a full fold on another thread, unless one is running: pushes go on meanwhile.
    /// Its failure is kept in `lastFoldError` (the next fold retries).
    func foldInBackground(_ fold: @escaping @Sendable () throws(OnlineStoreError) -> Void) {
        guard !folding.load(ordering: .acquiring) else { return }
        // A thread of its own: a fold blocks on the store for seconds, which would hold up a
        // thread of Swift's cooperative pool (and the server's tasks on it).
        Thread.detachNewThread { [self] in
            do throws(OnlineStoreError) {
                try fold()
                state.withLock { $0.lastFoldError = nil }
            } catch {
                state.withLock { $0.lastFoldError = error.description }
            }
        }
    }

    /// Why the last background fold failed (`nil`: it did not).
    public var lastFoldError: String? { state.withLock { $0.lastFoldError } }

    /// Drops the pending rows of `keys` (by view) from records up to `mark`.
    private static func drop(through mark: Int64, keys: [String: [EntityKey]], in state: inout State) {
        for (view, list) in keys {
            for key in list {
                guard let deltas = state.views[view]?[key] else { continue }
                let rest = deltas.filter { $0.seq > mark }
                state.views[view]?[key] = rest.isEmpty ? nil : rest
            }
        }
        // Rows still count until their records are folded (they are replayed on a restart).
        state.hottest = state.views.values.lazy.flatMap(\.values).map(\.count).max() ?? 0
    }
}

extension Array where Element == PendingStates.Delta {
    /// Appends `delta` in log order (records of other processes may arrive after later
    /// ones of this process).
    fileprivate mutating func insert(ordered delta: Element) {
        if let last, last.seq > delta.seq {
            insert(delta, at: firstIndex { $0.seq > delta.seq } ?? endIndex)
        } else {
            append(delta)
        }
    }
}

/// Every pending row a fold merges into one view's states, gathered into one batch of
/// events (records in log order), and per key where its pushes' rows sit in it: each key's
/// merge is then one pass over its rows, with no per-push copies.
struct FoldBatch: Sendable {
    /// Per key, its pushes in log order: number, push hash, rows in `events`.
    let keys: [[(seq: Int64, push: UInt64, rows: [Int])]]
    let events: AggregationProgram.Events
    let program: AggregationProgram

    init(_ lists: [[PendingStates.Delta]], program: AggregationProgram) {
        self.program = program
        // The distinct records, in log order, laid end to end.
        var records: [Int64: PendingStates.Record] = [:]
        for list in lists { for delta in list where records[delta.seq] == nil { records[delta.seq] = delta.record } }
        let order = records.keys.sorted()
        var offsets: [Int64: Int] = [:]
        var total = 0
        for seq in order {
            offsets[seq] = total
            total += records[seq]?.events.count ?? 0
        }
        var event: [Int64] = []
        var created: [Int64] = []
        event.reserveCapacity(total)
        created.reserveCapacity(total)
        var columns: [[Column]] = Array(repeating: [], count: program.inputColumns.count)
        for seq in order {
            guard let part = records[seq]?.events else { continue }
            event.append(contentsOf: part.event)
            created.append(
                contentsOf: part.created.count == part.count
                    ? part.created : Array(repeating: Int64.min, count: part.count))
            for (k, input) in program.inputColumns.enumerated() {
                let column = part.inputs.indices.contains(k) ? part.inputs[k] : Column(empty: input.type)
                columns[k].append(column.count == part.count ? column : Column(nulls: input.type, count: part.count))
            }
        }
        let inputs = program.inputColumns.enumerated().map { k, input in
            (try? Column.concatenate(columns[k])) ?? Column(nulls: input.type, count: total)
        }
        events = AggregationProgram.Events(event: event, created: created, inputs: inputs)
        var hashes: [Int64: UInt64] = [:]
        for (seq, record) in records { hashes[seq] = AggregationProgram.pushHash(record.push) }
        keys = lists.map { list in
            list.map { delta in
                let offset = offsets[delta.seq] ?? 0
                return (delta.seq, hashes[delta.seq] ?? 0, delta.rows.map { offset + $0 })
            }
        }
    }

    /// Key `index`'s state after its pushes not in `held` yet (by mark, then by remembered
    /// push), recording `mark` (or the held one, if later): what merging them one by one gives.
    func merged(_ held: [UInt8]?, _ index: Int, now: Int64, mark: Int64) -> [UInt8]? {
        let included = held.map { program.logMark($0) } ?? 0
        let before = program.rememberedPushes(held)
        let pending = keys[index].filter { $0.seq > included }
        let (counted, pushes) = program.counted(pending.map(\.push), after: before)
        let rows = counted.flatMap { pending[$0].rows }
        let next = max(mark, included)
        if rows.isEmpty && pushes == before {
            guard let held, next != included else { return held }
            return program.marked(held, next)
        }
        return program.merged(held, with: events, rows: rows[...], now: now, pushes: pushes, mark: next)
    }
}
