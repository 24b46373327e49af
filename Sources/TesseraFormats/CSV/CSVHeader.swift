import TesseraColumnar
import TesseraCore

/// The header line: column names, checked, and the declared schema matched against them.
enum CSVHeader {
    /// Reads the header at the input's start (after a UTF-8 byte order mark), consuming it.
    static func read(_ input: CSVInput, delimiter: UInt8) throws(FormatError) -> [String] {
        try input.refill()
        if input.available >= 3, input.buffer[input.start] == 0xEF, input.buffer[input.start + 1] == 0xBB,
            input.buffer[input.start + 2] == 0xBF
        {
            input.consume(3, lines: 0)
        }
        while true {
            if input.available == 0, input.eof {
                throw FormatError(
                    file: input.path, location: "line 1", "the file is empty: expected a header line of column names")
            }
            if let (names, consumed, lines) = try fields(input, delimiter: delimiter) {
                try check(names, file: input.path)
                input.consume(consumed, lines: lines)
                return names
            }
            try input.refill()
        }
    }

    /// One row's fields (slow path, for the header only); `nil` when more bytes are needed.
    private static func fields(_ input: CSVInput, delimiter: UInt8) throws(FormatError) -> ([String], Int, Int)? {
        let p = input.pointer
        let end = input.end
        var i = input.start
        var names: [String] = []
        var current: [UInt8] = []
        var lines = 0
        while true {
            current.removeAll(keepingCapacity: true)
            if i < end, p[i] == UInt8(ascii: "\"") {
                i += 1
                while true {
                    guard i < end else {
                        if input.eof {
                            throw FormatError(
                                file: input.path, location: "line 1",
                                "a quoted column name is not closed: the file ends before its closing quote")
                        }
                        return nil
                    }
                    if p[i] == UInt8(ascii: "\"") {
                        if i + 1 < end, p[i + 1] == UInt8(ascii: "\"") {
                            current.append(p[i])
                            i += 2
                            continue
                        }
                        if i + 1 == end, !input.eof { return nil }
                        i += 1
                        break
                    }
                    if p[i] == 10 { lines += 1 }
                    current.append(p[i])
                    i += 1
                }
                if i < end, p[i] != delimiter, p[i] != 10, !(p[i] == 13 && i + 1 < end && p[i + 1] == 10) {
                    if p[i] == 13, i + 1 == end, !input.eof { return nil }
                    throw FormatError(
                        file: input.path, location: "line \(1 + lines)",
                        "unexpected \(CSVText.describe(byte: p[i])) after the closing quote of a column name")
                }
            } else {
                while i < end, p[i] != delimiter, p[i] != 10 {
                    current.append(p[i])
                    i += 1
                }
                if i == end, !input.eof { return nil }
                if i < end || input.eof, current.last == 13, i == end || p[i] == 10 { current.removeLast() }
            }
            guard let name = String(validating: current, as: UTF8.self) else {
                throw FormatError(
                    file: input.path, location: "line 1", "column \(names.count + 1) of the header is not valid UTF-8")
            }
            names.append(name)
            if i == end { return (names, i - input.start, lines) }
            if p[i] == delimiter {
                i += 1
                if i == end, !input.eof { return nil }
                if i == end {
                    names.append("")
                    return (names, i - input.start, lines)
                }
                continue
            }
            if p[i] == 13 { i += 1 }
            // p[i] is the LF ending the header.
            i += 1
            lines += 1
            return (names, i - input.start, lines)
        }
    }

    private static func check(_ names: [String], file: String) throws(FormatError) {
        var seen: [String: Int] = [:]
        for (position, name) in names.enumerated() {
            guard !name.isEmpty else {
                throw FormatError(
                    file: file, location: "line 1",
                    "column \(position + 1) of the header has an empty name; every column needs a name")
            }
            if let first = seen[name] {
                throw FormatError(
                    file: file, location: "line 1",
                    "the column name '\(name)' appears twice in the header (columns \(first + 1) and \(position + 1))")
            }
            seen[name] = position
        }
    }

    /// The header position of each declared field; a missing one is an error naming it.
    static func match(_ schema: Schema, header: [String], file: String) throws(FormatError) -> [Int] {
        var positions: [Int] = []
        for field in schema.fields {
            guard let position = header.firstIndex(of: field.name) else {
                var message = "no column named '\(field.name)' in the header"
                if let hint = Suggestions.hint(for: field.name, in: header) { message += "; \(hint)" }
                message += " (the header has: \(header.joined(separator: ", ")))"
                throw FormatError(file: file, location: "line 1", message)
            }
            positions.append(position)
        }
        return positions
    }
}
