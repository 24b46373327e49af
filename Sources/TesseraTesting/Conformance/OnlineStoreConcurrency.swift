import TesseraColumnar
import TesseraCore
import TesseraOnline

/// What a store shared by several machines must hold under writers racing each other; each
/// store given is one "machine" (its own connections) on the same server.
public enum OnlineStoreConcurrency {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every store writes the same `keys` keys `rounds` times at once, with random event
    /// times and the event time as the value: each key ends with the newest row any of them wrote.
    public static func racingWritersKeepTheNewest(_ stores: [any OnlineStore], keys: Int = 50, rounds: Int = 30)
        async throws
    {
        let expected = try await withThrowingTaskGroup(of: [Int64: Int64].self) { group in
            for (w, store) in stores.enumerated() {
                group.addTask {
                    try await runOffPool {
                        var rng = SplitMixRNG(seed: UInt64(w + 1))
                        var newest: [Int64: Int64] = [:]
                        for _ in 0..<rounds {
                            let ids = (0..<keys).map { Int64($0) }
                            let events = ids.map { _ in Int64(rng.below(1_000_000)) * 1_000_000 }
                            try store.write(
                                try OnlineWriteBatch(
                                    view: "v", joinKeys: [.int64(ids)], eventTimestamps: .timestamp(events),
                                    features: [("f", .float64(events.map(Double.init)))]))
                            for (id, event) in zip(ids, events) { newest[id] = max(newest[id] ?? .min, event) }
                        }
                        return newest
                    }
                }
            }
            var all: [Int64: Int64] = [:]
            for try await newest in group { all.merge(newest) { max($0, $1) } }
            return all
        }
        let rows = try stores[0].readRecords(
            view: "v", keys: (0..<keys).map { EntityKey(int64: Int64($0)) }, features: ["f"])
        for (id, row) in rows.enumerated() {
            let newest = expected[Int64(id)] ?? 0
            guard row?.eventTimestamp.microseconds == newest, row?.values == [.float64(Double(newest))] else {
                throw Failure(
                    description: "key \(id) holds \(String(describing: row)), not the newest row (event \(newest))")
            }
        }
    }

    /// Every store appends its own byte to the aggregation state of `keys` `rounds` times at
    /// once (read-modify-writes): every byte is there at the end, none lost.
    public static func stateUpdatesLoseNothing(_ stores: [any OnlineStore], keys: [EntityKey], rounds: Int = 30)
        async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (w, store) in stores.enumerated() {
                group.addTask {
                    try await runOffPool {
                        for _ in 0..<rounds {
                            try store.write(
                                [],
                                states: [
                                    OnlineStateUpdate(view: "aggs", keys: keys) { _, held in (held ?? []) + [UInt8(w)] }
                                ])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        for (key, state) in zip(keys, try stores[0].readStates(view: "aggs", keys: keys)) {
            for w in stores.indices where state?.filter({ $0 == UInt8(w) }).count != rounds {
                throw Failure(description: "key \(key): writer \(w)'s updates were lost: \(String(describing: state))")
            }
            guard state?.count == rounds * stores.count else {
                throw Failure(
                    description: "key \(key) holds \(state?.count ?? 0) updates, expected \(rounds * stores.count)")
            }
        }
    }
}
