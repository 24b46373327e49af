import TesseraRegistry
import TesseraTesting
import Testing

/// The shared registry conformance suite, on the in-memory reference registry.
@Suite struct MemoryRegistryConformanceTests {
    @Test(arguments: RegistryStoreConformance.Check.allCases)
    func conformance(_ check: RegistryStoreConformance.Check) throws {
        try RegistryStoreConformance.run(check) { MemoryRegistry() }
    }
}
