import TesseraOnline
import TesseraOnlineRedis
import TesseraRedis
import TesseraTesting
import Testing

/// The shared conformance suite against a real redis-server (one per check: each starts empty).
@Suite struct RedisOnlineStoreConformanceTests {
    @Test(arguments: OnlineStoreConformance.Check.allCases)
    func conformance(_ check: OnlineStoreConformance.Check) throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        try OnlineStoreConformance.run(check) {
            RedisOnlineStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port))
        }
    }

    /// Bulk writes split into atomic parts give the same store as one part.
    @Test(arguments: [OnlineStoreConformance.Check.rowCounts, .duplicateKeysInOneBatch, .aggregationStates, .dropView])
    func conformanceInSmallParts(_ check: OnlineStoreConformance.Check) throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        var configuration = RedisOnlineStore.Configuration()
        configuration.atomicKeys = 7
        try OnlineStoreConformance.run(check) {
            RedisOnlineStore(
                endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), configuration: configuration)
        }
    }
}
