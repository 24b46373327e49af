import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

@Suite("CSV writer")
struct CSVWriterTests {
    func written(_ batch: RecordBatch, options: CSVWriteOptions = CSVWriteOptions()) throws -> String {
        let folder = try TemporaryDirectory("csv-writer")
        defer { folder.remove() }
        let path = folder.file("out.csv")
        try CSVWriter.write(batch, to: path, options: options)
        return String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    @Test func formatsEveryTypeQuotingOnlyWhereNeeded() throws {
        let batch = try RecordBatch([
            "i": .int64([1, -9_223_372_036_854_775_808, 0]),
            "f": .float32([0.1, .nan, -.infinity]),
            "d": .float64([1e-5, 1e16, -0.0]),
            "b": .bool([true, false, true], validity: Bitmap([true, true, false])),
            "t": .timestamp([1_767_225_600_000_000, 1_767_225_600_500_000, -1]),
            "s": .string(["plain", "a,b", ""], validity: Bitmap([true, true, true])),
            "q": .string(["say \"hi\"", "two\nlines", "x"], validity: Bitmap([true, true, false])),
        ])
        #expect(
            try written(batch) == """
                i,f,d,b,t,s,q
                1,0.1,1e-05,true,2026-01-01T00:00:00Z,plain,"say ""hi\"\"\"
                -9223372036854775808,nan,1e+16,false,2026-01-01T00:00:00.5Z,"a,b","two
                lines"
                0,-inf,-0.0,,1969-12-31T23:59:59.999999Z,"",

                """)
    }

    @Test func headerNamesAreQuotedAndCRLFAndOtherDelimitersWork() throws {
        let batch = try RecordBatch(["a;b": .int32([1, 2]), "c": .int32([3, 4])])
        #expect(
            try written(batch, options: CSVWriteOptions(delimiter: UInt8(ascii: ";"), crlf: true))
                == "\"a;b\";c\r\n1;3\r\n2;4\r\n")
        #expect(try written(batch, options: CSVWriteOptions(header: false)) == "1,3\n2,4\n")
    }

    @Test func listsAreJSONLike() throws {
        var builder = ColumnBuilder(type: .list(.string))
        builder.append(.list([.string("a\"b"), .null, .string("c\\d\n")]))
        builder.appendNull()
        builder.append(.list([]))
        let batch = try RecordBatch(["l": builder.finish()])
        #expect(try written(batch) == "l\n\"[\"\"a\\\"\"b\"\", null, \"\"c\\\\d\\n\"\"]\"\n\n[]\n")
    }

    /// The writer's own timestamp formatter must agree with `Timestamp.iso8601`.
    @Test func timestampsAreWrittenAsTimestampIso8601() throws {
        var random = SeededRandom(seed: 11)
        var micros: [Int64] = [
            0, -1, 1, 86_399_999_999, -86_400_000_000, 951_782_400_000_000, 253_402_300_799_999_999,
            -62_167_219_200_000_000, -62_167_219_200_000_001, 253_402_300_800_000_000,
        ]
        for _ in 0..<5000 {
            micros.append(Int64.random(in: -70_000_000_000_000_000...260_000_000_000_000_000, using: &random))
        }
        for _ in 0..<1000 { micros.append(Int64.random(in: 1_700_000_000...1_800_000_000, using: &random) * 1_000_000) }
        let text = try written(try RecordBatch(["t": .timestamp(micros)]))
        let lines = text.split(separator: "\n").dropFirst().map(String.init)
        #expect(lines == micros.map { Timestamp(microseconds: $0).iso8601 })
    }

    @Test func theFileAppearsOnlyWhenClosed() throws {
        let folder = try TemporaryDirectory("csv-writer")
        defer { folder.remove() }
        let path = folder.file("out.csv")
        try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
        let batch = try RecordBatch(["a": .int64([1, 2])])
        let writer = try CSVWriter(path: path, schema: batch.schema)
        try writer.write(batch)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).count == 2)
        try writer.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a\n1\n2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.csv"])
        #expect(writer.rowsWritten == 2)
        #expect(throws: FormatError.self) { try writer.write(batch) }
    }

    @Test func anAbandonedOrDroppedWriterLeavesNothing() throws {
        let folder = try TemporaryDirectory("csv-writer")
        defer { folder.remove() }
        let batch = try RecordBatch(["a": .int64([1])])
        let writer = try CSVWriter(path: folder.file("a.csv"), schema: batch.schema)
        try writer.write(batch)
        writer.abandon()
        do {
            let dropped = try CSVWriter(path: folder.file("b.csv"), schema: batch.schema)
            try dropped.write(batch)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func errorsNameTheFile() throws {
        let batch = try RecordBatch(["a": .int64([1])])
        #expect(
            throws: FormatError(file: "/nonexistent/dir/x.csv", "cannot create the file: No such file or directory")
        ) {
            try CSVWriter.write(batch, to: "/nonexistent/dir/x.csv")
        }
        let folder = try TemporaryDirectory("csv-writer")
        defer { folder.remove() }
        let writer = try CSVWriter(path: folder.file("x.csv"), schema: batch.schema)
        #expect(
            throws: FormatError(
                file: folder.file("x.csv"),
                "a batch does not match the file's columns: expected (a int64), found (b string)")
        ) {
            try writer.write(try RecordBatch(["b": .string(["x"])]))
        }
    }
}
