import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

@Suite struct ParquetDatasetTests {
    @Test func hiveFoldersGlobsStatisticsAndPruningAgreeWithPyarrow() throws {
        let folder = try TemporaryDirectory("parquet-dataset")
        defer { folder.remove() }
        let root = folder.file("table")
        let statsPath = folder.file("stats.parquet")
        let output = try OracleJSON.parse(
            PythonOracle.run(ParquetOracleScripts.datasetAndStatistics, arguments: [root, statsPath]))
        let expected = try #require(ExpectedTable(output["dataset"]))

        // The folder, read as a dataset: file columns then partition columns.
        let dataset = try Dataset.open(root)
        #expect(dataset.files.count == 4)
        #expect(dataset.schema.fields.map(\.name) == ["id", "at", "name", "year", "region"])
        #expect(dataset.partitionFields.map(\.type) == [.int64, .string])
        let batch = try dataset.read()
        let sorted = batch.take(Sorting.indices(by: [SortKey(batch.column(named: "id") ?? .int64([]))]))
        for name in ["id", "at", "name", "year", "region"] {
            let column = try #require(sorted.column(named: name))
            #expect(ParquetCanonical.strings(column) == expected.columns[name], "column \(name)")
        }
        // Globs: every file, and one partition.
        #expect(try Dataset.open(root + "/**/*.parquet").files.count == 4)
        let only2025 = try Dataset.open(root + "/year=2025/*/*.parquet")
        #expect(only2025.files.count == 2)
        #expect(
            try only2025.read(columns: ["year"]).column(named: "year")?.values.allSatisfy { $0 == .int64(2025) } == true
        )
        // Projection of a partition column and a file column, in the asked order.
        let projected = try dataset.read(columns: ["region", "id"])
        #expect(projected.schema.names == ["region", "id"])
        #expect(projected.rowCount == 600)
        #expect(try dataset.head(7).rowCount == 7)

        // Statistics match what pyarrow reports, row group by row group.
        let file = try ParquetFile(path: statsPath)
        let groups = try #require(output["stats"] as? [[String: [Any]]])
        #expect(file.rowGroups.count == groups.count)
        for (info, expectedGroup) in zip(file.rowGroups, groups) {
            for name in ["at", "v", "s"] {
                let stats = try #require(info.column(named: name)?.statistics)
                let want = try #require(expectedGroup[name])
                let minText = stats.min.map {
                    ParquetCanonical.string(Column(type: file.schema[name]!.type, scalars: [$0])!, 0)
                }
                let maxText = stats.max.map {
                    ParquetCanonical.string(Column(type: file.schema[name]!.type, scalars: [$0])!, 0)
                }
                #expect(minText == want[0] as? String, "row group \(info.index) \(name) min")
                #expect(maxText == want[1] as? String, "row group \(info.index) \(name) max")
                #expect(stats.nullCount == want[2] as? Int, "row group \(info.index) \(name) nulls")
            }
        }
        // Time-range pruning: each row group spans 100 seconds from 2026-01-01.
        let start = Timestamp(microseconds: 1_767_225_600_000_000)
        let range = RowGroupFilter.timeRange(
            column: "at", from: Timestamp(microseconds: start.microseconds + 250_000_000),
            through: Timestamp(microseconds: start.microseconds + 420_000_000))
        #expect(try file.selectedRowGroups(range) == [2, 3, 4])
        let pruned = try file.read(ParquetReadOptions(columns: ["at"], filter: range))
        #expect(pruned.rowCount == 300)
        #expect(
            try file.selectedRowGroups(
                .timeRange(column: "at", from: nil, through: Timestamp(microseconds: start.microseconds - 1))) == [])
        #expect(throws: FormatError.self) {
            try file.selectedRowGroups(.timeRange(column: "v", from: nil, through: nil))
        }
        // The same pruning through a dataset of that one file.
        let single = try Dataset.open(statsPath)
        let rows = try single.read(timeRange: DatasetTimeRange(column: "at", from: start, through: start)).rowCount
        #expect(rows == 100)
    }

    @Test func schemaMismatchesAndMissingFilesAreNamed() throws {
        let folder = try TemporaryDirectory("parquet-dataset-bad")
        defer { folder.remove() }
        let first = try ParquetWriter(
            path: folder.file("a/1.parquet").createParent(), schema: Schema([Field("x", .int64)]))
        try first.write(RecordBatch(["x": Column.int64([1, 2])]))
        try first.close()
        let second = try ParquetWriter(path: folder.file("a/2.parquet"), schema: Schema([Field("x", .string)]))
        try second.write(RecordBatch(["x": Column.string(["a"])]))
        try second.close()
        do {
            _ = try Dataset.open(folder.file("a"))
            Issue.record("a schema mismatch must be an error")
        } catch {
            #expect(error.file.hasSuffix("a/2.parquet"))
            #expect(error.message.contains("'x' is string here, int64 there"), "\(error)")
        }
        #expect(throws: FormatError.self) { try Dataset.open(folder.file("a/*.csv")) }
        #expect(throws: FormatError.self) { try Dataset.open(folder.file("missing")) }
        // A file that is not Parquet names itself.
        try "not parquet at all".write(toFile: folder.file("a/3.parquet"), atomically: true, encoding: .utf8)
        do {
            _ = try Dataset.open(folder.file("a/3.parquet"))
            Issue.record("a text file must not open as Parquet")
        } catch {
            #expect(error.file.hasSuffix("a/3.parquet"))
        }
    }

    @Test func inspectAndHeadDescribeTheFile() throws {
        let folder = try TemporaryDirectory("parquet-inspect")
        defer { folder.remove() }
        let path = folder.file("t.parquet")
        let writer = try ParquetWriter(
            path: path, schema: ParquetTestData.schema, options: ParquetWriteOptions(rowGroupRows: 40))
        let batch = ParquetTestData.batch(rows: 100)
        try writer.write(batch)
        try writer.close()
        let file = try ParquetFile(path: path)
        let inspection = file.inspect()
        #expect(inspection.rowCount == 100)
        #expect(inspection.rowGroups.map(\.rowCount) == [40, 40, 20])
        let id = try #require(inspection.columns.first { $0.name == "id" })
        #expect(id.min == batch.column(named: "id")?.values.min { ($0.asInt64 ?? 0) < ($1.asInt64 ?? 0) })
        #expect(id.nullCount == 0)
        #expect(id.compressions == ["SNAPPY"])
        #expect(id.encodings.contains("RLE_DICTIONARY"))
        let name = try #require(inspection.columns.first { $0.name == "name" })
        #expect(name.nullCount == batch.column(named: "name")?.nullCount)
        let text = inspection.render()
        #expect(text.contains("rows: 100 in 3 row groups"))
        #expect(text.contains("tags: list<string>"))
        let head = try file.head(45, columns: ["id", "tags"])
        #expect(head == (try batch.project(["id", "tags"]).slice(0..<45)))
    }
}

extension String {
    /// Creates the parent folder of this path; returns the path.
    func createParent() throws -> String {
        try FileManager.default.createDirectory(
            atPath: (self as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return self
    }
}
