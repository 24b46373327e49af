import TesseraOnline
import TesseraOnlineSQLite
import TesseraTesting
import Testing

/// The shared conformance suite, run on the embedded store in both table layouts.
@Suite struct SQLiteOnlineStoreConformanceTests {
    @Test(
        arguments: OnlineStoreConformance.Check.allCases,
        SQLiteOnlineStore.Configuration.TableLayout.allCases)
    func conformance(_ check: OnlineStoreConformance.Check, layout: SQLiteOnlineStore.Configuration.TableLayout)
        throws
    {
        let dir = try TemporaryDirectory("online-conformance")
        defer { dir.remove() }
        var configuration = SQLiteOnlineStore.Configuration()
        configuration.tableLayout = layout
        configuration.readers = 2
        try OnlineStoreConformance.run(check) {
            try SQLiteOnlineStore(path: dir.file(".tessera/online.db"), configuration: configuration)
        }
    }
}
