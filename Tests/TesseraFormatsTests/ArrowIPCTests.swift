import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

/// Arrow IPC streams as pyarrow reads them: every type, with and without nulls, lists,
/// several record-batch messages, and no rows at all; compared with the same batch
/// written as Parquet (read back by pyarrow too), value by value, and with the types
/// Arrow should see.
@Suite struct ArrowIPCTests {
    static func batch(rows: Int) throws -> RecordBatch {
        var rng = SplitMixRNG(seed: UInt64(rows) + 3)
        let valid = Bitmap((0..<rows).map { _ in rng.below(5) != 0 })
        var listOffsets = [0]
        var listValues: [Int64] = []
        for _ in 0..<rows {
            for _ in 0..<rng.below(4) { listValues.append(Int64(rng.below(1000)) - 500) }
            listOffsets.append(listValues.count)
        }
        let columns: [(String, Column)] = [
            ("b", .bool((0..<rows).map { _ in rng.below(2) == 0 }, validity: valid)),
            ("i32", .int32((0..<rows).map { _ in Int32(rng.below(2_000_000)) - 1_000_000 })),
            ("i64", .int64((0..<rows).map { _ in Int64(rng.below(1 << 40)) - (1 << 39) }, validity: valid)),
            ("f32", .float32((0..<rows).map { _ in Float(rng.below(10_000)) / 7 })),
            ("f64", .float64((0..<rows).map { _ in Double(rng.below(1 << 30)) / 3 }, validity: valid)),
            (
                "s",
                .string(
                    (0..<rows).map { _ in ["", "a", "héllo", String(repeating: "x", count: 40)][rng.below(4)] },
                    validity: valid)
            ),
            (
                "bin",
                Column(
                    type: .bytes,
                    data: .binary(
                        BinaryData(offsets: (0...rows).map { $0 * 2 }, bytes: (0..<(2 * rows)).map { UInt8($0 & 0xFF) })
                    ))
            ),
            (
                "t",
                .timestamp((0..<rows).map { _ in 1_767_225_600_000_000 + Int64(rng.below(1 << 40)) }, validity: valid)
            ),
            ("l", Column(type: .list(.int64), data: .list(offsets: listOffsets, values: .int64(listValues)))),
        ]
        return try RecordBatch(
            schema: Schema(columns.map { Field($0.0, $0.1.type) }), columns: columns.map(\.1))
    }

    static let compare = """
        import sys, json, pyarrow as pa, pyarrow.ipc as ipc, pyarrow.parquet as pq
        with open(sys.argv[1], "rb") as f:
            reader = ipc.open_stream(f)
            batches = list(reader)
            table = pa.Table.from_batches(batches, schema=reader.schema)
        parquet = pq.read_table(sys.argv[2])
        print(json.dumps({
            "types": [str(f.type) for f in table.schema],
            "batches": len(batches),
            "rows": table.num_rows,
            "equal": table.to_pylist() == parquet.to_pylist(),
            "nulls": [table.column(i).null_count for i in range(table.num_columns)],
        }))
        """

    @Test(arguments: [0, 1, 1_000, 70_001])
    func pyarrowReadsWhatParquetHolds(rows: Int) throws {
        let folder = try TemporaryDirectory("arrow-ipc")
        defer { folder.remove() }
        let batch = try Self.batch(rows: rows)
        let stream = try ArrowIPCWriter.stream(batch, rowsPerBatch: 65_536)
        try Data(stream).write(to: URL(fileURLWithPath: folder.file("t.arrows")))
        let writer = try ParquetWriter(path: folder.file("t.parquet"), schema: batch.schema)
        try writer.write(batch)
        try writer.close()
        let output = try PythonOracle.run(Self.compare, arguments: [folder.file("t.arrows"), folder.file("t.parquet")])
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(output.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8))
                as? [String: Any])
        #expect(
            json["types"] as? [String] == [
                "bool", "int32", "int64", "float", "double", "string", "binary", "timestamp[us, tz=UTC]",
                "list<item: int64>",
            ])
        #expect(json["rows"] as? Int == rows)
        #expect(json["batches"] as? Int == max(1, (rows + 65_535) / 65_536))
        #expect(json["equal"] as? Bool == true)
        #expect(json["nulls"] as? [Int] == batch.columns.map(\.nullCount))
    }
}
