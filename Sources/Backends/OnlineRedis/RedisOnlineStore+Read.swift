import NIOCore
import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraRedis

extension RedisOnlineStore {
    public func readRecords(view: String, keys entityKeys: [EntityKey], features: [String]) throws(OnlineStoreError)
        -> [OnlineRecord?]
    {
        guard !entityKeys.isEmpty else { return [] }
        let values = try mget(keys.rows(view), entityKeys.map { $0.bytes[...] })
        let missing = missingLayouts(values)
        if !missing.isEmpty { try loadLayouts(missing) }
        return try decode(values, view: view, features: features).get()
    }

    /// The same read, answered by calling back: the `MGET` is sent from the calling thread
    /// (on an event loop, to a connection of that loop) and decoded where its reply arrives.
    public func readRecords(
        view: String, keys entityKeys: [EntityKey], features: [String],
        done: @escaping @Sendable (Result<[OnlineRecord?], OnlineStoreError>) -> Void
    ) {
        guard !entityKeys.isEmpty else { return done(.success([])) }
        let request = mgetRequest(keys.rows(view), entityKeys.map { $0.bytes[...] })
        router.sending(request.commands, slots: request.slots).whenComplete { result in
            let values: [[UInt8]?]
            switch result {
            case .failure(let error):
                return done(.failure(RedisOnlineStore.storeError(self.router.redisError(error))))
            case .success(let replies):
                do throws(OnlineStoreError) {
                    values = try self.mgetValues(replies, request)
                } catch {
                    return done(.failure(error))
                }
            }
            let missing = self.missingLayouts(values)
            guard !missing.isEmpty else { return done(self.decode(values, view: view, features: features)) }
            // Rows written by another process with a layout this one has not seen: a rare second trip.
            self.router.sending(self.layoutsCommand(missing), slots: [self.layoutsSlot])
                .whenComplete { result in
                    if case .success(let replies) = result { self.cacheLayouts(missing, replies.first ?? .bulk(nil)) }
                    done(self.decode(values, view: view, features: features))
                }
        }
    }

    /// The layout ids of `values` this process has not cached.
    private func missingLayouts(_ values: [[UInt8]?]) -> Set<UInt64> {
        let known = layouts.withLock { $0 }
        var missing: Set<UInt64> = []
        for value in values {
            guard let value, value.count >= RedisRowHeader.size else { continue }
            let id = value.withUnsafeBytes { RedisRowHeader.times($0).layout }
            if known[id] == nil { missing.insert(id) }
        }
        return missing
    }

    /// Stored values as records of `features`.
    private func decode(_ values: [[UInt8]?], view: String, features: [String]) -> Result<
        [OnlineRecord?], OnlineStoreError
    > {
        let known = layouts.withLock { $0 }
        var out: [OnlineRecord?] = []
        out.reserveCapacity(values.count)
        var positions: (id: UInt64, positions: [Int?])?
        for value in values {
            guard let value else {
                out.append(nil)
                continue
            }
            let decodedRecord = value.withUnsafeBytes { (bytes) -> Result<OnlineRecord, OnlineStoreError> in
                guard bytes.count >= RedisRowHeader.size else { return .failure(corrupt(view)) }
                let (event, created, id) = RedisRowHeader.times(bytes)
                guard let layout = known[id] else {
                    return .failure(
                        OnlineStoreError(
                            .corrupt,
                            "a row of '\(view)' in \(place) names a layout the store does not hold"))
                }
                if positions?.id != id { positions = (id, features.map { layout.position(of: $0) }) }
                let blob = UnsafeRawBufferPointer(rebasing: bytes[RedisRowHeader.size...])
                guard let decoded = layout.decode(positions?.positions ?? [], from: blob) else {
                    return .failure(corrupt(view))
                }
                return .success(
                    OnlineRecord(
                        eventTimestamp: Timestamp(microseconds: event),
                        createdTimestamp: Timestamp(microseconds: created), values: decoded))
            }
            switch decodedRecord {
            case .success(let record): out.append(record)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(out)
    }

    private func corrupt(_ view: String) -> OnlineStoreError {
        OnlineStoreError(.corrupt, "a stored row of '\(view)' in \(place) does not match its layout")
    }

    public func readStates(view: String, keys entityKeys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?] {
        guard !entityKeys.isEmpty else { return [] }
        return try mget(keys.states(view), entityKeys.map { $0.bytes[...] })
    }

    /// `MGET`s of `head` + each key: one on a single server; one per slot in a cluster
    /// (where a command may only name keys of one slot). `groups[i]`: the keys of command `i`.
    struct KeyedRead {
        var commands = RESPCommands()
        var slots: [Int]?
        var groups: [[Int]] = []
        var count = 0
    }

    func mgetRequest(_ head: [UInt8], _ tails: [ArraySlice<UInt8>]) -> KeyedRead {
        var request = KeyedRead()
        request.count = tails.count
        let bySlot = self.bySlot(tails.indices) { RedisSlot.of(head, tails[$0]) }
        let groups = bySlot.map(\.members)
        if router.isCluster { request.slots = bySlot.map(\.slot) }
        request.commands = RESPCommands(reservingCapacity: 16 + tails.count * (head.count + 24))
        for group in groups {
            request.commands.begin(group.count + 1)
            request.commands.argument("MGET")
            for index in group { request.commands.argument(head, tails[index]) }
        }
        request.groups = groups
        return request
    }

    /// The values of `head` + each key, in order (one round trip; per node in a cluster).
    func mget(_ head: [UInt8], _ tails: [ArraySlice<UInt8>]) throws(OnlineStoreError) -> [[UInt8]?] {
        guard !tails.isEmpty else { return [] }
        let request = mgetRequest(head, tails)
        return try mgetValues(try round(request.commands, slots: request.slots), request)
    }

    func mgetValues(_ replies: [RESPValue], _ request: KeyedRead) throws(OnlineStoreError) -> [[UInt8]?] {
        var out = [[UInt8]?](repeating: nil, count: request.count)
        for (group, reply) in zip(request.groups, replies) {
            try check(reply, doing: "MGET")
            guard case .array(let values?) = reply, values.count == group.count else {
                throw OnlineStoreError(.io, "\(place) answered MGET of \(group.count) keys with \(reply)")
            }
            for (index, value) in zip(group, values) { out[index] = value.bytes }
        }
        return out
    }

    private func layoutsCommand(_ ids: Set<UInt64>) -> RESPCommands {
        var commands = RESPCommands()
        commands.begin(ids.count + 2)
        commands.argument("HMGET")
        commands.argument(keys.layouts)
        for id in ids.sorted() { commands.argument(RedisRowHeader.idBytes(id)) }
        return commands
    }

    private func cacheLayouts(_ ids: Set<UInt64>, _ reply: RESPValue) {
        guard case .array(let specs?) = reply, specs.count == ids.count else { return }
        layouts.withLock { cache in
            for (id, spec) in zip(ids.sorted(), specs) {
                if let text = spec.string, let layout = RowLayout(spec: text) { cache[id] = layout }
            }
        }
    }

    /// Reads layouts written by other processes.
    private func loadLayouts(_ ids: Set<UInt64>) throws(OnlineStoreError) {
        let reply = try round(layoutsCommand(ids), slots: [layoutsSlot]).first ?? .bulk(nil)
        try check(reply, doing: "HMGET")
        cacheLayouts(ids, reply)
    }

    public func stateCount(view: String) throws(OnlineStoreError) -> Int {
        try scan(RedisKeyspace.pattern(keys.states(view))).count
    }

    public func rowCount(view: String) throws(OnlineStoreError) -> Int {
        try scan(RedisKeyspace.pattern(keys.rows(view))).count
    }

    public func viewNames() throws(OnlineStoreError) -> [String] {
        let reply = try command(["SMEMBERS", keys.views], slot: viewsSlot)
        guard case .array(let members?) = reply else { return [] }
        return members.compactMap(\.string).sorted()
    }

    /// Removes the view's rows and states (`UNLINK`: Redis frees them in the background).
    public func dropView(_ view: String) throws(OnlineStoreError) {
        for head in [keys.rows(view), keys.states(view)] {
            let found = try scan(RedisKeyspace.pattern(head))
            for start in stride(from: 0, to: found.count, by: 1000) {
                let slice = found[start..<min(found.count, start + 1000)]
                var commands = RESPCommands()
                var slots: [Int]?
                if router.isCluster {
                    // One key per command: keys of one command must share a slot.
                    slots = []
                    for key in slice {
                        commands.begin(2)
                        commands.argument("UNLINK")
                        commands.argument(key)
                        slots?.append(RedisSlot.of(key))
                    }
                } else {
                    commands.begin(slice.count + 1)
                    commands.argument("UNLINK")
                    for key in slice { commands.argument(key) }
                }
                for reply in try round(commands, slots: slots) { try check(reply, doing: "UNLINK") }
            }
        }
        _ = try command(["SREM", keys.views, view], slot: viewsSlot)
    }

    /// Every key matching `pattern` (`SCAN` on every node, so none is blocked for long).
    func scan(_ pattern: String) throws(OnlineStoreError) -> [[UInt8]] {
        // SCAN may return a key twice (when the table is resized meanwhile).
        var found = Set<[UInt8]>()
        for node in try nodes() {
            var cursor = "0"
            repeat {
                let reply = try command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"], on: node)
                guard case .array(let parts?) = reply, parts.count == 2, let next = parts[0].string,
                    case .array(let names?) = parts[1]
                else {
                    throw OnlineStoreError(.io, "\(place) answered SCAN with \(reply)")
                }
                for name in names { if let bytes = name.bytes { found.insert(bytes) } }
                cursor = next
            } while cursor != "0"
        }
        return Array(found)
    }
}
