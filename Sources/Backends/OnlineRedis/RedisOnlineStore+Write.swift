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
        let catalog = catalogCommands(views: views, layouts: layoutsSent)
        let total = prepared.reduce(0) { $0 + $1.winners } + rebuilt.count
        let written: [Int]
        if checked.isEmpty && total > configuration.atomicKeys {
            // Parts go out on several connections at once: the catalog lands first, on its own.
            try send(catalog)
            written = try bulkWrite(prepared, rebuilt)
        } else {
            written = try atomicWrite(prepared, rebuilt, checked, catalog: catalog)
        }
        layouts.withLock { cache in
            for (id, spec) in layoutsSent where cache[id] == nil { cache[id] = RowLayout(spec: spec) }
        }
        return zip(batches, written).map {
            OnlineWriteSummary(received: $0.count, written: $1, skipped: $0.count - $1)
        }
    }

    /// The views and layouts a write uses, recorded before its rows (a reader that finds a
    /// row finds its layout): `SADD` and `HSET`s, with their slots.
    private func catalogCommands(views: [String], layouts: [UInt64: String]) -> (
        commands: RESPCommands, slots: [Int]
    ) {
        var commands = RESPCommands()
        var slots: [Int] = []
        commands.begin(views.count + 2)
        commands.argument("SADD")
        commands.argument(keys.views)
        for view in views { commands.argument(view) }
        slots.append(viewsSlot)
        for (id, spec) in layouts.sorted(by: { $0.key < $1.key }) {
            commands.begin(4)
            commands.argument("HSET")
            commands.argument(keys.layouts)
            commands.argument(RedisRowHeader.idBytes(id))
            commands.argument(spec)
            slots.append(layoutsSlot)
        }
        return (commands, slots)
    }

    private func send(_ catalog: (commands: RESPCommands, slots: [Int])) throws(OnlineStoreError) {
        for reply in try round(catalog.commands, slots: catalog.slots) {
            try check(reply, doing: "SADD/HSET of the catalog")
        }
    }

    /// One script call's share of a write: rows (winner numbers) of batches, and state
    /// entries — all of one slot in a cluster.
    struct Part {
        var rows: [(batch: Int, winners: [Int])] = []
        var states: [Int] = []
        /// Checked updates of this part: (update, key index) whose entries are computed from
        /// the held states at each attempt.
        var checked: [(update: Int, key: Int)] = []
        var slot = 0
        var batches: [Int] { rows.map(\.batch) }
    }

    /// Small writes and writes that read held state: one script call on a server (atomic);
    /// one per slot in a cluster (atomic per slot). A part whose held states changed
    /// meanwhile is tried again with the states read anew; the others are done.
    ///
    /// On a single server the catalog goes in the first round, ahead of the script on the
    /// same connection (so in order, and a push costs one round trip, not two); a cluster
    /// may keep them on different nodes, so there it lands first, on its own.
    private func atomicWrite(
        _ prepared: [PreparedRows], _ rebuilt: [StateEntry], _ checked: [OnlineStateUpdate],
        catalog: (commands: RESPCommands, slots: [Int])
    ) throws(OnlineStoreError) -> [Int] {
        var catalogPending = !router.isCluster
        if router.isCluster { try send(catalog) }
        var bySlot: [Int: Part] = [:]
        for (batch, rows) in prepared.enumerated() where rows.winners > 0 {
            for (slot, winners) in self.bySlot(0..<rows.winners, { RedisSlot.of(rows.head, rows.key($0)) }) {
                bySlot[slot, default: Part(slot: slot)].rows.append((batch, winners))
            }
        }
        for (index, entry) in rebuilt.enumerated() {
            bySlot[slot(entry.key), default: Part(slot: slot(entry.key))].states.append(index)
        }
        for (u, update) in checked.enumerated() {
            let head = keys.states(update.view)
            for k in update.keys.indices {
                let s = slot(head, update.keys[k].bytes)
                bySlot[s, default: Part(slot: s)].checked.append((u, k))
            }
        }
        var pending = bySlot.values.sorted { $0.slot < $1.slot }
        var written = [Int](repeating: 0, count: prepared.count)
        var useEval = false
        for _ in 0..<RedisOnlineStore.stateAttempts {
            // The checked parts' entries from the states held now.
            var heldKeys: [[UInt8]] = []
            for part in pending {
                for (u, k) in part.checked { heldKeys.append(keys.states(checked[u].view) + checked[u].keys[k].bytes) }
            }
            let held = try mget([], heldKeys.map { $0[...] })
            var entries = rebuilt
            var at = 0
            var partEntries: [[Int]] = []
            for part in pending {
                var indices = part.states
                for (u, k) in part.checked {
                    let old = held[at]
                    at += 1
                    let next = checked[u].transform(k, old)
                    if old == next { continue }
                    let flag = (old == nil ? "n" : "v") + (next == nil ? "d" : "s")
                    entries.append(
                        StateEntry(key: heldKeys[at - 1], flag: flag, held: old, next: next))
                    indices.append(entries.count - 1)
                }
                partEntries.append(indices)
            }
            let sha = useEval ? nil : try scriptSHA()
            var commands = catalogPending ? catalog.commands : RESPCommands()
            let ahead = commands.count
            for (part, indices) in zip(pending, partEntries) {
                var sent = part
                sent.states = indices
                appendScript(sent, prepared, entries, sha: sha, to: &commands)
            }
            var replies = try round(commands, slots: router.isCluster ? pending.map(\.slot) : nil)
            for reply in replies.prefix(ahead) { try check(reply, doing: "SADD/HSET of the catalog") }
            replies.removeFirst(min(ahead, replies.count))
            catalogPending = false
            var again: [Part] = []
            for (part, reply) in zip(pending, replies) {
                switch try scriptReply(reply) {
                case .noScript:
                    // A node without the script (restarted, or never asked to load it): send it whole.
                    useEval = true
                    loadedScript.withLock { $0 = nil }
                    again.append(part)
                case .conflict: again.append(part)
                case .written(let counts):
                    for (batch, count) in zip(part.batches, counts) { written[batch] += count }
                }
            }
            pending = again
            if pending.isEmpty { return written }
        }
        throw OnlineStoreError(
            .conflict,
            "other writers kept changing the aggregation state this write read (\(RedisOnlineStore.stateAttempts) attempts); nothing more was written"
        )
    }

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
        throw OnlineStoreError(.io, "\(place) answered a write with \(reply)")
    }

    /// The write script's SHA-1, loading the script when Redis does not have it yet.
    func scriptSHA() throws(OnlineStoreError) -> [UInt8] {
        if let sha = loadedScript.withLock({ $0 }) { return sha }
        var sha: [UInt8]?
        // Every node loads it (a cluster's scripts are per node).
        for node in try nodes() {
            let reply = try command(["SCRIPT", "LOAD", RedisWriteScript.source], on: node)
            guard let bytes = reply.bytes else {
                throw OnlineStoreError(.io, "\(place) answered SCRIPT LOAD with \(reply)")
            }
            sha = bytes
        }
        guard let sha else { throw OnlineStoreError(.io, "\(place) has no node to load the write script on") }
        loadedScript.withLock { $0 = sha }
        return sha
    }

    /// A bulk load (more than `atomicKeys` keys, no held state to check): each row first as
    /// `SET … NX` (with its expiry), or in groups by `MSETNX` (without), which lands at once
    /// where the keys are new (a first load: no script at all); the rows whose key exists
    /// (or whose group had one that does) then go through the write script, which keeps the
    /// newer. Per key this is newest-wins like every write; there is no atomicity across keys
    /// (a key deleted in between is simply set by the script). Parts go out at once over the
    /// pool's connections; the server serves other clients between them. In a cluster, an
    /// `MSETNX` group holds keys of one slot.
    /// - Returns: rows written per batch.
    private func bulkWrite(_ prepared: [PreparedRows], _ rebuilt: [StateEntry]) throws(OnlineStoreError) -> [Int] {
        let size = max(1, configuration.atomicKeys)
        /// One send: its commands, their slots, and per command the rows it carries.
        struct Send {
            var commands = RESPCommands()
            var slots: [Int] = []
            var rows: [(batch: Int, winners: ArraySlice<Int>, grouped: Bool)?] = []
        }
        var sends: [Send] = []
        var current = Send()
        func flush() {
            if current.commands.count > 0 { sends.append(current) }
            current = Send()
        }
        for (batch, rows) in prepared.enumerated() where rows.winners > 0 {
            // Winners by slot (one group on a single server), in key order within each.
            for (slot, winners) in bySlot(0..<rows.winners, { RedisSlot.of(rows.head, rows.key($0)) }) {
                if rows.expiry == nil {
                    for start in stride(from: 0, to: winners.count, by: Self.msetGroup) {
                        let members = winners[start..<min(winners.count, start + Self.msetGroup)]
                        current.commands.begin(1 + 2 * members.count)
                        current.commands.argument("MSETNX")
                        for winner in members {
                            current.commands.argument(rows.head, rows.key(winner))
                            current.commands.argument(rows.values[rows.offsets[winner]..<rows.offsets[winner + 1]])
                        }
                        current.slots.append(slot)
                        current.rows.append((batch, members, true))
                        if current.commands.count * Self.msetGroup >= size { flush() }
                    }
                } else {
                    for winner in winners {
                        current.commands.begin(6)
                        current.commands.argument("SET")
                        current.commands.argument(rows.head, rows.key(winner))
                        current.commands.argument(rows.values[rows.offsets[winner]..<rows.offsets[winner + 1]])
                        current.commands.argument("NX")
                        current.commands.argument("PXAT")
                        current.commands.argument(Int(rows.expiry?[winner] ?? 0))
                        current.slots.append(slot)
                        current.rows.append((batch, [winner][...], false))
                        if current.commands.count >= size { flush() }
                    }
                }
            }
        }
        // A rebuild's states are absolute: plain SETs and UNLINKs.
        for entry in rebuilt {
            if let next = entry.next {
                current.commands.begin(3)
                current.commands.argument("SET")
                current.commands.argument(entry.key)
                current.commands.argument(next)
            } else {
                current.commands.begin(2)
                current.commands.argument("UNLINK")
                current.commands.argument(entry.key)
            }
            current.slots.append(slot(entry.key))
            current.rows.append(nil)
            if current.commands.count >= size { flush() }
        }
        flush()
        var written = [Int](repeating: 0, count: prepared.count)
        var existing: [[Int]] = Array(repeating: [], count: prepared.count)
        let futures = sends.map { router.sending($0.commands, slots: router.isCluster ? $0.slots : nil) }
        for (send, future) in zip(sends, futures) {
            let replies: [RESPValue]
            do {
                replies = try future.wait()
            } catch {
                throw RedisOnlineStore.storeError(router.redisError(error))
            }
            for (carried, reply) in zip(send.rows, replies) {
                guard let (batch, winners, grouped) = carried else {
                    try check(reply, doing: "a bulk write of states")
                    continue
                }
                switch reply {
                case .integer(1) where grouped, .simple where !grouped: written[batch] += winners.count
                // A key exists (in an MSETNX group: one of them, so none was set).
                case .integer(0) where grouped, .bulk(nil) where !grouped: existing[batch] += winners
                default: try check(reply, doing: grouped ? "MSETNX" : "SET NX")
                }
            }
        }
        // The keys that exist: newest-wins by the script, in parts (of one slot in a cluster).
        var parts: [Part] = []
        for (batch, winners) in existing.enumerated() where !winners.isEmpty {
            let rows = prepared[batch]
            for (slot, members) in bySlot(winners, { RedisSlot.of(rows.head, rows.key($0)) }) {
                for start in stride(from: 0, to: members.count, by: size) {
                    var part = Part(slot: slot)
                    part.rows = [(batch, Array(members[start..<min(members.count, start + size)]))]
                    parts.append(part)
                }
            }
        }
        var useEval = false
        for _ in 0..<2 where !parts.isEmpty {
            let sha = useEval ? nil : try scriptSHA()
            var commands = RESPCommands()
            for part in parts { appendScript(part, prepared, [], sha: sha, to: &commands) }
            let replies = try round(commands, slots: router.isCluster ? parts.map(\.slot) : nil)
            var again: [Part] = []
            for (part, reply) in zip(parts, replies) {
                switch try scriptReply(reply) {
                case .noScript: again.append(part)
                case .conflict: break
                case .written(let counts):
                    for (batch, count) in zip(part.batches, counts) { written[batch] += count }
                }
            }
            if !again.isEmpty {
                useEval = true
                loadedScript.withLock { $0 = nil }
            }
            parts = again
        }
        if !parts.isEmpty {
            throw OnlineStoreError(.io, "\(place) refused the write script twice during one write")
        }
        return written
    }

    /// One script call: `EVALSHA` when the script's digest is known, else `EVAL` with its text
    /// (which also loads it on the node that runs it).
    private func appendScript(
        _ part: Part, _ prepared: [PreparedRows], _ entries: [StateEntry], sha: [UInt8]?, to out: inout RESPCommands
    ) {
        let n = part.rows.reduce(0) { $0 + $1.winners.count }
        let m = part.states.count
        let b = part.rows.count
        out.begin(3 + n + m + 3 + b + 2 * n + 3 * m)
        if let sha {
            out.argument("EVALSHA")
            out.argument(sha)
        } else {
            out.argument("EVAL")
            out.argument(RedisWriteScript.source)
        }
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
    let winning: WinningRows
    /// Per winner: its header and encoded features (the stored value).
    let values: [UInt8]
    /// `winners + 1` offsets into `values`.
    let offsets: [Int]
    /// Per winner, when Redis may evict it (ms since the epoch); `nil`: never.
    let expiry: [Int64]?
    let layoutID: UInt64
    let spec: String

    var winners: Int { winning.count }

    func key(_ winner: Int) -> ArraySlice<UInt8> { winning.key(winner) }

    init(
        _ batch: OnlineWriteBatch, head: [UInt8], _ configuration: RedisOnlineStore.Configuration
    ) throws(OnlineStoreError) {
        self.head = head
        let winning = try WinningRows(batch)
        self.winning = winning
        spec = winning.layout.spec
        layoutID = winning.layout.digestID
        let rows = winning.rows
        var values: [UInt8] = []
        values.reserveCapacity(winning.values.bytes.count + rows.count * RedisRowHeader.size)
        var offsets = [0]
        offsets.reserveCapacity(rows.count + 1)
        for (winner, row) in rows.enumerated() {
            RedisRowHeader.append(
                event: batch.eventTimestamps[row], created: batch.createdTimestamps?[row] ?? .min, layout: layoutID,
                to: &values)
            values.append(contentsOf: winning.value(winner))
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
