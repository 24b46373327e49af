import Foundation
import TesseraColumnar
import TesseraCore
import Testing

@testable import TesseraFormats

/// Every error names the file, the physical line and the column, and says what was expected.
@Suite("CSV reader: errors")
struct CSVErrorTests {
    let ids = CSVFixture.schema(["driver_id": .int64, "name": .string])

    @Test func aBadValueNamesFileLineAndColumn() throws {
        for options in CSVFixture.variants {
            #expect(
                try CSVFixture.error("driver_id,name\n1,a\nabc,b\n", schema: ids, options: options)
                    == "data.csv: line 3, column 'driver_id': 'abc' is not an int64")
        }
    }

    @Test func lineNumbersStayRightAfterMultiLineQuotedFields() throws {
        let text = "driver_id,name\n1,\"a\nb\nc\"\n2,\"x\r\ny\"\n3x,z\n"
        for options in CSVFixture.variants {
            #expect(
                try CSVFixture.error(text, schema: ids, options: options)
                    == "data.csv: line 7, column 'driver_id': '3x' is not an int64")
        }
        // A quoted header name with a line break moves every line down too.
        #expect(
            try CSVFixture.error("\"driver\n_id\",name\n1,a\nx,b\n", schema: CSVFixture.schema(["driver\n_id": .int64]))
                == "data.csv: line 4, column 'driver\n_id': 'x' is not an int64")
    }

    @Test func theLeftmostBadValueOfTheEarliestLineIsReported() throws {
        let schema = CSVFixture.schema(["a": .int64, "b": .int64, "c": .int64])
        #expect(
            try CSVFixture.error("c,b,a\n1,2,3\n4,x,y\nz,5,6\n", schema: schema)
                == "data.csv: line 3, column 'b': 'x' is not an int64")
    }

    @Test func aLineWithTheWrongNumberOfFields() throws {
        #expect(
            try CSVFixture.error("a,b\n1,2\n3\n", schema: nil)
                == "data.csv: line 3: expected 2 fields as in the header, found 1")
        #expect(
            try CSVFixture.error("a,b\n1,2\n3,4,5\n", schema: nil)
                == "data.csv: line 3: expected 2 fields as in the header, found 3")
    }

    @Test func anUnclosedQuote() throws {
        for options in CSVFixture.variants {
            #expect(
                try CSVFixture.error("driver_id,name\n1,\"abc\n2,def\n", schema: ids, options: options)
                    == "data.csv: line 2, column 'name': a quoted field is not closed: the file ends before its closing quote"
            )
        }
    }

    @Test func textAfterAClosingQuote() throws {
        #expect(
            try CSVFixture.error("driver_id,name\n1,\"ab\"c\n", schema: ids)
                == "data.csv: line 2, column 'name': unexpected 'c' after a closing quote; expected a delimiter or the end of the line (a quote inside a quoted field is written \"\")"
        )
    }

    @Test func aMissingColumnIsNamedWithTheHeaderAndASuggestion() throws {
        let schema = CSVFixture.schema(["dirver_id": .int64])
        #expect(
            try CSVFixture.error("driver_id,name\n1,a\n", schema: schema)
                == "data.csv: line 1: no column named 'dirver_id' in the header; did you mean 'driver_id'? (the header has: driver_id, name)"
        )
        #expect(
            try CSVFixture.error("a,b\n", schema: CSVFixture.schema(["zzz": .int64]))
                == "data.csv: line 1: no column named 'zzz' in the header (the header has: a, b)")
    }

    @Test func badHeaders() throws {
        #expect(
            try CSVFixture.error("") == "data.csv: line 1: the file is empty: expected a header line of column names")
        #expect(
            try CSVFixture.error("a,,c\n")
                == "data.csv: line 1: column 2 of the header has an empty name; every column needs a name")
        #expect(
            try CSVFixture.error("a,b,a\n")
                == "data.csv: line 1: the column name 'a' appears twice in the header (columns 1 and 3)")
    }

    @Test func valuesOfEachType() throws {
        func error(_ type: ValueType, _ value: String) throws -> String? {
            try CSVFixture.error("v\n\(value)\n", schema: CSVFixture.schema(["v": type]))
        }
        #expect(
            try error(.int32, "3000000000") == "data.csv: line 2, column 'v': '3000000000' is out of range for int32")
        #expect(try error(.int32, "1.5") == "data.csv: line 2, column 'v': '1.5' is not an int32")
        #expect(
            try error(.int64, "9223372036854775808")
                == "data.csv: line 2, column 'v': '9223372036854775808' is not an int64")
        #expect(try error(.float64, "1.2.3") == "data.csv: line 2, column 'v': '1.2.3' is not a float64")
        #expect(try error(.float32, "0x1p3") == "data.csv: line 2, column 'v': '0x1p3' is not a float32")
        #expect(try error(.bool, "yes") == "data.csv: line 2, column 'v': 'yes' is not a bool (expected true or false)")
        #expect(
            try error(.timestamp, "2026-02-30")
                == "data.csv: line 2, column 'v': '2026-02-30' is not a timestamp (expected ISO 8601 such as 2026-01-01T00:00:00Z)"
        )
        #expect(
            try error(.timestamp, "1767225600")
                == "data.csv: line 2, column 'v': '1767225600' is not a timestamp (expected ISO 8601 such as 2026-01-01T00:00:00Z)"
        )
        #expect(
            try error(.list(.int64), "\"[1, x]\"")
                == "data.csv: line 2, column 'v': '[1, x]' is not a list<int64>: element 'x' is not an int64")
        #expect(
            try error(.list(.int32), "[1 2]")
                == "data.csv: line 2, column 'v': '[1 2]' is not a list<int32>: expected ',' or ']' after an element, found '2'"
        )
    }

    @Test func invalidUTF8InAStringColumn() throws {
        let path = try CSVFixture.file(bytes: Array("s\nok\n".utf8) + [0xC3, 0x28] + [10])
        #expect(throws: FormatError(file: path, location: "line 3, column 's'", "the value is not valid UTF-8")) {
            try CSVReader.read(path: path, schema: CSVFixture.schema(["s": .string]))
        }
    }

    @Test func anEmptyValueInAColumnDeclaredNotNullable() throws {
        let schema = Schema([Field("a", .int64, nullable: false)])
        #expect(
            try CSVFixture.error("a\n1\n\n", schema: schema)
                == "data.csv: line 3, column 'a': the value is empty (null), but the column is declared not nullable")
    }

    @Test func aValueAfterTheInferenceSampleThatDoesNotFit() throws {
        let text = "n\n" + (1...20).map(String.init).joined(separator: "\n") + "\nmany\n"
        #expect(
            try CSVFixture.error(text, options: CSVReadOptions(inferenceRows: 10))
                == "data.csv: line 22, column 'n': 'many' is not an int64")
        // Inferring from every row avoids it.
        #expect(try CSVFixture.read(text, options: CSVReadOptions(inferenceRows: nil)).schema.fields[0].type == .string)
    }

    @Test func errorsInTheSecondHalfOfAParallelSplitHaveTheirRealLine() throws {
        var text = "id,note\n"
        var line = 1
        for i in 0..<100_000 {
            text += i % 10 == 0 ? "\(i),\"two\nlines\"\n" : "\(i),x\n"
            line += i % 10 == 0 ? 2 : 1
        }
        text += "oops,x\n"
        line += 1
        let schema = CSVFixture.schema(["id": .int64, "note": .string])
        for options in [CSVReadOptions(threads: 2), CSVReadOptions(threads: 2, chunkBytes: 1 << 20), CSVReadOptions()] {
            #expect(
                try CSVFixture.error(text, schema: schema, options: options)
                    == "data.csv: line \(line), column 'id': 'oops' is not an int64")
        }
    }

    @Test func aReaderKeepsFailingAfterAnError() throws {
        let reader = try CSVReader(path: try CSVFixture.file("a\n1\nx\n2\n"), schema: CSVFixture.schema(["a": .int64]))
        #expect(throws: FormatError.self) { try reader.next() }
        #expect(throws: FormatError.self) { try reader.next() }
    }

    @Test func aMissingFileAndBadOptions() throws {
        #expect(throws: FormatError(file: "/nonexistent/x.csv", "cannot open the file: No such file or directory")) {
            try CSVReader(path: "/nonexistent/x.csv")
        }
        let path = try CSVFixture.file("a\n")
        #expect(throws: FormatError.self) {
            try CSVReader(path: path, options: CSVReadOptions(delimiter: UInt8(ascii: "\"")))
        }
        #expect(throws: FormatError.self) { try CSVReader(path: path, options: CSVReadOptions(batchRows: 0)) }
    }
}

/// The inference rule: bool, else int64, else float64, else timestamp, else string.
@Suite("CSV reader: type inference")
struct CSVInferenceTests {
    @Test func eachColumnGetsTheFirstTypeAllItsValuesFit() throws {
        let text = """
            b,i,f,t,s,mixed,empty,zeroone,quoted
            true,1,1,2026-01-01T00:00:00Z,x,1,,1,"5"
            FALSE,-2,2.5,2026-01-02 10:00:00,y,2.5,,0,"6"
            ,,nan,,,abc,,,
            """
        let batch = try CSVFixture.read(text)
        #expect(
            batch.schema.fields.map(\.type) == [
                .bool, .int64, .float64, .timestamp, .string, .string, .string, .int64, .int64,
            ])
        #expect(batch.schema.fields.allSatisfy { $0.nullable })
        #expect(batch.column(named: "b")?.values == [.bool(true), .bool(false), .null])
        #expect(batch.column(named: "empty")?.values == [.null, .null, .null])
    }

    @Test func integersTooBigForInt64AreFloats() throws {
        let batch = try CSVFixture.read("n\n1\n99999999999999999999\n")
        #expect(batch.schema.fields[0].type == .float64)
    }

    @Test func onlyTheSampleDecides() throws {
        let text = "n\n1\n2\n3.5\n"
        #expect(
            try CSVReader.inferSchema(path: try CSVFixture.file(text), options: CSVReadOptions(inferenceRows: 2))
                .fields[0].type == .int64)
        #expect(try CSVReader.inferSchema(path: try CSVFixture.file(text)).fields[0].type == .float64)
        #expect(
            try CSVReader.inferSchema(path: try CSVFixture.file(text), options: CSVReadOptions(inferenceRows: nil))
                .fields[0].type == .float64)
    }
}
