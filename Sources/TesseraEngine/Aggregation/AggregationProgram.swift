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

    /// The columns a key's state keeps (the aggregations' inputs), as views name them.
    public var inputColumns: [(name: String, type: ValueType)] { layout.inputs }
    /// The longest window in microseconds; `nil` when a window is `lifetime`.
    public var longestWindow: Int64? { layout.longest }

    public init(view: FeatureView) {
        self.view = view.name
        features = view.aggregatedFeatures
        layout = AggregationInputsLayout(features)
        reader = AggregationReader(features: features, layout: layout)
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
    public func merged(
        _ held: [UInt8]?, with new: Events, rows: ArraySlice<Int>? = nil, now: Int64, push: String? = nil
    ) -> [UInt8]? {
        let pushHash = push.map { id in Array(id.utf8).withUnsafeBytes { ValueHash.hash(bytes: $0) } }
        let horizon = layout.longest.map { now &- $0 } ?? Int64.min
        // New rows in window order (ties keep arrival order), the expired ones left out.
        var fresh = (rows ?? Array(new.event.indices)[...]).filter { new.event[$0] >= horizon }
        func newKey(_ r: Int) -> (Int64, Int64) { (new.event[r], r < new.created.count ? new.created[r] : Int64.min) }
        if !zip(fresh, fresh.dropFirst()).allSatisfy({ newKey($0) <= newKey($1) }) {
            fresh.sort { (new.event[$0], newKey($0).1, $0) < (new.event[$1], newKey($1).1, $1) }
        }
        func merge(_ bytes: [UInt8], _ view: StateView) -> [UInt8]? {
            if let pushHash, view.remembers(pushHash) { return bytes }
            // Held rows are sorted: merge the two sorted lists (held rows first on ties, as
            // they arrived first), then copy byte ranges.
            var order: [Int] = []
            order.reserveCapacity(view.count + fresh.count)
            var h = view.lowerBound(horizon)
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
            guard !order.isEmpty else { return nil }
            return view.merging(
                new, order: order, pushes: remembered(view.pushes(), adding: pushHash), inputs: layout.inputs)
        }
        if let held,
            let result = held.withUnsafeBytes({ raw in StateView(raw, inputs: layout.inputs).map { merge(held, $0) } })
        {
            return result
        }
        // No held state (or one of an older layout): a state of the new rows alone.
        guard !fresh.isEmpty else { return nil }
        return StateRows.encode(new, rows: fresh, pushes: remembered([], adding: pushHash), inputs: layout.inputs)
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
            guard let view = StateView(raw, inputs: layout.inputs), view.count > 0 else { return nil }
            return view.event(view.count - 1)
        }
    }

}
