import Foundation
import TesseraColumnar
import TesseraCore
import TesseraOnline
import TesseraOnlineRedis
import TesseraRedis
import TesseraTesting
import Testing

/// The online store on a 3-master Redis Cluster the test starts: the conformance suite,
/// keys spread over every master, and reads and writes that follow `ASK` and `MOVED` while
/// a slot migrates behind the store's back.
@Suite(.serialized) struct RedisClusterTests {
    static func store(_ cluster: RedisClusterProcess, prefix: String, atomicKeys: Int = 4096) -> RedisOnlineStore {
        var configuration = RedisOnlineStore.Configuration()
        configuration.keyPrefix = prefix
        configuration.atomicKeys = atomicKeys
        // One seed is enough: the others are learned from the slot map.
        return RedisOnlineStore(
            cluster: [RedisEndpoint(host: "127.0.0.1", port: cluster.ports[0])], configuration: configuration)
    }

    @Test func conformanceOnACluster() throws {
        let cluster = try RedisClusterProcess()
        defer { cluster.stop() }
        // One cluster for every check: each starts empty under a prefix of its own.
        for check in OnlineStoreConformance.Check.allCases {
            try OnlineStoreConformance.run(check) { Self.store(cluster, prefix: "c-\(check)") }
        }
        // Bulk loads in parts of a few keys, over slots of every master.
        for check in [OnlineStoreConformance.Check.rowCounts, .aggregationStates, .dropView, .atomicAcrossViews] {
            try OnlineStoreConformance.run(check) { Self.store(cluster, prefix: "small-\(check)", atomicKeys: 5) }
        }
    }

    static func batch(_ ids: [Int64], event: Int64, value: Double) throws -> OnlineWriteBatch {
        try OnlineWriteBatch(
            view: "v", joinKeys: [.int64(ids)], eventTimestamps: .timestamp(ids.map { _ in event }),
            features: [("f", .float64(ids.map { _ in value }))])
    }

    @Test func keysSpreadAndRedirectionsAreFollowed() async throws {
        let cluster = try RedisClusterProcess()
        defer { cluster.stop() }
        let store = Self.store(cluster, prefix: "t")
        let ids = (0..<3000).map { Int64($0) }
        try store.write(try Self.batch(ids, event: 1_000_000, value: 1))
        for port in cluster.ports {
            let keys = Int(try cluster.cli(["-p", String(port), "DBSIZE"]).trimmingSpaces()) ?? 0
            #expect(keys > 500, "node \(port) holds \(keys) keys: rows spread over every master")
        }
        let all = try store.readRecords(view: "v", keys: ids.map(EntityKey.init(int64:)), features: ["f"])
        #expect(all.allSatisfy { $0?.values == [.float64(1)] })
        #expect(try store.rowCount(view: "v") == 3000)

        // The slot function against the server's own, on binary keys and hash tags.
        var rng = SplitMixRNG(seed: 11)
        var samples: [[UInt8]] = ["foo", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "a{b}c"].map {
            Array($0.utf8)
        }
        for _ in 0..<40 { samples.append((0..<(1 + rng.below(20))).map { _ in UInt8(rng.below(256)) }) }
        for sample in samples {
            let answer = try await Self.raw(cluster.ports[0], [Array("CLUSTER".utf8), Array("KEYSLOT".utf8), sample])
            #expect(answer == .integer(Int64(RedisSlot.of(sample))), "slot of \(sample)")
        }

        // Move the slot of driver 7's row to another master, step by step.
        let key = Array("t:r:v:".utf8) + EntityKey(int64: 7).bytes
        let slot = RedisSlot.of(key)
        var holder: Int?
        for port in cluster.ports {
            let answer = try await Self.raw(
                port, [Array("CLUSTER".utf8), Array("COUNTKEYSINSLOT".utf8), Array(String(slot).utf8)])
            if case .integer(let count) = answer, count > 0 { holder = port }
        }
        let source = try #require(holder, "a master holds the slot of driver 7's row")
        let target = try #require(cluster.ports.first(where: { $0 != source }))
        let sourceID = try cluster.cli(["-p", String(source), "CLUSTER", "MYID"]).trimmingSpaces()
        let targetID = try cluster.cli(["-p", String(target), "CLUSTER", "MYID"]).trimmingSpaces()
        try cluster.cli(["-p", String(target), "CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID])
        try cluster.cli(["-p", String(source), "CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID])
        let migrated = try await Self.raw(
            source,
            [
                Array("MIGRATE".utf8), Array("127.0.0.1".utf8), Array(String(target).utf8), [], Array("0".utf8),
                Array("5000".utf8), Array("KEYS".utf8), key,
            ])
        #expect(migrated == .simple("OK"), "\(migrated)")
        // Mid-migration the source answers ASK for the moved key: the store follows it.
        let asked = try store.readRecords(view: "v", keys: [EntityKey(int64: 7)], features: ["f"])
        #expect(asked.first??.values == [.float64(1)], "read through ASK")
        try store.write(try Self.batch([7], event: 2_000_000, value: 2))
        // The migration ends: every node learns the new owner; the store's map is stale (MOVED).
        for port in cluster.ports {
            try cluster.cli(["-p", String(port), "CLUSTER", "SETSLOT", String(slot), "NODE", targetID])
        }
        let moved = try store.readRecords(view: "v", keys: [EntityKey(int64: 7), EntityKey(int64: 8)], features: ["f"])
        #expect(moved.map { $0?.values } == [[.float64(2)], [.float64(1)]], "read through MOVED")
        try store.write(try Self.batch([7], event: 3_000_000, value: 3))
        let after = try store.readRecords(view: "v", keys: [EntityKey(int64: 7)], features: ["f"])
        #expect(after.first??.values == [.float64(3)])
        #expect(
            try cluster.cli(["-p", String(target), "CLUSTER", "COUNTKEYSINSLOT", String(slot)]).trimmingSpaces() != "0")
    }

    static func raw(_ port: Int, _ command: [[UInt8]]) async throws -> RESPValue {
        let connection = try await RedisConnection.connect(to: RedisEndpoint(host: "127.0.0.1", port: port))
        let reply = try await connection.send([command]).first ?? .bulk(nil)
        await connection.close()
        return reply
    }
}
