import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// The online side of a view's window aggregations: what one entity key's state holds, how
/// new events merge into it, and how features are read from it at a time `t`.
///
/// A key's state is its source rows (event time, created time and the input columns) with
/// event time at or after `now − longest window`, sorted by (event, created). Reads evaluate
/// with `WindowEvaluator`, the code training sets use, so a read at `t` gives the bits a
/// training set computes for an entity row at `t` over the same rows: exactly, for every
/// window position (no hop, no tile rounding).
///
/// A class (immutable) so that every lookup shares it instead of copying its fields.
public final class AggregationProgram: Sendable {
    public let view: String
    /// The view's aggregated features, in view order.
    public let features: [Feature]
    let layout: AggregationInputsLayout
    let reader: AggregationReader
    /// The reader's input tags: what every state view of this program parses with.
    var stateInputs: StateView.Inputs { reader.stateInputs }

    /// The columns a key's state keeps (the aggregations' inputs), as views name them.
    public var inputColumns: [(name: String, type: ValueType)] { layout.inputs }
    /// The longest window in microseconds; `nil` when a window is `lifetime`.
    public var longestWindow: Int64? { layout.longest }
    /// Whether some feature has a `lifetime` window: its state then folds the rows older
    /// than `rawSpan` before now into running aggregates instead of dropping them.
    public var hasLifetimeWindows: Bool { !reader.lifetime.isEmpty }
    /// How far back from now a state with lifetime windows holds rows raw: its longest
    /// duration window, and at least an hour (so a replica whose clock is behind the writer's
    /// by less still reads its lifetime values exactly).
    let rawSpan: Int64
    static let minimumRawSpan: Int64 = 3_600_000_000

    public init(view: FeatureView) {
        self.view = view.name
        features = view.aggregatedFeatures
        layout = AggregationInputsLayout(features)
        reader = AggregationReader(features: features, layout: layout)
        var longestDuration: Int64 = 0
        for feature in features {
            if case .length(let span)? = feature.aggregation?.window {
                longestDuration = max(longestDuration, span.microseconds)
            }
        }
        rawSpan = max(longestDuration, AggregationProgram.minimumRawSpan)
    }

    /// Some source rows of one key: event and created times (microseconds; `Int64.min` for
    /// no created time) and one column per input, all of equal length.
    public struct Events: Sendable, Equatable {
        public var event: [Int64]
        public var created: [Int64]
        public var inputs: [Column]

        public init(event: [Int64], created: [Int64], inputs: [Column]) {
            self.event = event
            self.created = created
            self.inputs = inputs
        }

        public var count: Int { event.count }
    }

    /// How many recent pushes a state remembers, so a retried push is not counted twice.
    public static let rememberedPushes = 32

    /// The rows of `new` and of the held state that some window at or after `now` can
    /// contain (event ≥ now − longest window), sorted by (event, created); `nil` when none is.
    ///
    /// - Parameters:
    ///   - rows: the rows of `new` that are this key's (all of them when `nil`): one batch of
    ///     many keys serves each key's merge without being copied apart.
    ///   - push: the push's id (`PushID`): a push the state already took (a client's retry)
    ///     changes nothing, as the offline push log takes it once.
    ///   - mark: the log mark the result records (`logMark(_:)`); `nil` keeps the held one.
    public func merged(
        _ held: [UInt8]?, with new: Events, rows: ArraySlice<Int>? = nil, now: Int64, push: String? = nil,
        mark: Int64? = nil
    ) -> [UInt8]? {
        let pushHash = push.map(AggregationProgram.hash)
        let selected = rows ?? Array(new.event.indices)[...]
        return (held ?? []).withUnsafeBytes { raw in
            let view = held == nil ? nil : StateView(raw, inputs: stateInputs)
            let heldPushes = view?.pushes() ?? []
            let taken = pushHash.map { heldPushes.contains($0) } ?? false
            let pushes = taken ? heldPushes : remembered(heldPushes, adding: pushHash)
            return merge(
                held, view, new, rows: taken ? [] : selected, pushes: pushes, now: now,
                mark: mark ?? view?.mark ?? 0)
        }
    }

    /// `rows` of `new` merged into `held`, recording exactly `pushes` and `mark`: for callers
    /// that decided which pushes count themselves (a fold of many pushes, with
    /// `rememberedPushes(_:)`, `remembering(_:_:)` and `pushHash(_:)`).
    public func merged(
        _ held: [UInt8]?, with new: Events, rows: ArraySlice<Int>, now: Int64, pushes: [UInt64], mark: Int64
    ) -> [UInt8]? {
        (held ?? []).withUnsafeBytes { raw in
            let view = held == nil ? nil : StateView(raw, inputs: stateInputs)
            return merge(held, view, new, rows: rows, pushes: pushes, now: now, mark: mark)
        }
    }

    /// The hashes of the pushes a state remembers, oldest first (none for `nil` or bytes that
    /// are not a state of this program).
    public func rememberedPushes(_ state: [UInt8]?) -> [UInt64] {
        guard let state else { return [] }
        return state.withUnsafeBytes { StateView($0, inputs: stateInputs)?.pushes() ?? [] }
    }

    /// Which of the pushes `hashes` (in order) a state remembering `held` takes, as one
    /// merge after another decides — a push counts unless remembered at its turn — and the
    /// pushes remembered after them. Folds and reads of pending pushes both decide here.
    public func counted(_ hashes: [UInt64], after held: [UInt64]) -> (counted: [Int], remembered: [UInt64]) {
        var pushes = held
        var counted: [Int] = []
        for (index, hash) in hashes.enumerated() where !pushes.contains(hash) {
            pushes = remembered(pushes, adding: hash)
            counted.append(index)
        }
        return (counted, pushes)
    }

    /// The hash a state remembers a push by.
    public static func pushHash(_ id: String) -> UInt64 { hash(id) }

    /// One push's rows of one key: what `merged(_:parts:now:mark:)` takes.
    public struct Part: Sendable {
        public var events: Events
        public var rows: ArraySlice<Int>
        public var push: String

        public init(events: Events, rows: ArraySlice<Int>, push: String) {
            self.events = events
            self.rows = rows
            self.push = push
        }
    }

    /// `parts` merged into `held` in order, in one copy of the state: the bytes merging them
    /// one after another gives (the same rows in the same order, the same remembered pushes).
    public func merged(_ held: [UInt8]?, parts: [Part], now: Int64, mark: Int64? = nil) -> [UInt8]? {
        if parts.count == 1, let part = parts.first {
            return merged(held, with: part.events, rows: part.rows, now: now, push: part.push, mark: mark)
        }
        return (held ?? []).withUnsafeBytes { raw in
            let view = held == nil ? nil : StateView(raw, inputs: stateInputs)
            let (counted, pushes) = self.counted(
                parts.map { AggregationProgram.hash($0.push) }, after: view?.pushes() ?? [])
            let nextMark = mark ?? view?.mark ?? 0
            if counted.count <= 1 {
                let only = counted.first.map { parts[$0] }
                let none = Events(event: [], created: [], inputs: [])
                return merge(
                    held, view, only?.events ?? none, rows: only?.rows ?? [], pushes: pushes, now: now,
                    mark: nextMark)
            }
            // The counted rows gathered into one batch, in push order.
            var references: [Int] = []
            var sizes: [Int] = []
            var offset = 0
            for index in counted {
                let part = parts[index]
                references.append(contentsOf: part.rows.map { offset + $0 })
                sizes.append(part.events.count)
                offset += part.events.count
            }
            let positions = Column.ChunkPositions(references, chunkSizes: sizes)
            var event: [Int64] = []
            var created: [Int64] = []
            event.reserveCapacity(references.count)
            created.reserveCapacity(references.count)
            for (chunk, row) in zip(positions.chunk, positions.row) {
                let part = parts[counted[Int(chunk)]].events
                event.append(part.event[row])
                created.append(row < part.created.count ? part.created[row] : Int64.min)
            }
            var inputs: [Column] = []
            for (k, input) in layout.inputs.enumerated() {
                let chunks = counted.map { index -> Column in
                    let part = parts[index].events
                    guard part.inputs.indices.contains(k), part.inputs[k].count == part.count else {
                        return Column(nulls: input.type, count: part.count)
                    }
                    return part.inputs[k]
                }
                inputs.append(
                    (try? Column.take(from: chunks, positions)) ?? Column(nulls: input.type, count: event.count))
            }
            let gathered = Events(event: event, created: created, inputs: inputs)
            return merge(
                held, view, gathered, rows: Array(gathered.event.indices)[...], pushes: pushes, now: now,
                mark: nextMark)
        }
    }

    /// The merge itself: `rows` of `new` (those some window at or after `now` can hold)
    /// merged into the held state `view` of bytes `held`, recording `pushes` and `mark`.
    ///
    /// With lifetime windows, rows older than the fold boundary — `now − rawSpan`, never
    /// moving back — are folded into the running aggregates (held rows as they pass it, new
    /// ones at once): every row stays in the lifetime values, and the raw rows stay bounded.
    private func merge(
        _ held: [UInt8]?, _ view: StateView?, _ new: Events, rows: ArraySlice<Int>, pushes: [UInt64], now: Int64,
        mark: Int64
    ) -> [UInt8]? {
        let lifetime = hasLifetimeWindows
        let horizon =
            lifetime
            ? max(view?.foldBoundary ?? Int64.min, now &- rawSpan) : (layout.longest.map { now &- $0 } ?? Int64.min)
        // New rows in window order (ties keep arrival order), the expired ones left out (or,
        // with lifetime windows, set apart to fold). Through buffer pointers: materializing a
        // view merges every key's rows here.
        let (event, created) = (new.event, new.created)
        func newKey(_ r: Int) -> (Int64, Int64) { (event[r], r < created.count ? created[r] : Int64.min) }
        var fresh: [Int] = []
        var old: [Int] = []
        var inOrder = true
        event.withUnsafeBufferPointer { event in
            created.withUnsafeBufferPointer { created in
                fresh.reserveCapacity(rows.count)
                var last = (Int64.min, Int64.min)
                for r in rows {
                    guard event[r] >= horizon else {
                        if lifetime { old.append(r) }
                        continue
                    }
                    let key = (event[r], r < created.count ? created[r] : Int64.min)
                    if key < last { inOrder = false }
                    last = key
                    fresh.append(r)
                }
            }
        }
        if !inOrder {
            fresh.sort {
                let (a, b) = (newKey($0), newKey($1))
                return (a.0, a.1, $0) < (b.0, b.1, $1)
            }
        }
        let version = lifetime ? StateRows.lifetimeVersion : StateRows.version
        let start = view?.lowerBound(horizon) ?? 0
        var tail: [UInt8] = []
        var folded: Int64 = 0
        // Some lifetime aggregate lacks rows: the state is kept (even with no rows) so it
        // goes on saying so.
        var incomplete = false
        if lifetime {
            let specs = reader.lifetime
            // An aggregate a held state lacks stays missing (see `missing`); held bytes that
            // are no state of this program lost their history too.
            var partials =
                view?.partials(specs)
                ?? (held == nil ? specs.map(LifetimePartial.init) : specs.map { _ in .missing })
            folded = view?.foldedRows ?? 0
            var newest = view?.newestFolded ?? Int64.min
            if let view, start > 0 {
                // Held rows passing the boundary: folded after the aggregates they follow.
                let passing = view.rows(0..<start, inputs: layout.inputs).events(inputs: layout.inputs)
                for i in partials.indices { partials[i].fold(passing, rows: 0..<start, as: specs[i]) }
                folded &+= Int64(start)
                newest = max(newest, view.event(start - 1))
            }
            if !old.isEmpty {
                for i in partials.indices { partials[i].fold(new, rows: old, as: specs[i]) }
                folded &+= Int64(old.count)
                for r in old { newest = max(newest, event[r]) }
            }
            StateRows.tail(
                boundary: horizon, folded: folded, newest: folded > 0 ? newest : Int64.min, partials: partials,
                specs: specs, into: &tail)
            incomplete = partials.contains(.missing)
        }
        guard let view, let held else {
            // No held state (or one of an older layout): a state of the new rows alone.
            guard !fresh.isEmpty || folded > 0 || incomplete else { return nil }
            var out = StateRows.encode(
                new, rows: fresh, mark: mark, pushes: pushes, inputs: layout.inputs, version: version)
            out.append(contentsOf: tail)
            return out
        }
        if fresh.isEmpty && old.isEmpty && mark == view.mark && pushes == view.pushes() && start == 0
            && (!lifetime || (held.first == version && view.foldBoundary == horizon))
        {
            return held
        }
        // Held rows are sorted: merge the two sorted lists (held rows first on ties, as they
        // arrived first), then copy byte ranges.
        var order: [Int] = []
        order.reserveCapacity(view.count - start + fresh.count)
        var h = start
        var f = 0
        while h < view.count || f < fresh.count {
            if f == fresh.count || (h < view.count && (view.event(h), view.created(h)) <= newKey(fresh[f])) {
                order.append(h)
                h += 1
            } else {
                order.append(-fresh[f] - 1)
                f += 1
            }
        }
        guard !order.isEmpty || folded > 0 || incomplete else { return nil }
        var out = view.merging(
            new, order: order, mark: mark, pushes: pushes, inputs: layout.inputs, version: version)
        out.append(contentsOf: tail)
        return out
    }

    static func hash(_ push: String) -> UInt64 { Array(push.utf8).withUnsafeBytes { ValueHash.hash(bytes: $0) } }

    /// The last record of the pushed-event log a state includes (0 for none, or for bytes
    /// that are not a state of this program): log records up to it are already merged.
    public func logMark(_ state: [UInt8]) -> Int64 {
        state.withUnsafeBytes { StateView($0, inputs: stateInputs)?.mark ?? 0 }
    }

    /// `state` recording log mark `mark` (the same rows and remembered pushes).
    public func marked(_ state: [UInt8], _ mark: Int64) -> [UInt8] {
        if state.first == StateRows.version || state.first == StateRows.lifetimeVersion, state.count >= 9 {
            var out = state
            withUnsafeBytes(of: mark.littleEndian) { out.replaceSubrange(1..<9, with: $0) }
            return out
        }
        return state.withUnsafeBytes { raw in
            guard let view = StateView(raw, inputs: stateInputs) else { return state }
            let none = Events(event: [], created: [], inputs: [])
            return view.merging(
                none, order: Array(0..<view.count), mark: mark, pushes: view.pushes(), inputs: layout.inputs)
        }
    }

    /// Whether `other`'s state inputs are this program's (names and types, in order): rows
    /// decoded for one can be merged by the other.
    public func takesSameInputs(as other: AggregationProgram) -> Bool {
        other === self
            || (layout.inputs.count == other.layout.inputs.count
                && zip(layout.inputs, other.layout.inputs).allSatisfy { $0.name == $1.name && $0.type == $1.type })
    }

    /// `events` as bytes (every row, in order): how the pushed-event log stores a push's rows.
    public func encode(_ events: Events) -> [UInt8] {
        StateRows.encode(events, rows: Array(0..<events.count), pushes: [], inputs: layout.inputs)
    }

    /// The events `encode(_:)` wrote, or `nil` when `bytes` are not events of this program's
    /// inputs (a log record written before a breaking apply).
    public func decodeEvents(_ bytes: [UInt8]) -> Events? {
        StateRows.decode(bytes, inputs: layout.inputs)?.events(inputs: layout.inputs)
    }

    /// The last `rememberedPushes` of `pushes` and `push`.
    private func remembered(_ pushes: [UInt64], adding push: UInt64?) -> [UInt64] {
        guard let push else { return pushes }
        return Array((pushes + [push]).suffix(AggregationProgram.rememberedPushes))
    }

    /// The positions of the aggregated features `names` in this program (`-1` for an
    /// unknown name, which reads as nulls): what `values(_:selected:at:)` takes.
    public func selection(of names: [String]) -> [Int] { names.map { reader.index[$0] ?? -1 } }

    /// The values of the aggregated features `names` for each state at time `t` (one array
    /// per name, in the features' types; a key without state reads as having no rows) and
    /// each state's newest event time. Unknown names read as nulls.
    public func values(_ states: [[UInt8]?], features names: [String], at t: Int64)
        -> (values: [[ScalarValue]], newest: [Int64?])
    {
        let (flat, newest) = values(states, selected: selection(of: names), at: t)
        let rows = states.count
        return (names.indices.map { Array(flat[($0 * rows)..<(($0 + 1) * rows)]) }, newest)
    }

    /// The values of the features at `selected` (from `selection(of:)`) for each state at
    /// time `t`, feature-major (feature `s` of state `r` at `s × states.count + r`), and
    /// each state's newest event time.
    public func values(_ states: [[UInt8]?], selected: [Int], at t: Int64) -> (values: [ScalarValue], newest: [Int64?])
    {
        reader.read(states, selected: selected, at: t)
    }

    /// The newest event time in a state (`nil` for none or an unreadable state).
    public func newestEvent(_ state: [UInt8]) -> Int64? {
        state.withUnsafeBytes { raw in
            guard let view = StateView(raw, inputs: stateInputs) else { return nil }
            if view.count > 0 { return view.event(view.count - 1) }
            return view.foldedRows > 0 ? view.newestFolded : nil
        }
    }

}
