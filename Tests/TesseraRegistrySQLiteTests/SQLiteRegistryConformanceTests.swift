import TesseraRegistry
import TesseraRegistrySQLite
import TesseraTesting
import Testing

/// The shared registry conformance suite, on the embedded SQLite registry.
@Suite struct SQLiteRegistryConformanceTests {
    @Test(arguments: RegistryStoreConformance.Check.allCases)
    func conformance(_ check: RegistryStoreConformance.Check) throws {
        let dir = try TemporaryDirectory("registry-conformance")
        defer { dir.remove() }
        try RegistryStoreConformance.run(check) { SQLiteRegistry(path: dir.file(".tessera/registry.db")) }
    }
}
