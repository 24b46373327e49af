import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraRedis

extension RedisOnlineStore {
    /// How often a write whose held states another writer changed is tried again.
    static let stateAttempts = 32

    @discardableResult
    public func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate]) throws(OnlineStoreError)
        -> [OnlineWriteSummary]
    {
        // Everything that can be wrong with the input is found before anything is sent.
        var prepared: [PreparedRows] = []
        for batch in batches {
            prepared.append(try PreparedRows(batch, head: keys.rows(batch.view), configuration))
        }
        var rebuilt: [StateEntry] = []
        var checked: [OnlineStateUpdate] = []
        for update in states {
            if update.replacesAll {
                rebuilt += try rebuildEntries(update)
            } else {
                checked.append(update)
            }
        }
        let views = Set(batches.map(\.view) + states.map(\.view)).sorted()
        guard !views.isEmpty else { return [] }
        var layoutsSent: [UInt64: String] = [:]
        for rows in prepared where rows.winners > 0 { layoutsSent[rows.layoutID] = rows.spec }

        for _ in 0..<RedisOnlineStore.stateAttempts {
            let entries = rebuilt + (try checkedEntries(checked))
            let sha = try scriptSHA()
            var commands = RESPCommands()
            commands.begin(views.count + 2)
            commands.argument("SADD")
            commands.argument(keys.views)
            for view in views { commands.argument(view) }
            for (id, spec) in layoutsSent.sorted(by: { $0.key < $1.key }) {
                commands.begin(4)
                commands.argument("HSET")
                commands.argument(keys.layouts)
                commands.argument(RedisRowHeader.idBytes(id))
                commands.argument(spec)
            }
            let before = commands.count
            let parts = plan(prepared, entries: entries, hasChecks: !checked.isEmpty)
            for part in parts { appendScript(part, prepared, entries, sha: sha, to: &commands) }
            let replies = try round(commands)
            for (index, reply) in replies[..<min(before, replies.count)].enumerated() {
                try check(reply, doing: index == 0 ? "SADD" : "HSET")
            }
            var written = [Int](repeating: 0, count: prepared.count)
            var outcome = Outcome.done
            for (part, reply) in zip(parts, replies.dropFirst(before)) {
                switch try scriptReply(reply) {
                case .noScript: outcome = .noScript
                case .conflict: outcome = .conflict
                case .written(let counts):
                    for (batch, count) in zip(part.batches, counts) { written[batch] += count }
                }
            }
            switch outcome {
            case .noScript:
                // The server restarted (or flushed its scripts): load it again and redo; rows are
                // newest-wins and rebuilt states absolute, so redoing a part that landed changes nothing.
                loadedScript.withLock { $0 = nil }
                continue
            case .conflict:
                continue
            case .done:
                layouts.withLock { cache in
                    for (id, spec) in layoutsSent where cache[id] == nil { cache[id] = RowLayout(spec: spec) }
                }
                return zip(batches, written).map {
                    OnlineWriteSummary(received: $0.count, written: $1, skipped: $0.count - $1)
                }
            }
        }
        throw OnlineStoreError(
            .conflict,
            "other writers kept changing the aggregation state this write read (\(RedisOnlineStore.stateAttempts) attempts); nothing was written"
        )
    }

    private enum Outcome { case done, noScript, conflict }

    private enum ScriptReply {
        case written([Int])
        case conflict
        case noScript
    }

    private func scriptReply(_ reply: RESPValue) throws(OnlineStoreError) -> ScriptReply {
        switch reply {
        case .error(let message) where message.hasPrefix("NOSCRIPT"): return .noScript
        case .array(let values?):
            var numbers: [Int] = []
            for value in values {
                guard case .integer(let number) = value else { break }
                numbers.append(Int(number))
            }
            guard numbers.count == values.count, let status = numbers.first else { break }
            return status < 0 ? .conflict : .written(Array(numbers.dropFirst()))
        default: break
        }
        try check(reply, doing: "the write")
        throw OnlineStoreError(.io, "Redis at \(endpoint) answered a write with \(reply)")
    }

    /// The write script's SHA-1, loading the script when Redis does not have it yet.
    func scriptSHA() throws(OnlineStoreError) -> [UInt8] {
        if let sha = loadedScript.withLock({ $0 }) { return sha }
        let reply = try command(["SCRIPT", "LOAD", RedisWriteScript.source])
        guard let sha = reply.bytes else {
            throw OnlineStoreError(.io, "Redis at \(endpoint) answered SCRIPT LOAD with \(reply)")
        }
        loadedScript.withLock { $0 = sha }
        return sha
    }

    /// One script call's share of a write: row ranges of batches, and a range of state entries.
    struct Part {
        var rows: [(batch: Int, range: Range<Int>)] = []
        var states: Range<Int> = 0..<0
        var batches: [Int] { rows.map(\.batch) }
        var keyCount: Int { rows.reduce(0) { $0 + $1.range.count } + states.count }
    }

    /// Everything in one call when it is small or checks held states; else calls of at most
    /// `atomicKeys` keys, each within one batch.
    private func plan(_ prepared: [PreparedRows], entries: [StateEntry], hasChecks: Bool) -> [Part] {
        let total = prepared.reduce(0) { $0 + $1.winners } + entries.count
        if hasChecks || total <= configuration.atomicKeys {
            var part = Part()
            part.rows = prepared.indices.map { ($0, 0..<prepared[$0].winners) }
            part.states = 0..<entries.count
            return [part]
        }
        let size = max(1, configuration.atomicKeys)
        var parts: [Part] = []
        for (index, rows) in prepared.enumerated() {
            for start in stride(from: 0, to: rows.winners, by: size) {
                var part = Part()
                part.rows = [(index, start..<min(rows.winners, start + size))]
                parts.append(part)
            }
        }
        for start in stride(from: 0, to: entries.count, by: size) {
            var part = Part()
            part.states = start..<min(entries.count, start + size)
            parts.append(part)
        }
        return parts
    }

    private func appendScript(
        _ part: Part, _ prepared: [PreparedRows], _ entries: [StateEntry], sha: [UInt8], to out: inout RESPCommands
    ) {
        let n = part.rows.reduce(0) { $0 + $1.range.count }
        let m = part.states.count
        let b = part.rows.count
        out.begin(3 + n + m + 3 + b + 2 * n + 3 * m)
        out.argument("EVALSHA")
        out.argument(sha)
        out.argument(n + m)
        for (batch, range) in part.rows {
            let rows = prepared[batch]
            for winner in range { out.argument(rows.head, rows.key(winner)) }
        }
        for index in part.states { out.argument(entries[index].key) }
        out.argument(n)
        out.argument(m)
        out.argument(b)
        var end = 0
        for (_, range) in part.rows {
            end += range.count
            out.argument(end)
        }
        for (batch, range) in part.rows {
            let rows = prepared[batch]
            for winner in range {
                out.argument(rows.values[rows.offsets[winner]..<rows.offsets[winner + 1]])
                out.argument(rows.expiry.map { Int($0[winner]) } ?? 0)
            }
        }
        for index in part.states {
            let entry = entries[index]
            out.argument(entry.flag)
            out.argument(entry.held ?? [])
            out.argument(entry.next ?? [])
        }
    }

    /// A rebuild's entries: every key's new state, and a delete of each state of the view
    /// the rebuild does not keep.
    private func rebuildEntries(_ update: OnlineStateUpdate) throws(OnlineStoreError) -> [StateEntry] {
        let head = keys.states(update.view)
        var entries: [StateEntry] = []
        var kept = Set<[UInt8]>()
        for (index, key) in update.keys.enumerated() {
            guard let next = update.transform(index, nil) else { continue }
            let full = head + key.bytes
            kept.insert(full)
            entries.append(StateEntry(key: full, flag: "xs", held: nil, next: next))
        }
        for stale in try scan(RedisKeyspace.pattern(head)) where !kept.contains(stale) {
            entries.append(StateEntry(key: stale, flag: "xd", held: nil, next: nil))
        }
        return entries
    }

    /// The entries of read-modify-write updates: each key's held state now, and its new one.
    private func checkedEntries(_ updates: [OnlineStateUpdate]) throws(OnlineStoreError) -> [StateEntry] {
        var entries: [StateEntry] = []
        for update in updates where !update.keys.isEmpty {
            let held = try readStates(view: update.view, keys: update.keys)
            let head = keys.states(update.view)
            for (index, key) in update.keys.enumerated() {
                let old = held[index]
                let next = update.transform(index, old)
                if old == next { continue }
                let flag = (old == nil ? "n" : "v") + (next == nil ? "d" : "s")
                entries.append(StateEntry(key: head + key.bytes, flag: flag, held: old, next: next))
            }
        }
        return entries
    }
}

/// One aggregation-state change for the write script.
struct StateEntry {
    var key: [UInt8]
    var flag: String
    var held: [UInt8]?
    var next: [UInt8]?
}

/// A batch ready to send: the winning row per key, each as its stored value (header and
/// encoded features) in one buffer.
struct PreparedRows {
    let head: [UInt8]
    let keys: EncodedKeys
    /// The winning row of each key, in key order.
    let rows: [Int]
    let values: [UInt8]
    /// `winners + 1` offsets into `values`.
    let offsets: [Int]
    /// Per winner, when Redis may evict it (ms since the epoch); `nil`: never.
    let expiry: [Int64]?
    let layoutID: UInt64
    let spec: String

    var winners: Int { rows.count }

    func key(_ winner: Int) -> ArraySlice<UInt8> {
        let row = rows[winner]
        return keys.bytes[keys.offsets[row]..<keys.offsets[row + 1]]
    }

    init(
        _ batch: OnlineWriteBatch, head: [UInt8], _ configuration: RedisOnlineStore.Configuration
    ) throws(OnlineStoreError) {
        self.head = head
        let layout = RowLayout(fields: zip(batch.featureNames, batch.features.map(\.type)).map { ($0, $1) })
        spec = layout.spec
        layoutID = RedisRowHeader.layoutID(spec)
        guard batch.count > 0 else {
            (keys, rows, values, offsets, expiry) = (
                try EncodedKeys(columns: batch.joinKeys, rows: 0), [], [], [0], nil
            )
            return
        }
        let keys = try EncodedKeys(columns: batch.joinKeys, rows: batch.count)
        self.keys = keys
        let rows = NewestPerKey.select(keys: keys, events: batch.eventTimestamps, created: batch.createdTimestamps)
        self.rows = rows
        let encoded = layout.encode(columns: batch.features, rows: rows)
        var values: [UInt8] = []
        values.reserveCapacity(encoded.bytes.count + rows.count * RedisRowHeader.size)
        var offsets = [0]
        offsets.reserveCapacity(rows.count + 1)
        for (winner, row) in rows.enumerated() {
            RedisRowHeader.append(
                event: batch.eventTimestamps[row], created: batch.createdTimestamps?[row] ?? .min, layout: layoutID,
                to: &values)
            values.append(contentsOf: encoded.bytes[encoded.offsets[winner]..<encoded.offsets[winner + 1]])
            offsets.append(values.count)
        }
        self.values = values
        self.offsets = offsets
        if configuration.expireKeys && batch.ttl > .zero {
            let keep = (batch.ttl.microseconds + configuration.expireGrace.microseconds) / 1000
            // A row already past it is written to expire at once: it never replaces a newer row,
            // and the key it would hold is dead.
            expiry = rows.map { max(1, batch.eventTimestamps[$0] / 1000 &+ keep) }
        } else {
            expiry = nil
        }
    }
}
