import TesseraOnline
import TesseraTesting
import Testing

/// The shared conformance suite, on the in-memory reference store.
@Suite struct MemoryOnlineStoreConformanceTests {
    @Test(arguments: OnlineStoreConformance.Check.allCases)
    func conformance(_ check: OnlineStoreConformance.Check) throws {
        try OnlineStoreConformance.run(check) { MemoryOnlineStore() }
    }
}
