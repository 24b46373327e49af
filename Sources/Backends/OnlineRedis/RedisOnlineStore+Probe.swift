import TesseraCore
import TesseraOnline
import TesseraRedis

extension RedisOnlineStore: BackendProbing {
    /// Connects, times `PING`, reads the server's version and mode, and writes, reads and
    /// removes a probe key under the store's prefix with the commands the store uses.
    public func probe(role: String) -> [BackendCheck] {
        var checks = BackendChecks(role: role)
        guard checks.connect("\(place) answers PING", { () throws(OnlineStoreError) in _ = try command(["PING"]) })
        else { return checks.all }

        let info = (try? command(["INFO", "server"]))?.string ?? ""
        let version = RedisOnlineStore.field("redis_version", in: info) ?? "unknown"
        let parts = version.split(separator: ".").compactMap { Int($0) }
        if parts.count >= 2, (parts[0], parts[1]) >= (6, 2) {
            checks.add("version", .ok, "Redis \(version) (6.2 or later needed)")
        } else {
            checks.add("version", .failed, "Redis \(version): Tessera needs 6.2 or later (SET … PXAT)")
        }
        if router.isCluster {
            let info = (try? command(["CLUSTER", "INFO"]))?.string ?? ""
            let state = RedisOnlineStore.field("cluster_state", in: info) ?? "unknown"
            let masters = (try? router.nodes().count) ?? 0
            checks.add(
                "cluster", state == "ok" ? .ok : .failed,
                "cluster_state \(state), \(masters) master(s) own the 16384 slots"
                    + (state == "ok" ? "" : ": some slots have no reachable master"))
        } else {
            let clusterInfo = (try? command(["INFO", "cluster"]))?.string ?? ""
            if RedisOnlineStore.field("cluster_enabled", in: clusterInfo) == "1" {
                checks.add(
                    "mode", .failed,
                    "the server runs in cluster mode: configure online_store.cluster with its nodes instead of url")
            }
        }

        // The commands the store runs, on a probe key that expires by itself if removing it fails.
        let probe = "\(configuration.keyPrefix):doctor:\(MonotonicClock.nanoseconds())"
        let (permissions, milliseconds) = Measure.timed { () throws(OnlineStoreError) in
            let probeSlot = slot(Array(probe.utf8))
            _ = try command(["SET", probe, "1", "PX", "60000"], slot: probeSlot)
            _ = try command(["GET", probe], slot: probeSlot)
            _ = try command(["UNLINK", probe], slot: probeSlot)
            _ = try scriptSHA()
            _ = try command([
                "SCAN", "0", "MATCH", RedisKeyspace.pattern(Array("\(configuration.keyPrefix):".utf8)), "COUNT", "10",
            ])
        }
        switch permissions {
        case .success:
            checks.add(
                "permissions", .ok,
                "SET, GET, UNLINK, SCRIPT LOAD and SCAN work on keys under '\(configuration.keyPrefix):'", milliseconds)
        case .failure(let error):
            checks.add("permissions", .failed, error.description)
        }
        if let policy = (try? command(["CONFIG", "GET", "maxmemory-policy"])),
            case .array(let pair?) = policy, pair.count == 2, let value = pair[1].string
        {
            if value.hasPrefix("allkeys") {
                checks.add(
                    "eviction", .warning,
                    "maxmemory-policy is \(value): under memory pressure Redis may drop rows that are still valid; volatile-ttl or noeviction keep them"
                )
            } else {
                checks.add("eviction", .ok, "maxmemory-policy is \(value)")
            }
        }
        return checks.all
    }

    static func field(_ name: String, in info: String) -> String? {
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingSpaces()
        }
        return nil
    }
}
