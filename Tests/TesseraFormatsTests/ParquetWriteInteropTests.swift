import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

/// Files written by Tessera, read back by Tessera, pyarrow and DuckDB, compared value by value.
@Suite struct ParquetWriteInteropTests {
    struct Case {
        var name: String
        var options: ParquetWriteOptions
        var expectedRowGroups: Int
    }

    @Test func pyarrowAndDuckDBReadWhatTesseraWrites() throws {
        let folder = try TemporaryDirectory("parquet-write")
        defer { folder.remove() }
        let rows = 2500
        let cases = [
            Case(name: "snappy_dict", options: ParquetWriteOptions(), expectedRowGroups: 1),
            Case(
                name: "none_plain", options: ParquetWriteOptions(compression: .uncompressed, dictionary: false),
                expectedRowGroups: 1),
            Case(
                name: "zstd_groups", options: ParquetWriteOptions(compression: .zstd, rowGroupRows: 700, pageSize: 512),
                expectedRowGroups: 4),
            Case(
                name: "gzip", options: ParquetWriteOptions(compression: .gzip, rowGroupRows: 1000, threads: 2),
                expectedRowGroups: 3),
            Case(
                name: "lz4_fallback",
                options: ParquetWriteOptions(compression: .lz4Raw, dictionaryPageSizeLimit: 256, pageSize: 1024),
                expectedRowGroups: 1),
        ]
        var expected: [String: [String: [String]]] = [:]
        var paths: [String] = []
        for testCase in cases {
            let path = folder.file("\(testCase.name).parquet")
            let writer = try ParquetWriter(path: path, schema: ParquetTestData.schema, options: testCase.options)
            // Uneven batches so row groups span batch boundaries.
            var written: [RecordBatch] = []
            var start = 0
            for size in [1, 999, 0, 1200, 300] {
                let batch = ParquetTestData.batch(rows: size, offset: start)
                try writer.write(batch)
                written.append(batch)
                start += size
            }
            try writer.close()
            #expect(start == rows)
            let all = try RecordBatch.concatenate(written)
            var columns: [String: [String]] = [:]
            for (field, column) in zip(all.schema.fields, all.columns) {
                columns[field.name] = ParquetCanonical.strings(column)
            }
            expected[path] = columns
            paths.append(path)

            let file = try ParquetFile(path: path)
            #expect(file.rowGroups.count == testCase.expectedRowGroups, "\(testCase.name)")
            #expect(file.schema == ParquetTestData.schema, "\(testCase.name)")
            #expect(try file.read() == all, "\(testCase.name): Tessera does not read back what it wrote")
        }
        let output = try PythonOracle.run(ParquetOracleScripts.readBack, arguments: paths)
        let results = try OracleJSON.parse(output)
        for path in paths {
            let result = try #require(results[path] as? [String: Any], "\(path)")
            for reader in ["pyarrow", "duckdb"] {
                let table = try #require(ExpectedTable(result[reader]), "\(reader) \(path)")
                #expect(table.rows == rows, "\(reader) \(path)")
                for (name, values) in try #require(expected[path]) {
                    #expect(table.columns[name] == values, "\(reader) reads column \(name) of \(path) differently")
                }
            }
            let statsProblems = result["stats"] as? [String] ?? ["no stats report"]
            #expect(statsProblems.isEmpty, "\(path): \(statsProblems)")
        }
        let lz4 = try #require(results[folder.file("lz4_fallback.parquet")] as? [String: Any])
        #expect((lz4["encodings"] as? [String])?.contains("PLAIN") == true)
        #expect((lz4["encodings"] as? [String])?.contains("RLE_DICTIONARY") == true)
        // pyarrow names the LZ4_RAW codec (7) "LZ4" and the deprecated one "LZ4_HADOOP".
        #expect((lz4["codecs"] as? [String]) == ["LZ4"])
    }

    @Test func aFailedWriteLeavesNoFileBehind() throws {
        let folder = try TemporaryDirectory("parquet-write-fail")
        defer { folder.remove() }
        let path = folder.file("out.parquet")
        do {
            let writer = try ParquetWriter(path: path, schema: ParquetTestData.schema)
            try writer.write(ParquetTestData.batch(rows: 10))
            let wrong = try RecordBatch(["x": Column.int64([1])])
            #expect(throws: FormatError.self) { try writer.write(wrong) }
            // Abandoned without close: the temporary file goes away with the writer.
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
