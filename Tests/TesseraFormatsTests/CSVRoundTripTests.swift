import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

/// Random batches of every type, with nulls: what the writer writes, the reader reads back.
enum RandomBatch {
    static let pieces = [
        "a", "b", ",", "\"", "\n", "\r\n", "\r", " ", "é", "😀", "\t", ";", "\\", "[", "]", "null", "0",
    ]

    static func string(_ random: inout SeededRandom) -> String {
        (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }
            .joined()
    }

    /// A value of `type`, never NaN (NaN is not equal to itself; it has its own test).
    static func value(_ type: ValueType, _ random: inout SeededRandom) -> ScalarValue {
        switch type {
        case .bool: return .bool(random.next() & 1 == 1)
        case .int32:
            return .int32(Int32(truncatingIfNeeded: random.next() >> UInt64.random(in: 0...63, using: &random)))
        case .int64:
            let v = Int64(bitPattern: random.next() >> UInt64.random(in: 0...63, using: &random))
            return .int64(random.next() & 1 == 0 ? v : -v)
        case .float32:
            var f = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            if f.isNaN { f = .infinity }
            return .float32(random.next() % 4 == 0 ? Float(Int.random(in: -1000...1000, using: &random)) / 8 : f)
        case .float64:
            var d = Double(bitPattern: random.next())
            if d.isNaN { d = -.infinity }
            return .float64(random.next() % 4 == 0 ? Double(Int.random(in: -1000...1000, using: &random)) / 10 : d)
        case .string: return .string(string(&random))
        case .bytes:
            return .bytes(
                (0..<Int.random(in: 0...5, using: &random)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        case .timestamp:
            // Years 0000–9999: the range ISO 8601's four-digit years can spell.
            let micros = Int64.random(in: -62_167_219_200_000_000...253_402_300_799_999_999, using: &random)
            let rounded = random.next() % 3 == 0 ? micros / 1_000_000 * 1_000_000 : micros
            return .timestamp(Timestamp(microseconds: rounded))
        case .list(let element):
            return .list(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in
                    random.next() % 5 == 0 ? .null : value(element, &random)
                })
        }
    }

    static let types: [ValueType] =
        ValueType.scalars + [
            .list(.int64), .list(.int32), .list(.float64), .list(.float32), .list(.string), .list(.bool),
            .list(.timestamp),
            .list(.bytes),
        ]

    static func batch(_ random: inout SeededRandom, columns: Int, rows: Int) throws -> RecordBatch {
        var fields: [Field] = []
        var built: [Column] = []
        for k in 0..<columns {
            let type = types[Int(random.next() % UInt64(types.count))]
            var builder = ColumnBuilder(type: type)
            let nullRate = random.next() % 3  // none, some, many
            for _ in 0..<rows {
                if nullRate > 0, random.next() % (nullRate == 1 ? 7 : 2) == 0 {
                    builder.appendNull()
                } else {
                    builder.append(value(type, &random))
                }
            }
            fields.append(Field(k == 0 ? "c,\"0\"" : "c\(k)", type))
            built.append(builder.finish())
        }
        return try RecordBatch(schema: Schema(fields), columns: built)
    }
}

@Suite("CSV round trips")
struct CSVRoundTripTests {
    @Test func everyTypeWithNullsReadsBackEqual() throws {
        let folder = try TemporaryDirectory("csv-roundtrip")
        defer { folder.remove() }
        var random = SeededRandom(seed: 1)
        for trial in 0..<150 {
            let columns = trial % 10 == 0 ? 1 : Int.random(in: 1...6, using: &random)
            let batch = try RandomBatch.batch(&random, columns: columns, rows: Int.random(in: 0...60, using: &random))
            let path = folder.file("t\(trial).csv")
            try CSVWriter.write(batch, to: path, options: CSVWriteOptions(crlf: trial % 2 == 0))
            for options in CSVFixture.variants {
                let back = try CSVReader.read(path: path, schema: batch.schema, options: options)
                #expect(back == batch, "trial \(trial)")
                if back != batch {
                    for (a, b) in zip(back.columns, batch.columns) where a != b {
                        Issue.record("\(a.type): read \(a.values) wrote \(b.values)")
                    }
                    return
                }
            }
        }
    }

    @Test func streamingWritesEqualOneWrite() throws {
        let folder = try TemporaryDirectory("csv-roundtrip")
        defer { folder.remove() }
        var random = SeededRandom(seed: 2)
        let batch = try RandomBatch.batch(&random, columns: 5, rows: 10_000)
        let writer = try CSVWriter(path: folder.file("parts.csv"), schema: batch.schema)
        for start in stride(from: 0, to: 10_000, by: 999) {
            try writer.write(batch.slice(start..<min(10_000, start + 999)))
        }
        try writer.close()
        try CSVWriter.write(batch, to: folder.file("whole.csv"))
        #expect(
            try Data(contentsOf: folder.url.appendingPathComponent("parts.csv"))
                == Data(contentsOf: folder.url.appendingPathComponent("whole.csv")))
        #expect(
            try CSVReader.read(
                path: folder.file("parts.csv"), schema: batch.schema, options: CSVReadOptions(threads: 2)) == batch)
    }

    @Test func nanAndInfinitiesRoundTrip() throws {
        let folder = try TemporaryDirectory("csv-roundtrip")
        defer { folder.remove() }
        let batch = try RecordBatch([
            "d": .float64([.nan, -.nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
            "f": .float32([.nan, -.nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
        ])
        let path = folder.file("nan.csv")
        try CSVWriter.write(batch, to: path)
        let back = try CSVReader.read(path: path, schema: batch.schema)
        guard case .float64(let d) = back.columns[0].data, case .float32(let f) = back.columns[1].data else {
            Issue.record("wrong layout")
            return
        }
        #expect(d[0].isNaN && d[1].isNaN && d[2] == .infinity && d[3] == -.infinity)
        #expect(d[4] == .leastNonzeroMagnitude && d[5] == .greatestFiniteMagnitude)
        #expect(f[0].isNaN && f[1].isNaN && f[2] == .infinity && f[3] == -.infinity)
        #expect(f[4] == .leastNonzeroMagnitude && f[5] == .greatestFiniteMagnitude)
    }

    @Test func inferredTypesOfAWrittenWorkloadLikeTable() throws {
        let folder = try TemporaryDirectory("csv-roundtrip")
        defer { folder.remove() }
        let batch = try RecordBatch([
            "id": .int64([1, 2, 3]), "when": .timestamp([0, 1_000_000, 2_500_000]), "rate": .float64([0.5, 1, 2e-9]),
            "ok": .bool([true, false, true]), "name": .string(["a", "b,c", "d"]),
        ])
        let path = folder.file("w.csv")
        try CSVWriter.write(batch, to: path)
        #expect(try CSVReader.read(path: path) == batch)
    }
}
