import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

/// Files written by pyarrow and DuckDB, read by Tessera, compared value by value with pyarrow's reading.
@Suite struct ParquetReadInteropTests {
    @Test func readsEveryFileOfThePyarrowAndDuckDBMatrix() throws {
        let folder = try TemporaryDirectory("parquet-read-matrix")
        defer { folder.remove() }
        let output = try PythonOracle.run(ParquetOracleScripts.readMatrix, arguments: [folder.path])
        let manifest = try OracleJSON.parse(output)
        let files = try #require(manifest["files"] as? [String: Any])
        #expect(files.count >= 30)
        for (name, expectedJSON) in files.sorted(by: { $0.key < $1.key }) {
            let expected = try #require(ExpectedTable(expectedJSON), "manifest entry \(name)")
            let path = folder.file("\(name).parquet")
            let file = try ParquetFile(path: path)
            let batch = try file.read()
            let problems = expected.differences(batch)
            #expect(problems.isEmpty, "\(name): \(problems.joined(separator: "; "))")
            // Threads and per-row-group streaming must give the same values.
            let threaded = try file.read(ParquetReadOptions(threads: 2))
            #expect(threaded == batch, "\(name): threaded read differs")
            var iterator = try file.batches()
            var rows = 0
            var parts: [RecordBatch] = []
            while let part = try iterator.next() {
                rows += part.rowCount
                parts.append(part)
            }
            #expect(rows == expected.rows, "\(name): streamed \(rows) rows")
            if parts.count > 1 {
                #expect(try RecordBatch.concatenate(parts) == batch, "\(name): streamed batches differ")
            }
        }
        let errors = try #require(manifest["errors"] as? [String: String])
        for (name, word) in errors {
            let path = folder.file("\(name).parquet")
            do {
                _ = try ParquetFile(path: path).read()
                Issue.record("\(name): expected an error mentioning \(word)")
            } catch {
                #expect(error.description.contains(word), "\(name): \(error)")
                #expect(error.file == path)
                #expect(error.location?.contains("row group 0") ?? false, "\(name): \(error)")
            }
        }
        // A struct column is left out of the schema and named when asked for.
        let structFile = try ParquetFile(path: folder.file("struct.parquet"))
        #expect(structFile.schema.names == ["ok"])
        #expect(structFile.skippedColumns.map(\.name) == ["st"])
        #expect(throws: FormatError.self) { try structFile.read(ParquetReadOptions(columns: ["st"])) }
        #expect(try structFile.read().column(named: "ok")?.values == [.int64(1)])
    }
}
