import TesseraCore

/// A parse failure inside the CSV layer, turned into a `FormatError` (with the file name) at the top.
struct CSVFailure: Error, Sendable {
    /// The 1-based physical line, relative to the line base the parse was given.
    var line: Int
    var column: String?
    var message: String
}

/// Where each field of a run of rows lies in the buffer: the output of the tokenizer and
/// the input of the column converters.
///
/// Field `f` of row `r` is slot `r * columns + f`. Offsets are into the buffer being parsed;
/// the top bit of `starts` marks a quoted field and the top bit of `ends` a quoted field
/// holding doubled quotes (which must be unescaped when copied).
struct CSVFieldIndex {
    static let flag: UInt32 = 1 << 31
    let columns: Int
    let capacityRows: Int
    var starts: [UInt32]
    var ends: [UInt32]
    var rows = 0

    init(columns: Int, capacityRows: Int) {
        self.columns = columns
        self.capacityRows = capacityRows
        starts = [UInt32](repeating: 0, count: columns * capacityRows)
        ends = [UInt32](repeating: 0, count: columns * capacityRows)
    }
}

/// Splits bytes into rows and fields (RFC 4180), recording field positions in a `CSVFieldIndex`.
///
/// The tokenizer stops at a row boundary: when the index is full, when the bytes end in the
/// middle of a row and more may come (`final == false`), or at the end of the input.
struct CSVTokenizer {
    let delimiter: UInt8
    let columnNames: [String]
    var columnCount: Int { columnNames.count }

    enum Stop { case indexFull, needMoreData, endOfInput }

    struct Progress {
        /// The offset after the last complete row.
        var consumed: Int
        /// Line breaks (LF) in the consumed bytes.
        var lines: Int
        var stop: Stop
    }

    private static let quote = UInt8(ascii: "\"")
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080
    private static let lfWord: UInt64 = 0x0A0A_0A0A_0A0A_0A0A

    /// Tokenizes at most `maxRows` rows of `base[from ..< end]` into `index` (which it resets).
    /// `lineBase` is the line number of the byte at `from`, used in errors.
    func tokenize(
        _ base: UnsafePointer<UInt8>, from: Int, end: Int, final: Bool, maxRows: Int, lineBase: Int,
        into index: inout CSVFieldIndex
    ) throws(CSVFailure) -> Progress {
        let columns = columnCount
        let delimiter = self.delimiter
        let quote = CSVTokenizer.quote
        let lf = CSVTokenizer.lf
        let cr = CSVTokenizer.cr
        let delimiterWord = UInt64(delimiter) &* CSVTokenizer.ones
        var p = from
        var line = 0  // LFs seen since `from`
        var rows = 0
        let capacity = min(index.capacityRows, maxRows)
        return try index.starts.withUnsafeMutableBufferPointer { starts throws(CSVFailure) -> Progress in
            try index.ends.withUnsafeMutableBufferPointer { ends throws(CSVFailure) -> Progress in
                defer { index.rows = rows }
                rowLoop: while true {
                    if rows == capacity { return Progress(consumed: p, lines: line, stop: .indexFull) }
                    let rowStart = p
                    let rowLine = line
                    if p == end { return Progress(consumed: p, lines: line, stop: final ? .endOfInput : .needMoreData) }
                    // A blank line is skipped when there are several columns (see CSVReadOptions).
                    if columns > 1 {
                        if base[p] == lf {
                            p += 1
                            line += 1
                            continue rowLoop
                        }
                        if base[p] == cr {
                            if p + 1 < end, base[p + 1] == lf {
                                p += 2
                                line += 1
                                continue rowLoop
                            }
                            if p + 1 == end, !final {
                                return Progress(consumed: rowStart, lines: rowLine, stop: .needMoreData)
                            }
                        }
                    }
                    let slot = rows * columns
                    var field = 0
                    fieldLoop: while true {
                        if p == end || base[p] != quote {
                            // Unquoted: up to the next delimiter or LF.
                            let s = p
                            // Eight bytes at a time while they hold neither a delimiter nor
                            // a LF (a zero byte in word ^ pattern marks a match; the lowest
                            // one is exact), then byte by byte.
                            var matched = false
                            while p + 8 <= end {
                                let word = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
                                let x = word ^ delimiterWord
                                let y = word ^ CSVTokenizer.lfWord
                                let hits =
                                    ((x &- CSVTokenizer.ones) & ~x | (y &- CSVTokenizer.ones) & ~y) & CSVTokenizer.highs
                                if hits != 0 {
                                    p += hits.trailingZeroBitCount >> 3
                                    matched = true
                                    break
                                }
                                p += 8
                            }
                            if !matched {
                                while p < end {
                                    let c = base[p]
                                    if c == delimiter || c == lf { break }
                                    p += 1
                                }
                            }
                            if p == end, !final {
                                p = rowStart
                                line = rowLine
                                return Progress(consumed: rowStart, lines: rowLine, stop: .needMoreData)
                            }
                            var e = p
                            let atDelimiter = p < end && base[p] == delimiter
                            if !atDelimiter, e > s, base[e - 1] == cr { e -= 1 }
                            if field < columns {
                                starts[slot + field] = UInt32(truncatingIfNeeded: s)
                                ends[slot + field] = UInt32(truncatingIfNeeded: e)
                            }
                            if atDelimiter {
                                p += 1
                                field += 1
                                if p == end, !final {
                                    p = rowStart
                                    line = rowLine
                                    return Progress(consumed: rowStart, lines: rowLine, stop: .needMoreData)
                                }
                                if p == end {
                                    // "a,b," at the very end: one more, empty, field.
                                    if field < columns {
                                        starts[slot + field] = UInt32(truncatingIfNeeded: p)
                                        ends[slot + field] = UInt32(truncatingIfNeeded: p)
                                    }
                                    break fieldLoop
                                }
                                continue fieldLoop
                            }
                            if p < end {
                                p += 1  // the LF
                                line += 1
                            }
                            break fieldLoop
                        }
                        // Quoted: up to the closing quote; "" is an escaped quote.
                        let fieldLine = line
                        p += 1
                        let s = p
                        var escaped = false
                        while true {
                            while p < end, base[p] != quote {
                                if base[p] == lf { line += 1 }
                                p += 1
                            }
                            if p == end || (p + 1 == end && !final) {
                                if !final {
                                    p = rowStart
                                    line = rowLine
                                    return Progress(consumed: rowStart, lines: rowLine, stop: .needMoreData)
                                }
                                throw CSVFailure(
                                    line: lineBase + fieldLine, column: columnName(field),
                                    message: "a quoted field is not closed: the file ends before its closing quote")
                            }
                            if p + 1 < end, base[p + 1] == quote {
                                escaped = true
                                p += 2
                                continue
                            }
                            break
                        }
                        if field < columns {
                            starts[slot + field] = UInt32(truncatingIfNeeded: s) | CSVFieldIndex.flag
                            ends[slot + field] = UInt32(truncatingIfNeeded: p) | (escaped ? CSVFieldIndex.flag : 0)
                        }
                        p += 1  // the closing quote
                        if p == end { break fieldLoop }  // final: checked above
                        let c = base[p]
                        if c == delimiter {
                            p += 1
                            field += 1
                            if p == end, !final {
                                p = rowStart
                                line = rowLine
                                return Progress(consumed: rowStart, lines: rowLine, stop: .needMoreData)
                            }
                            if p == end {
                                if field < columns {
                                    starts[slot + field] = UInt32(truncatingIfNeeded: p)
                                    ends[slot + field] = UInt32(truncatingIfNeeded: p)
                                }
                                break fieldLoop
                            }
                            continue fieldLoop
                        }
                        if c == lf {
                            p += 1
                            line += 1
                            break fieldLoop
                        }
                        if c == cr {
                            if p + 1 < end, base[p + 1] == lf {
                                p += 2
                                line += 1
                                break fieldLoop
                            }
                            if p + 1 == end {
                                if !final {
                                    p = rowStart
                                    line = rowLine
                                    return Progress(consumed: rowStart, lines: rowLine, stop: .needMoreData)
                                }
                                p += 1
                                break fieldLoop
                            }
                        }
                        throw CSVFailure(
                            line: lineBase + line, column: columnName(field),
                            message: "unexpected \(CSVText.describe(byte: c)) after a closing quote; "
                                + "expected a delimiter or the end of the line (a quote inside a quoted field is written \"\")"
                        )
                    }
                    guard field + 1 == columns else {
                        throw CSVFailure(
                            line: lineBase + rowLine, column: nil,
                            message:
                                "expected \(columns) field\(columns == 1 ? "" : "s") as in the header, found \(field + 1)"
                        )
                    }
                    rows += 1
                }
            }
        }
    }

    private func columnName(_ field: Int) -> String? {
        field < columnNames.count ? columnNames[field] : nil
    }
}

/// Small text helpers for messages.
enum CSVText {
    static func describe(byte: UInt8) -> String {
        if byte >= 32, byte < 127 { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    /// "an int64", "a float32": a type's name with its article.
    static func article(_ type: ValueType) -> String {
        (type.name.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + type.name
    }

    /// A field's text for an error message, shortened.
    static func snippet(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
        let n = min(end - start, 60)
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: n), as: UTF8.self)
        return end - start > n ? text + "…" : text
    }
}
