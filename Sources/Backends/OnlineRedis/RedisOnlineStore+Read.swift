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
        let values = try mget(keys.rows(view), entityKeys)
        var known = layouts.withLock { $0 }
        var missing: Set<UInt64> = []
        for value in values {
            guard let value, value.count >= RedisRowHeader.size else { continue }
            let id = value.withUnsafeBytes { RedisRowHeader.times($0).layout }
            if known[id] == nil { missing.insert(id) }
        }
        if !missing.isEmpty {
            try loadLayouts(missing)
            known = layouts.withLock { $0 }
        }
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
                            "a row of '\(view)' in Redis at \(endpoint) names a layout the store does not hold"))
                }
                if positions?.id != id { positions = (id, features.map { layout.position(of: $0) }) }
                let blob = UnsafeRawBufferPointer(rebasing: bytes[RedisRowHeader.size...])
                var decoded: [ScalarValue?] = []
                decoded.reserveCapacity(features.count)
                for position in positions?.positions ?? [] {
                    guard let position else {
                        decoded.append(nil)
                        continue
                    }
                    guard let scalar = layout.decode(position, from: blob) else { return .failure(corrupt(view)) }
                    decoded.append(scalar)
                }
                return .success(
                    OnlineRecord(
                        eventTimestamp: Timestamp(microseconds: event),
                        createdTimestamp: Timestamp(microseconds: created), values: decoded))
            }
            out.append(try decodedRecord.get())
        }
        return out
    }

    private func corrupt(_ view: String) -> OnlineStoreError {
        OnlineStoreError(.corrupt, "a stored row of '\(view)' in Redis at \(endpoint) does not match its layout")
    }

    public func readStates(view: String, keys entityKeys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?] {
        guard !entityKeys.isEmpty else { return [] }
        return try mget(keys.states(view), entityKeys)
    }

    /// The values of `head` + each key, in order, in one round trip.
    private func mget(_ head: [UInt8], _ entityKeys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?] {
        var commands = RESPCommands(reservingCapacity: 16 + entityKeys.count * (head.count + 24))
        commands.begin(entityKeys.count + 1)
        commands.argument("MGET")
        for key in entityKeys { commands.argument(head, key.bytes) }
        let reply = try round(commands).first ?? .bulk(nil)
        try check(reply, doing: "MGET")
        guard case .array(let values?) = reply, values.count == entityKeys.count else {
            throw OnlineStoreError(.io, "Redis at \(endpoint) answered MGET of \(entityKeys.count) keys with \(reply)")
        }
        return values.map(\.bytes)
    }

    /// Reads layouts written by other processes.
    private func loadLayouts(_ ids: Set<UInt64>) throws(OnlineStoreError) {
        let ordered = ids.sorted()
        var commands = RESPCommands()
        commands.begin(ordered.count + 2)
        commands.argument("HMGET")
        commands.argument(keys.layouts)
        for id in ordered { commands.argument(RedisRowHeader.idBytes(id)) }
        let reply = try round(commands).first ?? .bulk(nil)
        try check(reply, doing: "HMGET")
        guard case .array(let specs?) = reply, specs.count == ordered.count else { return }
        layouts.withLock { cache in
            for (id, spec) in zip(ordered, specs) {
                if let text = spec.string, let layout = RowLayout(spec: text) { cache[id] = layout }
            }
        }
    }

    public func stateCount(view: String) throws(OnlineStoreError) -> Int {
        try scan(RedisKeyspace.pattern(keys.states(view))).count
    }

    public func rowCount(view: String) throws(OnlineStoreError) -> Int {
        try scan(RedisKeyspace.pattern(keys.rows(view))).count
    }

    public func viewNames() throws(OnlineStoreError) -> [String] {
        let reply = try command(["SMEMBERS", keys.views])
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
                commands.begin(slice.count + 1)
                commands.argument("UNLINK")
                for key in slice { commands.argument(key) }
                for reply in try round(commands) { try check(reply, doing: "UNLINK") }
            }
        }
        _ = try command(["SREM", keys.views, view])
    }

    /// Every key matching `pattern` (`SCAN`, so the server is never blocked for long).
    func scan(_ pattern: String) throws(OnlineStoreError) -> [[UInt8]] {
        var cursor = "0"
        // SCAN may return a key twice (when the table is resized meanwhile).
        var found = Set<[UInt8]>()
        repeat {
            let reply = try command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])
            guard case .array(let parts?) = reply, parts.count == 2, let next = parts[0].string,
                case .array(let names?) = parts[1]
            else {
                throw OnlineStoreError(.io, "Redis at \(endpoint) answered SCAN with \(reply)")
            }
            for name in names { if let bytes = name.bytes { found.insert(bytes) } }
            cursor = next
        } while cursor != "0"
        return Array(found)
    }
}
