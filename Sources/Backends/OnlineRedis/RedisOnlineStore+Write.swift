import NIOCore
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraRedis

extension RedisOnlineStore {
    /// How often a write whose held states another writer changed is tried again.
    static let stateAttempts = 32
    /// Keys per `MSETNX` of a bulk load: large enough to make the command's own cost vanish,
    /// small enough that a group with one existing key sends few rows the slower way.
    static let msetGroup = 64

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
        let total = prepared.reduce(0) { $0 + $1.winners } + rebuilt.count
        if checked.isEmpty && total > configuration.atomicKeys {
            let written = try bulkWrite(prepared, rebuilt, views: views, layouts: layoutsSent)
            return zip(batches, written).map {
                OnlineWriteSummary(received: $0.count, written: $1, skipped: $0.count - $1)
            }
        }

        for _ in 0..<RedisOnlineStore.stateAttempts {
            let entries = rebuilt + (try checkedEntries(checked))
            let sha = try scriptSHA()
            var commands = RESPCommands()
            appendCatalog(views: views, layouts: layoutsSent, to: &commands)
            let before = commands.count
            // Everything in one call: atomic.
            var part = Part()
            part.rows = prepared.indices.map { ($0, Array(0..<prepared[$0].winners)) }
            part.states = 0..<entries.count
            appendScript(part, prepared, entries, sha: sha, to: &commands)
            let replies = try round(commands)
            for (index, reply) in replies[..<min(before, replies.count)].enumerated() {
                try check(reply, doing: index == 0 ? "SADD" : "HSET")
            }
            var written = [Int](repeating: 0, count: prepared.count)
            var outcome = Outcome.done
            for reply in replies.dropFirst(before) {
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

    /// One script call's share of a write: rows (winner numbers) of batches, and a range of
    /// state entries.
    struct Part {
        var rows: [(batch: Int, winners: [Int])] = []
        var states: Range<Int> = 0..<0
        var batches: [Int] { rows.map(\.batch) }
    }

    /// The views and layouts a write uses, recorded before its rows (pipelined commands run in order).
    private func appendCatalog(views: [String], layouts: [UInt64: String], to commands: inout RESPCommands) {
        commands.begin(views.count + 2)
        commands.argument("SADD")
        commands.argument(keys.views)
        for view in views { commands.argument(view) }
        for (id, spec) in layouts.sorted(by: { $0.key < $1.key }) {
            commands.begin(4)
            commands.argument("HSET")
            commands.argument(keys.layouts)
            commands.argument(RedisRowHeader.idBytes(id))
            commands.argument(spec)
        }
    }

    /// A bulk load (more than `atomicKeys` keys, no held state to check): each row first as
    /// `SET … NX` (with its expiry), or in groups by `MSETNX` (without), which lands at once
    /// where the keys are new (a first load: no script at all); the rows whose key exists
    /// (or whose group had one that does) then go through the write script, which keeps the
    /// newer. Per key this is newest-wins like every write; there is no atomicity across keys
    /// (a key deleted in between is simply set by the script). Parts go out at once over the
    /// pool's connections; the server serves other clients between them.
    /// - Returns: rows written per batch.
    private func bulkWrite(
        _ prepared: [PreparedRows], _ rebuilt: [StateEntry], views: [String], layouts: [UInt64: String]
    ) throws(OnlineStoreError) -> [Int] {
        let size = max(1, configuration.atomicKeys)
        var first = RESPCommands()
        appendCatalog(views: views, layouts: layouts, to: &first)
        var sends: [(commands: RESPCommands, rows: (batch: Int, winners: Range<Int>)?)] = [(first, nil)]
        for (index, rows) in prepared.enumerated() {
            for start in stride(from: 0, to: rows.winners, by: size) {
                let range = start..<min(rows.winners, start + size)
                var commands = RESPCommands(reservingCapacity: range.count * (rows.head.count + 64))
                if rows.expiry == nil {
                    // No expiry: MSETNX of groups, one command per group where every key is new.
                    for group in stride(from: range.lowerBound, to: range.upperBound, by: Self.msetGroup) {
                        let members = group..<min(range.upperBound, group + Self.msetGroup)
                        commands.begin(1 + 2 * members.count)
                        commands.argument("MSETNX")
                        for winner in members {
                            commands.argument(rows.head, rows.key(winner))
                            commands.argument(rows.values[rows.offsets[winner]..<rows.offsets[winner + 1]])
                        }
                    }
                    sends.append((commands, (index, range)))
                    continue
                }
                for winner in range {
                    let expiry = rows.expiry.map { Int($0[winner]) }
                    commands.begin(expiry == nil ? 4 : 6)
                    commands.argument("SET")
                    commands.argument(rows.head, rows.key(winner))
                    commands.argument(rows.values[rows.offsets[winner]..<rows.offsets[winner + 1]])
                    commands.argument("NX")
                    if let expiry {
                        commands.argument("PXAT")
                        commands.argument(expiry)
                    }
                }
                sends.append((commands, (index, range)))
            }
        }
        // A rebuild's states are absolute: plain SETs and UNLINKs.
        for start in stride(from: 0, to: rebuilt.count, by: size) {
            var commands = RESPCommands()
            for entry in rebuilt[start..<min(rebuilt.count, start + size)] {
                if let next = entry.next {
                    commands.begin(3)
                    commands.argument("SET")
                    commands.argument(entry.key)
                    commands.argument(next)
                } else {
                    commands.begin(2)
                    commands.argument("UNLINK")
                    commands.argument(entry.key)
                }
            }
            sends.append((commands, nil))
        }
        var written = [Int](repeating: 0, count: prepared.count)
        var existing: [[Int]] = Array(repeating: [], count: prepared.count)
        let futures = sends.map { client.sending($0.commands) }
        for (send, future) in zip(sends, futures) {
            let replies: [RESPValue]
            do {
                replies = try future.wait()
            } catch {
                throw RedisOnlineStore.storeError(RedisConnection.redisError(error, endpoint))
            }
            guard let (batch, range) = send.rows else {
                for reply in replies { try check(reply, doing: "a bulk write") }
                continue
            }
            if prepared[batch].expiry == nil {
                for (group, reply) in zip(
                    stride(from: range.lowerBound, to: range.upperBound, by: Self.msetGroup), replies)
                {
                    let members = group..<min(range.upperBound, group + Self.msetGroup)
                    switch reply {
                    case .integer(1): written[batch] += members.count
                    // Some key of the group exists: MSETNX set none of them.
                    case .integer(0): existing[batch] += members
                    default: try check(reply, doing: "MSETNX")
                    }
                }
                continue
            }
            for (winner, reply) in zip(range, replies) {
                switch reply {
                case .simple: written[batch] += 1
                case .bulk(nil): existing[batch].append(winner)
                default: try check(reply, doing: "SET NX")
                }
            }
        }
        // The keys that exist: newest-wins by the script, in parts.
        var parts: [Part] = []
        for (batch, winners) in existing.enumerated() {
            for start in stride(from: 0, to: winners.count, by: size) {
                var part = Part()
                part.rows = [(batch, Array(winners[start..<min(winners.count, start + size)]))]
                parts.append(part)
            }
        }
        for _ in 0..<2 where !parts.isEmpty {
            let sha = try scriptSHA()
            let futures = parts.map { part in
                var commands = RESPCommands()
                appendScript(part, prepared, [], sha: sha, to: &commands)
                return client.sending(commands)
            }
            var again: [Part] = []
            for (part, future) in zip(parts, futures) {
                let reply: RESPValue
                do {
                    reply = try future.wait().first ?? .bulk(nil)
                } catch {
                    throw RedisOnlineStore.storeError(RedisConnection.redisError(error, endpoint))
                }
                switch try scriptReply(reply) {
                case .noScript: again.append(part)
                case .conflict: break
                case .written(let counts):
                    for (batch, count) in zip(part.batches, counts) { written[batch] += count }
                }
            }
            if !again.isEmpty { loadedScript.withLock { $0 = nil } }
            parts = again
        }
        if !parts.isEmpty {
            throw OnlineStoreError(.io, "Redis at \(endpoint) lost the write script twice during one write")
        }
        return written
    }

    private func appendScript(
        _ part: Part, _ prepared: [PreparedRows], _ entries: [StateEntry], sha: [UInt8], to out: inout RESPCommands
    ) {
        let n = part.rows.reduce(0) { $0 + $1.winners.count }
        let m = part.states.count
        let b = part.rows.count
        out.begin(3 + n + m + 3 + b + 2 * n + 3 * m)
        out.argument("EVALSHA")
        out.argument(sha)
        out.argument(n + m)
        for (batch, winners) in part.rows {
            let rows = prepared[batch]
            for winner in winners { out.argument(rows.head, rows.key(winner)) }
        }
        for index in part.states { out.argument(entries[index].key) }
        out.argument(n)
        out.argument(m)
        out.argument(b)
        var end = 0
        for (_, winners) in part.rows {
            end += winners.count
            out.argument(end)
        }
        for (batch, winners) in part.rows {
            let rows = prepared[batch]
            for winner in winners {
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
