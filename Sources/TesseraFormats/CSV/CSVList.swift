import TesseraColumnar
import TesseraCore

/// Reads list fields written as JSON-like arrays: `[1, 2, 3]`, `[0.5, null]`, `["a", "b"]`,
/// `[true, false]`, `["2026-01-01T00:00:00Z"]`, `[]`.
///
/// Elements are separated by commas with optional spaces. Numbers and booleans are bare;
/// strings, bytes and timestamps are JSON strings (escapes `\" \\ \/ \b \f \n \r \t \uXXXX`);
/// `null` is a null element. Lists are a slow path (values go through `ScalarValue`).
struct CSVListBuilder {
    struct Problem: Error {
        var message: String
    }

    private(set) var element: ValueType = .int64
    private var offsets: [Int] = [0]
    private var items: [ScalarValue] = []

    init() {}

    init(element: ValueType) {
        self.element = element
    }

    mutating func appendNull() {
        offsets.append(items.count)
    }

    /// Parses `base[s ..< e]` (a CSV field; `escaped` when it holds doubled quotes) as a list.
    mutating func append(_ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int, escaped: Bool) throws(Problem) {
        if escaped {
            var text: [UInt8] = []
            var i = s
            while i < e {
                text.append(base[i])
                i += base[i] == UInt8(ascii: "\"") ? 2 : 1
            }
            try text.withUnsafeBufferPointer { buffer throws(Problem) in
                guard let start = buffer.baseAddress else { throw Problem(message: "expected '['") }
                try parse(start, 0, buffer.count)
            }
        } else {
            try parse(base, s, e)
        }
    }

    private mutating func parse(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) throws(Problem) {
        var i = start
        func skipSpaces() { while i < end, p[i] == 32 || p[i] == 9 || p[i] == 10 || p[i] == 13 { i += 1 } }
        skipSpaces()
        guard i < end, p[i] == UInt8(ascii: "[") else { throw Problem(message: "expected '[' to open the list") }
        i += 1
        let mark = items.count
        skipSpaces()
        if i < end, p[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                skipSpaces()
                do throws(Problem) {
                    items.append(try value(p, &i, end))
                } catch {
                    items.removeSubrange(mark...)
                    throw error
                }
                skipSpaces()
                guard i < end else {
                    items.removeSubrange(mark...)
                    throw Problem(message: "expected ']' to close the list")
                }
                if p[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if p[i] == UInt8(ascii: "]") {
                    i += 1
                    break
                }
                items.removeSubrange(mark...)
                throw Problem(message: "expected ',' or ']' after an element, found \(CSVText.describe(byte: p[i]))")
            }
        }
        skipSpaces()
        guard i == end else {
            items.removeSubrange(mark...)
            throw Problem(message: "unexpected text after the closing ']'")
        }
        offsets.append(items.count)
    }

    private func value(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) throws(Problem) -> ScalarValue {
        if end - i >= 4, CSVValue.matches(p, i, "null") {
            i += 4
            return .null
        }
        switch element {
        case .string, .bytes, .timestamp:
            let bytes = try string(p, &i, end)
            switch element {
            case .string:
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw Problem(message: "an element is not valid UTF-8")
                }
                return .string(text)
            case .bytes:
                return .bytes(bytes)
            default:
                let micros = bytes.withUnsafeBufferPointer { Timestamp.parseMicros($0) }
                guard let micros else { throw Problem(message: "an element is not an ISO 8601 timestamp") }
                return .timestamp(Timestamp(microseconds: micros))
            }
        default:
            let s = i
            while i < end, p[i] != UInt8(ascii: ","), p[i] != UInt8(ascii: "]"), p[i] != 32 { i += 1 }
            switch element {
            case .bool:
                if let v = CSVValue.bool(p, s, i), CSVValue.isBoolWord(p, s, i) { return .bool(v) }
            case .int32:
                if let v = CSVValue.int64(p, s, i), let narrow = Int32(exactly: v) { return .int32(narrow) }
            case .int64:
                if let v = CSVValue.int64(p, s, i) { return .int64(v) }
            case .float32:
                if let v = CSVFloat.float(p, s, i) { return .float32(v) }
            case .float64:
                if let v = CSVFloat.double(p, s, i) { return .float64(v) }
            default:
                break
            }
            throw Problem(message: "element '\(CSVText.snippet(p, s, i))' is not \(CSVText.article(element))")
        }
    }

    /// A JSON string at `i`, unescaped.
    private func string(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) throws(Problem) -> [UInt8] {
        guard i < end, p[i] == UInt8(ascii: "\"") else { throw Problem(message: "expected a quoted string element") }
        i += 1
        var out: [UInt8] = []
        while i < end {
            let c = p[i]
            i += 1
            if c == UInt8(ascii: "\"") { return out }
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            guard i < end else { break }
            let escape = p[i]
            i += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                guard end - i >= 4,
                    let unit = UInt32(
                        String(decoding: UnsafeBufferPointer(start: p + i, count: 4), as: UTF8.self), radix: 16)
                else { throw Problem(message: "a \\u escape needs four hex digits") }
                i += 4
                var scalar = unit
                // A surrogate pair: \uD83D\uDE00.
                if (0xD800..<0xDC00).contains(unit), end - i >= 6, p[i] == UInt8(ascii: "\\"),
                    p[i + 1] == UInt8(ascii: "u"),
                    let low = UInt32(
                        String(decoding: UnsafeBufferPointer(start: p + i + 2, count: 4), as: UTF8.self), radix: 16),
                    (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let u = Unicode.Scalar(scalar) else {
                    throw Problem(message: "a \\u escape is not a Unicode scalar")
                }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw Problem(message: "unknown escape '\\\(Character(Unicode.Scalar(escape)))' in a string element")
            }
        }
        throw Problem(message: "a string element is not closed")
    }

    mutating func append(_ other: CSVListBuilder) {
        let base = items.count
        items.append(contentsOf: other.items)
        for offset in other.offsets.dropFirst() { offsets.append(base + offset) }
    }

    /// The list data: offsets and the element column (values were type-checked when parsed).
    func finish() -> ColumnData {
        var builder = ColumnBuilder(type: element, capacity: items.count)
        for item in items { builder.append(item) }
        return .list(offsets: offsets, values: builder.finish())
    }
}
