import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

/// Old writers (parquet-mr before LIST was specified) wrote lists in 2 levels:
/// `optional group xs (LIST) { repeated int64 element; }`. Its levels equal those of a
/// 3-level list with required elements, so rewriting such a file's footer gives a
/// genuine 2-level file with known content.
@Suite struct ParquetLegacyListTests {
    @Test func twoLevelListsReadLikeTheirThreeLevelTwins() throws {
        let folder = try TemporaryDirectory("parquet-legacy-list")
        defer { folder.remove() }
        let threeLevel = folder.file("three.parquet")
        let required = folder.file("required.parquet")
        try PythonOracle.run(ParquetOracleScripts.requiredElementList, arguments: [threeLevel, required])
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: threeLevel)))
        let original = try ParquetFile(bytes: bytes, name: "three")
        #expect(original.schema.fields.map(\.type) == [.int64, .list(.int64)])

        var metadata = original.metadata
        // Drop the middle `repeated group list` and make the element itself repeated.
        let listIndex = try #require(metadata.schema.firstIndex { $0.name == "list" })
        metadata.schema.remove(at: listIndex)
        metadata.schema[listIndex].repetition = .repeated
        metadata.schema[listIndex].name = "element"
        for group in metadata.rowGroups.indices {
            for column in metadata.rowGroups[group].columns.indices
            where metadata.rowGroups[group].columns[column].metaData?.pathInSchema.first == "xs" {
                metadata.rowGroups[group].columns[column].metaData?.pathInSchema = ["xs", "element"]
            }
        }
        let legacy = try ParquetFile(bytes: Self.replacingFooter(bytes, metadata), name: "two")
        #expect(legacy.schema == original.schema)
        let expected = try original.read()
        #expect(try legacy.read() == expected)
        #expect(expected.column(named: "xs")?.value(at: 3) == .list([.int64(0), .int64(1), .int64(2)]))
        #expect(expected.column(named: "xs")?.value(at: 7) == .null)

        // A bare `repeated int64 xs` at the top level: a list that is never null.
        let requiredBytes = Array(try Data(contentsOf: URL(fileURLWithPath: required)))
        let requiredList = try ParquetFile(bytes: requiredBytes, name: "required")
        var bare = requiredList.metadata
        bare.schema.removeSubrange(1...2)
        bare.schema[0].numChildren = 1
        bare.schema[1].name = "xs"
        bare.schema[1].repetition = .repeated
        for group in bare.rowGroups.indices { bare.rowGroups[group].columns[0].metaData?.pathInSchema = ["xs"] }
        let bareFile = try ParquetFile(bytes: Self.replacingFooter(requiredBytes, bare), name: "bare")
        #expect(bareFile.schema == Schema([Field("xs", .list(.int64), nullable: false)]))
        #expect(try bareFile.read().columns == (try requiredList.read().columns))
        #expect(try bareFile.read().column(named: "xs")?.value(at: 2) == .list([.int64(0), .int64(1)]))
    }

    static func replacingFooter(_ bytes: [UInt8], _ metadata: FileMetaData) -> [UInt8] {
        var encoder = CompactEncoder()
        metadata.encode(&encoder)
        let footerLength = Int(
            UInt32(bytes[bytes.count - 8]) | UInt32(bytes[bytes.count - 7]) << 8
                | UInt32(bytes[bytes.count - 6]) << 16 | UInt32(bytes[bytes.count - 5]) << 24)
        var rewritten = Array(bytes[0..<(bytes.count - 8 - footerLength)])
        rewritten += encoder.bytes
        let length = UInt32(encoder.bytes.count)
        rewritten += (0..<4).map { UInt8(truncatingIfNeeded: length >> UInt32(8 * $0)) }
        rewritten += Array("PAR1".utf8)
        return rewritten
    }
}
