import Foundation
import TesseraColumnar
import TesseraCore
import Testing

@testable import TesseraFormats

@Suite("CSV reader: syntax")
struct CSVReaderSyntaxTests {
    @Test func picksDeclaredColumnsByNameInSchemaOrderAndIgnoresOthers() throws {
        let batch = try CSVFixture.read(
            "b,extra,a\nx,1,10\ny,2,20\n", schema: CSVFixture.schema(["a": .int64, "b": .string]))
        #expect(batch.schema.names == ["a", "b"])
        #expect(batch.column(named: "a") == .int64([10, 20]))
        #expect(batch.column(named: "b") == .string(["x", "y"]))
    }

    @Test func quotedFieldsHoldDelimitersDoubledQuotesAndLineBreaks() throws {
        let text = "id,text\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n4,\"crlf\r\ninside\"\n5,plain\n"
        for options in CSVFixture.variants {
            let batch = try CSVFixture.read(
                text, schema: CSVFixture.schema(["id": .int64, "text": .string]), options: options)
            #expect(
                batch.column(named: "text") == .string(["a,b", "say \"hi\"", "two\nlines", "crlf\r\ninside", "plain"]))
        }
    }

    @Test func crlfAndLfLineEndsAndAMissingFinalNewlineReadTheSame() throws {
        let schema = CSVFixture.schema(["a": .int64, "b": .string])
        let expected = try CSVFixture.read("a,b\n1,x\n2,y\n", schema: schema)
        for text in ["a,b\r\n1,x\r\n2,y\r\n", "a,b\r\n1,x\n2,y", "a,b\n1,x\r\n2,y\r\n", "a,b\n1,x\n2,y"] {
            for options in CSVFixture.variants {
                #expect(try CSVFixture.read(text, schema: schema, options: options) == expected)
            }
        }
    }

    @Test func aByteOrderMarkBeforeTheHeaderIsSkipped() throws {
        let path = try CSVFixture.file(bytes: [0xEF, 0xBB, 0xBF] + Array("id,name\n1,a\n".utf8))
        let batch = try CSVReader.read(path: path)
        #expect(batch.schema.names == ["id", "name"])
        #expect(batch.column(named: "id") == .int64([1]))
    }

    @Test func emptyFieldsAreNullAndQuotedEmptyIsTheEmptyString() throws {
        let schema = CSVFixture.schema(["s": .string, "i": .int64, "b": .bytes])
        let batch = try CSVFixture.read("s,i,b\n,,\n\"\",\"\",\"\"\nx,1,y\n", schema: schema)
        #expect(batch.row(0) == [.null, .null, .null])
        #expect(batch.row(1) == [.string(""), .null, .bytes([])])
        #expect(batch.row(2) == [.string("x"), .int64(1), .bytes(Array("y".utf8))])
    }

    @Test func blankLinesAreSkippedWithSeveralColumnsAndAreNullsWithOne() throws {
        let two = try CSVFixture.read(
            "a,b\n\n1,2\r\n\r\n3,4\n\n", schema: CSVFixture.schema(["a": .int64, "b": .int64]))
        #expect(two.column(named: "a") == .int64([1, 3]))
        for options in CSVFixture.variants {
            let one = try CSVFixture.read("a\n1\n\n2\n\n", schema: CSVFixture.schema(["a": .int64]), options: options)
            #expect(one.column(named: "a")?.values == [.int64(1), .null, .int64(2), .null])
        }
    }

    @Test func aHeaderOnlyFileHasNoRows() throws {
        let typed = try CSVFixture.read("a,b\n", schema: CSVFixture.schema(["a": .int64, "b": .timestamp]))
        #expect(typed.rowCount == 0)
        #expect(typed.schema.fields.map(\.type) == [.int64, .timestamp])
        let inferred = try CSVFixture.read("a,b")
        #expect(inferred.rowCount == 0)
        #expect(inferred.schema.fields.map(\.type) == [.string, .string])
    }

    @Test func otherDelimiters() throws {
        let schema = CSVFixture.schema(["a": .int64, "b": .string])
        for delimiter in ["\t", ";", "|"] {
            let text = "a\(delimiter)b\n1\(delimiter)\"x\(delimiter)y\"\n2\(delimiter)z\n"
            let options = CSVReadOptions(delimiter: UInt8(ascii: Unicode.Scalar(delimiter)!))
            let batch = try CSVFixture.read(text, schema: schema, options: options)
            #expect(batch.column(named: "b") == .string(["x\(delimiter)y", "z"]))
        }
    }

    @Test func aQuoteInsideAnUnquotedFieldIsAnOrdinaryCharacter() throws {
        let batch = try CSVFixture.read("a,b\n5'10\",x\n", schema: CSVFixture.schema(["a": .string, "b": .string]))
        #expect(batch.column(named: "a") == .string(["5'10\""]))
    }

    @Test func quotedHeaderNames() throws {
        let batch = try CSVFixture.read("\"first, name\",\"say \"\"x\"\"\"\r\n1,2\r\n")
        #expect(batch.schema.names == ["first, name", "say \"x\""])
    }

    @Test func aTrailingDelimiterMeansOneMoreEmptyField() throws {
        let batch = try CSVFixture.read("a,b\n1,\n2,", schema: CSVFixture.schema(["a": .int64, "b": .int64]))
        #expect(batch.column(named: "b")?.values == [.null, .null])
    }
}

@Suite("CSV reader: values")
struct CSVReaderValueTests {
    @Test func integersAtTheirLimitsAndWithSpacesAndSigns() throws {
        let batch = try CSVFixture.read(
            "a,b\n9223372036854775807,2147483647\n-9223372036854775808,-2147483648\n +7 , -0\n",
            schema: CSVFixture.schema(["a": .int64, "b": .int32]))
        #expect(batch.column(named: "a") == .int64([.max, .min, 7]))
        #expect(batch.column(named: "b") == .int32([.max, .min, 0]))
    }

    @Test func boolSpellings() throws {
        let batch = try CSVFixture.read("b\ntrue\nFalse\nTRUE\n1\n0\n", schema: CSVFixture.schema(["b": .bool]))
        #expect(batch.column(named: "b") == .bool([true, false, true, true, false]))
    }

    @Test func timestampForms() throws {
        let text = """
            t
            2026-01-01T00:00:00Z
            2026-01-01 00:00:00
            2026-01-01T02:00:00+02:00
            2026-01-01 00:00:00.5
            2026-01-01
            2025-12-31T23:59:59.999999Z
            1969-12-31T23:59:59Z
            2024-02-29T12:00:00Z
            """
        let batch = try CSVFixture.read(text, schema: CSVFixture.schema(["t": .timestamp]))
        let day: Int64 = 1_767_225_600_000_000
        #expect(
            batch.column(named: "t")?.int64Values == [
                day, day, day, day + 500_000, day, day - 1, -1_000_000, 1_709_208_000_000_000,
            ])
    }

    @Test func floatsAndSpecialValues() throws {
        let batch = try CSVFixture.read(
            "d,f\n0.1,0.1\n1e-5,1E+3\n-inf,Infinity\nnan,NaN\n.5,5.\n-0,+2.5\n",
            schema: CSVFixture.schema(["d": .float64, "f": .float32]))
        guard case .float64(let d) = batch.column(named: "d")?.data,
            case .float32(let f) = batch.column(named: "f")?.data
        else {
            Issue.record("wrong layout")
            return
        }
        #expect(d[0] == 0.1 && d[1] == 1e-5 && d[2] == -.infinity && d[3].isNaN && d[4] == 0.5)
        #expect(d[5] == 0 && d[5].sign == .minus)
        #expect(f[0] == Float(0.1) && f[1] == 1000 && f[2] == .infinity && f[3].isNaN && f[4] == 5 && f[5] == 2.5)
    }

    /// Exactness: every parse must equal the standard library's correctly rounded parse.
    @Test func floatParsingIsCorrectlyRounded() throws {
        var random = SeededRandom(seed: 7)
        var texts: [String] = []
        for _ in 0..<20_000 {
            let bits = random.next()
            let d = Double(bitPattern: bits)
            if d.isFinite { texts.append(d.description) }
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
            if f.isFinite { texts.append(f.description) }
            // Random decimals: 1–25 digits, a point somewhere, exponents near the fast path's edges.
            let digits = Int.random(in: 1...25, using: &random)
            var text = String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
            let point = Int.random(in: 0...digits, using: &random)
            text.insert(".", at: text.index(text.startIndex, offsetBy: point))
            if text == "." { text = "0.5" }
            text += "e\(Int.random(in: -50...50, using: &random))"
            texts.append(text)
        }
        // Halfway cases for float32 that a double-then-float rounding gets wrong.
        texts += [
            "1.00000005960464477539062", "1.000000059604644775390625", "1.00000017881393432617187499",
            "3.4028235677973366e38", "1e-45", "7.006492321624085e-46", "1.1754942e-38", "2.2250738585072011e-308",
        ]
        let body = "d,f\n" + texts.map { "\($0),\($0)" }.joined(separator: "\n")
        let batch = try CSVFixture.read(body, schema: CSVFixture.schema(["d": .float64, "f": .float32]))
        guard case .float64(let d) = batch.column(named: "d")?.data,
            case .float32(let f) = batch.column(named: "f")?.data
        else {
            Issue.record("wrong layout")
            return
        }
        for (k, text) in texts.enumerated() {
            #expect(d[k].bitPattern == Double(text)?.bitPattern, "float64 \(text)")
            #expect(f[k].bitPattern == Float(text)?.bitPattern, "float32 \(text)")
        }
    }

    @Test func listsAsJSONLikeArrays() throws {
        let text = #"""
            ints,strings,floats,flags
            "[1, 2, 3]","[""a"", ""b,c"", ""q\""""]",[],[true]
            [],"[null, ""\u00e9""]","[0.5, null, -1e3]","[false, null]"
            ,,,
            """#
        let schema = CSVFixture.schema([
            "ints": .list(.int64), "strings": .list(.string), "floats": .list(.float64), "flags": .list(.bool),
        ])
        for options in CSVFixture.variants {
            let batch = try CSVFixture.read(text, schema: schema, options: options)
            #expect(
                batch.row(0) == [
                    .list([.int64(1), .int64(2), .int64(3)]), .list([.string("a"), .string("b,c"), .string("q\"")]),
                    .list([]), .list([.bool(true)]),
                ])
            #expect(
                batch.row(1) == [
                    .list([]), .list([.null, .string("é")]), .list([.float64(0.5), .null, .float64(-1000)]),
                    .list([.bool(false), .null]),
                ])
            #expect(batch.row(2) == [.null, .null, .null, .null])
        }
    }

    @Test func bytesAreTheRawBytesOfTheField() throws {
        let path = try CSVFixture.file(
            bytes: Array("b\n".utf8) + [0xFF, 0x00, 0x41] + Array("\n\"\u{22}\u{22}x\"\n".utf8))
        let batch = try CSVReader.read(path: path, schema: CSVFixture.schema(["b": .bytes]))
        #expect(batch.column(named: "b")?.values == [.bytes([0xFF, 0x00, 0x41]), .bytes(Array("\"x".utf8))])
    }
}

@Suite("CSV reader: streaming")
struct CSVStreamingTests {
    @Test func batchesHaveTheRequestedSizeAndTogetherEqualTheWhole() throws {
        var text = "id,name,score\n"
        for i in 0..<1000 { text += "\(i),\"n\(i)\nx\",\(Double(i) / 8)\n" }
        let path = try CSVFixture.file(text)
        let schema = CSVFixture.schema(["id": .int64, "name": .string, "score": .float64])
        let whole = try CSVReader.read(path: path, schema: schema)
        #expect(whole.rowCount == 1000)
        for options in [
            CSVReadOptions(batchRows: 64, chunkBytes: 100),
            CSVReadOptions(batchRows: 333, threads: 2, chunkBytes: 1000),
        ] {
            let reader = try CSVReader(path: path, schema: schema, options: options)
            var batches: [RecordBatch] = []
            while let batch = try reader.next() { batches.append(batch) }
            #expect(batches.dropLast().allSatisfy { $0.rowCount == options.batchRows })
            #expect(try RecordBatch.concatenate(batches) == whole)
            #expect(reader.rowsRead == 1000)
            #expect(try reader.next() == nil)
        }
    }

    /// A quoted field of several MB spans every split point: the two-thread path must fall
    /// back to parsing in order instead of retrying the same split (it once looped forever).
    @Test(.timeLimit(.minutes(1))) func aHugeQuotedFieldAcrossTheSplit() throws {
        let huge = String(repeating: "line of text\n", count: 300_000)
        let text = "id,note\n1,short\n2,\"\(huge)\"\n3,end\n"
        let path = try CSVFixture.file(text)
        let schema = CSVFixture.schema(["id": .int64, "note": .string])
        for options in [CSVReadOptions(threads: 2), CSVReadOptions(threads: 2, chunkBytes: 1 << 20)] {
            let batch = try CSVReader.read(path: path, schema: schema, options: options)
            #expect(batch.column(named: "note") == .string(["short", huge, "end"]))
        }
    }

    @Test func headReadsOnlyTheFirstRows() throws {
        var text = "id,v\n"
        for i in 0..<50_000 { text += "\(i),\(i % 7)\n" }
        text += "oops,1\n"  // past the rows head reads (and past the inference sample)
        let path = try CSVFixture.file(text)
        let head = try CSVReader.head(path: path, rows: 5)
        #expect(head.column(named: "id") == .int64([0, 1, 2, 3, 4]))
        #expect(try CSVReader.head(path: path, rows: 0).rowCount == 0)
        #expect(try CSVReader.head(path: try CSVFixture.file("a\n1\n"), rows: 10).rowCount == 1)
        #expect(throws: FormatError.self) { try CSVReader.read(path: path) }
    }

    /// Big enough (several MB) for the two-thread split, with quoted line breaks that the
    /// speculative split lands in, so that its fallback runs too.
    @Test func twoThreadsReadExactlyWhatOneThreadReads() throws {
        var random = SeededRandom(seed: 3)
        var text = "id,note,value,when\n"
        text.reserveCapacity(6 << 20)
        for i in 0..<120_000 {
            let note: String
            switch random.next() % 4 {
            case 0: note = "\"line one\nline two\nline \"\"three\"\"\""
            case 1: note = ""
            default: note = "plain \(i)"
            }
            text += "\(i),\(note),\(Double(i) * 0.25),2026-01-\(String(format: "%02d", i % 28 + 1))T10:00:00Z\n"
        }
        let path = try CSVFixture.file(text)
        let schema = CSVFixture.schema(["id": .int64, "note": .string, "value": .float64, "when": .timestamp])
        let one = try CSVReader.read(path: path, schema: schema)
        #expect(one.rowCount == 120_000)
        var splits = 0
        var dropped = 0
        for options in [
            CSVReadOptions(threads: 2), CSVReadOptions(threads: 2, chunkBytes: 3 << 20),
            CSVReadOptions(batchRows: 50_000, threads: 2, chunkBytes: 2 << 20),
        ] {
            let reader = try CSVReader(path: path, schema: schema, options: options)
            var batches: [RecordBatch] = []
            while let batch = try reader.next() { batches.append(batch) }
            #expect(try RecordBatch.concatenate(batches) == one)
            #expect(reader.parallelSplits > 0)
            splits += reader.parallelSplits
            dropped += reader.droppedSplits
        }
        // A quarter of the rows hold quoted line breaks: some splits must have fallen inside one.
        #expect(dropped > 0, "\(splits) splits, none dropped")
        #expect(try CSVReader.read(path: path, options: CSVReadOptions(threads: 2)) == CSVReader.read(path: path))
    }
}
