import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

/// Crafted files whose counts, widths and sizes claim far more than their bytes hold.
/// Each is read in a child process allowed 256 MiB more address space than it started
/// with: a reader that reserves memory from a claim dies there (or, for the larger
/// claims, dies anywhere), and the test fails. The reader must instead throw a
/// `FormatError` naming the file, the place and the reason, at once.
@Suite struct ParquetAllocationBoundTests {
    // MARK: FIXED_LEN_BYTE_ARRAY width × value count

    @Test func aFixedLengthPageClaimingMoreThanItsBytesIsAnErrorNotAnAllocation() async throws {
        let crafted = try Self.fixedLengthClaim()
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            [crafted = crafted as [UInt8]] in
            BoundedMemory.limitGrowth(megabytes: 256)
            ReadProbe.expectPromptError(crafted, name: "flba.parquet")
        }
        let said = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(said.contains("flba.parquet: row group 0, column 'id', page 0: PLAIN data holds 32 bytes"), "\(said)")
    }

    /// A required INT64 column of 4 PLAIN values (32 bytes) retyped as FIXED_LEN_BYTE_ARRAY
    /// of 1 MiB, its page, chunk and row group claiming 1Mi values: 1 TiB.
    static func fixedLengthClaim() throws -> [UInt8] {
        let claim: Int32 = 1 << 20
        let base = try written(
            [(Field("id", .int64, nullable: false), (0..<4).map { .int64($0) })],
            ParquetWriteOptions(compression: .uncompressed, dictionary: false))
        var layout = try ParquetLayout(base)
        layout.metadata.schema[1].type = .fixedLenByteArray
        layout.metadata.schema[1].typeLength = claim
        layout.metadata.rowGroups[0].columns[0].metaData?.type = .fixedLenByteArray
        layout.metadata.rowGroups[0].columns[0].metaData?.statistics = nil
        layout.pages[0][0][0].header.dataPageHeader?.numValues = claim
        return layout.bytes { meta in Self.claimRows(&meta, Int64(claim)) }
    }

    // MARK: Dictionary expansion

    @Test func aDictionaryPageExpandingPastTheCapIsAnErrorNotAnAllocation() async throws {
        let crafted = try Self.dictionaryExpansion()
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            [crafted = crafted as [UInt8]] in
            BoundedMemory.limitGrowth(megabytes: 256)
            ReadProbe.expectPromptError(crafted, name: "dictionary.parquet")
        }
        let said = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(
            said.contains(
                "dictionary.parquet: row group 0, column 's', page 1: dictionary-encoded page of 1048576 values expands to 1099511627776 bytes"
            ), "\(said)")
    }

    /// A dictionary of one 1 MiB string (zstd makes it a few dozen bytes) and a data page
    /// whose single RLE run repeats it 1Mi times: 1 TiB from a file of about 200 bytes.
    static func dictionaryExpansion() throws -> [UInt8] {
        let claim: Int32 = 1 << 20
        let base = try written(
            [(Field("s", .string, nullable: false), [.string("x")])], ParquetWriteOptions(compression: .zstd))
        var layout = try ParquetLayout(base)
        let entry = 1 << 20
        let dictionary = littleEndian32(entry) + [UInt8](repeating: 0x61, count: entry)
        var dictionaryHeader = PageHeader()
        dictionaryHeader.type = PageType.dictionaryPage.rawValue
        dictionaryHeader.dictionaryPageHeader = DictionaryPageHeader(numValues: 1, encoding: .plain)
        // Bit width 0, then one RLE run of `claim` copies of index 0.
        let indices = [0] + uleb(UInt64(claim) << 1)
        var dataHeader = PageHeader()
        dataHeader.type = PageType.dataPage.rawValue
        dataHeader.dataPageHeader = DataPageHeader(
            numValues: claim, encoding: .rleDictionary, definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle)
        layout.pages[0][0] = [
            try compressedPage(dictionaryHeader, dictionary, .zstd), try compressedPage(dataHeader, indices, .zstd),
        ]
        return layout.bytes { meta in Self.claimRows(&meta, Int64(claim)) }
    }

    // MARK: Per-page scratch sized from header counts

    enum ScratchClaim: String, CaseIterable, Sendable {
        /// A list column's page claiming the most values a page may have; its levels hold a few.
        case listLevels
        /// A required string column (no levels) claiming as many; its PLAIN values hold a few.
        case requiredValues
    }

    @Test(arguments: ScratchClaim.allCases)
    func aPageCountItsBytesDoNotHoldSizesNoScratch(_ claim: ScratchClaim) async throws {
        let crafted = try Self.scratchClaim(claim)
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            [crafted = crafted as [UInt8]] in
            BoundedMemory.limitGrowth(megabytes: 256)
            ReadProbe.expectPromptError(crafted, name: "scratch.parquet")
        }
        let said = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        let expected =
            claim == .listLevels
            ? "scratch.parquet: row group 0, column 'tags.list.element', page 0: definition levels hold"
            : "scratch.parquet: row group 0, column 'name', page 0: PLAIN data holds"
        #expect(said.contains(expected), "\(said)")
        #expect(said.contains("268435456"), "\(said)")
    }

    static func scratchClaim(_ claim: ScratchClaim) throws -> [UInt8] {
        let count = Int32(ReadLimits.maxPageValues)
        let options = ParquetWriteOptions(compression: .uncompressed, dictionary: false)
        switch claim {
        case .listLevels:
            let lists: [ScalarValue] = [.list([.string("a"), .string("b")]), .null, .list([.string("c")])]
            var layout = try ParquetLayout(try written([(Field("tags", .list(.string)), lists)], options))
            layout.pages[0][0][0].header.dataPageHeader?.numValues = count
            // A list chunk's value count is its level entries, which the rows do not fix.
            return layout.bytes { meta in meta.rowGroups[0].columns[0].metaData?.numValues = Int64(count) }
        case .requiredValues:
            let names: [ScalarValue] = [.string("a"), .string("bb"), .string("ccc")]
            var layout = try ParquetLayout(try written([(Field("name", .string, nullable: false), names)], options))
            layout.pages[0][0][0].header.dataPageHeader?.numValues = count
            return layout.bytes { meta in Self.claimRows(&meta, Int64(count)) }
        }
    }

    // MARK: Uncompressed page sizes

    struct SizeClaim: Sendable, CustomTestStringConvertible {
        var codec: ParquetCompression
        /// 0 is the dictionary page, 1 the data page.
        var page: Int
        var testDescription: String { "\(codec) \(page == 0 ? "dictionary" : "data") page" }
    }

    static let sizeClaims = [ParquetCompression.snappy, .gzip, .zstd, .lz4Raw].flatMap { codec in
        [0, 1].map { SizeClaim(codec: codec, page: $0) }
    }

    @Test(arguments: sizeClaims)
    func aPageClaimingMoreThanItsCodecCanExpandToIsAnErrorNotAnAllocation(_ claim: SizeClaim) async throws {
        let crafted = try Self.sizeClaim(claim)
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            [crafted = crafted as [UInt8]] in
            BoundedMemory.limitGrowth(megabytes: 256)
            ReadProbe.expectPromptError(crafted, name: "size.parquet")
        }
        let said = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(
            said.contains("size.parquet: row group 0, column 'id', page \(claim.page): page of "), "\(said)")
        #expect(said.contains("bytes claims 2147483647 bytes uncompressed; \(claim.codec) cannot expand it"), "\(said)")
    }

    /// 100 dictionary-encoded INT64 values whose dictionary or data page header says the
    /// page decompresses to 2 GiB.
    static func sizeClaim(_ claim: SizeClaim) throws -> [UInt8] {
        let base = try written(
            [(Field("id", .int64, nullable: false), (0..<100).map { .int64($0 % 10) })],
            ParquetWriteOptions(compression: claim.codec))
        var layout = try ParquetLayout(base)
        layout.pages[0][0][claim.page].header.uncompressedPageSize = Int32.max
        return layout.bytes()
    }

    // MARK: Footer list lengths

    @Test func aFooterListLongerThanItsElementsReservesLittle() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            BoundedMemory.limitGrowth(megabytes: 256)
            ReadProbe.expectPromptError(ParquetAllocationBoundTests.footerListClaim(), name: "footer.parquet")
        }
        let said = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(said.contains("footer.parquet: footer: corrupt file metadata: a schema element has no name"), "\(said)")
    }

    /// A footer whose schema list claims 8Mi elements: the count fits the 8 MiB of bytes
    /// that follow, but each element is a struct of a hundred bytes or so in memory.
    static func footerListClaim() -> [UInt8] {
        let claimed = 8 << 20
        // version = 1 (field 1, i32), then field 2 (schema): a list of structs, count follows.
        var footer: [UInt8] = [0x15, 0x02, 0x19, 0xFC] + uleb(UInt64(claimed))
        // The first element ends at once, without its required name.
        footer += [UInt8](repeating: 0, count: claimed)
        return ParquetFile.magic + footer + littleEndian32(footer.count) + ParquetFile.magic
    }

    // MARK: Helpers

    /// Makes the file, its row group and its (only) column chunk claim `rows` rows and values.
    static func claimRows(_ meta: inout FileMetaData, _ rows: Int64) {
        meta.numRows = rows
        meta.rowGroups[0].numRows = rows
        meta.rowGroups[0].columns[0].metaData?.numValues = rows
    }

    /// A file written by `ParquetWriter` holding `columns`.
    static func written(_ columns: [(Field, [ScalarValue])], _ options: ParquetWriteOptions) throws -> [UInt8] {
        let schema = Schema(columns.map(\.0))
        let built = columns.map { field, values in
            var builder = ColumnBuilder(type: field.type, capacity: values.count)
            for value in values { builder.append(value) }
            return builder.finish()
        }
        let folder = try TemporaryDirectory("parquet-bounds")
        defer { folder.remove() }
        let path = folder.file("seed.parquet")
        let writer = try ParquetWriter(path: path, schema: schema, options: options)
        try writer.write(try RecordBatch(schema: schema, columns: built))
        try writer.close()
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func compressedPage(_ header: PageHeader, _ body: [UInt8], _ codec: ParquetCompression) throws
        -> ParquetLayout.Page
    {
        var compressed: [UInt8] = []
        _ = try body.withUnsafeBytes { raw in try Codecs.compress(codec, raw, appendingTo: &compressed) }
        var header = header
        header.uncompressedPageSize = Int32(body.count)
        header.compressedPageSize = Int32(compressed.count)
        return ParquetLayout.Page(header: header, body: compressed)
    }

    static func uleb(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        return out + [UInt8(rest)]
    }

    static func littleEndian32(_ value: Int) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

extension ReadProbe {
    /// For a child process: reads `bytes`, which must fail with a `FormatError` naming
    /// `name` within 5 seconds. Says the error on standard error; exits with 1 otherwise.
    static func expectPromptError(_ bytes: [UInt8], name: String) {
        let clock = ContinuousClock()
        let start = clock.now
        let error = read(bytes, name: name)
        let elapsed = clock.now - start
        guard let error else {
            BoundedMemory.say("the crafted file read without an error")
            exit(1)
        }
        BoundedMemory.say("error: \(error)")
        BoundedMemory.say("after \(elapsed)")
        if error.file != name || elapsed > .seconds(5) { exit(1) }
    }
}
