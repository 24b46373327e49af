import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

@Suite struct ParquetWriterTests {
    /// The encodings of the data pages of column `column` in row group `group`, in file order.
    static func pageEncodings(_ file: ParquetFile, group: Int, column: Int) throws -> (
        dictionary: Bool, data: [ParquetEncoding]
    ) {
        let meta = try #require(file.metadata.rowGroups[group].columns[column].metaData)
        let start = Int(meta.dictionaryPageOffset ?? meta.dataPageOffset)
        let bytes = try file.source.bytes(offset: start, count: Int(meta.totalCompressedSize), location: nil)
        var dictionary = false
        var data: [ParquetEncoding] = []
        try bytes.withUnsafeBytes { raw in
            var position = 0
            while position < raw.count {
                var decoder = CompactDecoder(raw, position: position)
                let header = try PageHeader(decoding: &decoder)
                position = decoder.position + Int(header.compressedPageSize)
                if header.type == PageType.dictionaryPage.rawValue { dictionary = true }
                if let page = header.dataPageHeader { data.append(page.encoding) }
            }
        }
        return (dictionary, data)
    }

    @Test func dictionaryFallsBackToPlainWhenItOutgrowsItsLimit() throws {
        let folder = try TemporaryDirectory("parquet-fallback")
        defer { folder.remove() }
        let rows = 20_000
        let keys = (0..<rows).map { Int64($0 * 7919 % 100_003) }
        let names = (0..<rows).map { "key-\($0 % 5000)" }
        let small = (0..<rows).map { Int32($0 % 10) }
        let batch = try RecordBatch(["k": Column.int64(keys), "s": Column.string(names), "small": Column.int32(small)])
        let path = folder.file("f.parquet")
        let writer = try ParquetWriter(
            path: path, schema: batch.schema,
            options: ParquetWriteOptions(compression: .zstd, dictionaryPageSizeLimit: 4096, pageSize: 8192))
        try writer.write(batch)
        try writer.close()
        let file = try ParquetFile(path: path)
        #expect(try file.read() == batch)
        for column in 0..<2 {
            let pages = try Self.pageEncodings(file, group: 0, column: column)
            #expect(pages.dictionary)
            #expect(pages.data.first == .rleDictionary, "column \(column) starts dictionary-encoded")
            #expect(pages.data.last == .plain, "column \(column) falls back to PLAIN")
            #expect(pages.data.count > 3)
        }
        // Ten distinct values: dictionary all the way.
        let small10 = try Self.pageEncodings(file, group: 0, column: 2)
        #expect(small10.data.allSatisfy { $0 == .rleDictionary })
        // Dictionary off: no dictionary page.
        let plainPath = folder.file("p.parquet")
        let plain = try ParquetWriter(
            path: plainPath, schema: batch.schema, options: ParquetWriteOptions(dictionary: false))
        try plain.write(batch)
        try plain.close()
        let plainFile = try ParquetFile(path: plainPath)
        #expect(try !Self.pageEncodings(plainFile, group: 0, column: 0).dictionary)
        #expect(try plainFile.read() == batch)
    }

    @Test func emptyAndAllNullFilesAreReadableByPyarrowAndDuckDB() throws {
        let folder = try TemporaryDirectory("parquet-empty")
        defer { folder.remove() }
        let empty = folder.file("empty.parquet")
        let writer = try ParquetWriter(path: empty, schema: ParquetTestData.schema)
        try writer.write(RecordBatch(empty: ParquetTestData.schema))
        try writer.close()
        let nulls = folder.file("nulls.parquet")
        let schema = Schema([
            Field("a", .int64), Field("b", .string), Field("c", .list(.float64)), Field("d", .timestamp),
        ])
        let nullWriter = try ParquetWriter(path: nulls, schema: schema, options: ParquetWriteOptions(rowGroupRows: 3))
        try nullWriter.write(
            RecordBatch(schema: schema, columns: schema.fields.map { Column(nulls: $0.type, count: 7) }))
        try nullWriter.close()

        // Nullable columns without a null: levels are one RLE run per page.
        let full = folder.file("full.parquet")
        let fullBatch = try ParquetTestData.batch(rows: 3000).project(["id", "name"])
        let fullSchema = Schema([Field("id", .int64), Field("count", .int32), Field("name", .string)])
        let fullColumns = [
            try #require(fullBatch.column(named: "id")), Column.int32((0..<3000).map { Int32($0 % 7) }),
            Column.string((0..<3000).map { "n\($0 % 100)" }),
        ]
        let fullWriter = try ParquetWriter(
            path: full, schema: fullSchema, options: ParquetWriteOptions(rowGroupRows: 1000, pageSize: 2048))
        try fullWriter.write(RecordBatch(schema: fullSchema, columns: fullColumns))
        try fullWriter.close()
        #expect(try ParquetFile(path: full).read().columns == fullColumns)

        #expect(try ParquetFile(path: empty).read().rowCount == 0)
        #expect(try ParquetFile(path: empty).schema == ParquetTestData.schema)
        let readBack = try ParquetFile(path: nulls).read()
        #expect(readBack.rowCount == 7)
        #expect(readBack.columns.allSatisfy { $0.nullCount == 7 })

        let results = try OracleJSON.parse(
            PythonOracle.run(ParquetOracleScripts.readBack, arguments: [empty, nulls, full]))
        for reader in ["pyarrow", "duckdb"] {
            let emptyTable = try #require(ExpectedTable((results[empty] as? [String: Any])?[reader]))
            #expect(emptyTable.rows == 0)
            #expect(emptyTable.schema.map(\.0) == ParquetTestData.schema.names)
            let nullTable = try #require(ExpectedTable((results[nulls] as? [String: Any])?[reader]))
            #expect(nullTable.rows == 7)
            for name in schema.names {
                #expect(nullTable.columns[name] == Array(repeating: "null", count: 7), "\(reader) \(name)")
            }
        }
        #expect((results[nulls] as? [String: Any])?["stats"] as? [String] == [])
        for reader in ["pyarrow", "duckdb"] {
            let table = try #require(ExpectedTable((results[full] as? [String: Any])?[reader]))
            for (field, column) in zip(fullSchema.fields, fullColumns) {
                #expect(table.columns[field.name] == ParquetCanonical.strings(column), "\(reader) \(field.name)")
            }
        }
        #expect((results[full] as? [String: Any])?["stats"] as? [String] == [])
    }

    @Test func writerRejectsWhatItCannotWrite() throws {
        let folder = try TemporaryDirectory("parquet-reject")
        defer { folder.remove() }
        #expect(throws: FormatError.self) {
            try ParquetWriter(path: folder.file("x.parquet"), schema: Schema([Field("n", .list(.list(.int64)))]))
        }
        #expect(throws: FormatError.self) {
            try ParquetWriter(
                path: folder.file("x.parquet"), schema: Schema([Field("n", .int64)]),
                options: ParquetWriteOptions(compression: .brotli))
        }
        let writer = try ParquetWriter(
            path: folder.file("y.parquet"), schema: Schema([Field("n", .int64, nullable: false)]))
        #expect(throws: FormatError.self) {
            try writer.write(RecordBatch(["n": Column.int64([1], validity: Bitmap([false]))]))
        }
        #expect(throws: FormatError.self) {
            try ParquetWriter(path: folder.file("no/such/folder/z.parquet"), schema: Schema([]))
        }
    }
}
