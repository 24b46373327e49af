import TesseraColumnar
import TesseraCore

/// Reads Arrow's IPC format — the streaming format (`pyarrow.ipc.new_stream`, what
/// `ArrowIPCWriter` writes) or the file format (`ARROW1` magic) — into one record batch:
/// how entity rows come from Python clients without a Parquet encode.
///
/// Types: signed and unsigned integers (8–32 bits become int32, 64 int64; an unsigned
/// 64-bit value past int64's range is an error), float32, float64, bool, utf8 and binary
/// (32- and 64-bit offsets), timestamps of any unit and zone (as UTC microseconds;
/// nanoseconds are floored), date32 (midnight UTC). Dictionary-encoded columns (pandas
/// categoricals), compressed bodies, lists, structs and the other types are refused with
/// the column named. Every offset and length is checked against the bytes: a damaged
/// stream is an error, never a crash.
public enum ArrowIPCReader {
    /// Whether `bytes` start like an Arrow IPC stream or file.
    public static func looksLikeArrow(_ bytes: some Collection<UInt8>) -> Bool {
        let head = Array(bytes.prefix(6))
        return head.starts(with: [0xFF, 0xFF, 0xFF, 0xFF]) || head == Array("ARROW1".utf8)
    }

    /// The rows of the stream (or file) in `bytes`, every record batch in order.
    /// - Parameter source: how errors name the input (a file path, "the request body").
    public static func read(_ bytes: [UInt8], source: String = "Arrow IPC stream") throws(FormatError) -> RecordBatch {
        func fail(_ message: String, _ location: String? = nil) -> FormatError {
            FormatError(file: source, location: location, message)
        }
        var at = bytes.starts(with: Array("ARROW1".utf8)) ? 8 : 0
        var fields: [FieldSpec]?
        var batches: [RecordBatch] = []
        var index = 0
        while at + 4 <= bytes.count {
            guard var length = FlatBufferTable.u32(bytes, at).map({ Int(Int32(bitPattern: $0)) }) else { break }
            at += 4
            if length == -1 {  // the continuation marker, then the length
                guard let next = FlatBufferTable.u32(bytes, at) else { throw fail("the stream ends inside a message") }
                length = Int(Int32(bitPattern: next))
                at += 4
            }
            if length == 0 { break }  // end of stream
            guard length > 0, at + length <= bytes.count else {
                throw fail(
                    "message \(index) claims \(length) bytes of metadata; the stream has \(bytes.count - at) left")
            }
            let metadata = Array(bytes[at..<(at + length)])
            at += length
            guard let message = FlatBufferTable(root: metadata) else { throw fail("message \(index) is not readable") }
            let bodyLength = Int(message.i64(3))
            guard bodyLength >= 0, at + bodyLength <= bytes.count else {
                throw fail(
                    "message \(index) claims a body of \(bodyLength) bytes; the stream has \(bytes.count - at) left")
            }
            let body = at
            at += bodyLength
            switch message.u8(1) {
            case 1:  // Schema
                guard let schema = message.table(2), let list = schema.tables(1) else {
                    throw fail("the schema message is not readable")
                }
                fields = try list.map { table throws(FormatError) in try FieldSpec(table, source: source) }
            case 2:
                throw fail(
                    "dictionary-encoded columns are not supported",
                    "column '\(fields?.first { $0.dictionary }?.name ?? "?")'")
            case 3:  // RecordBatch
                guard let fields else { throw fail("a record batch comes before the schema") }
                guard let header = message.table(2) else { throw fail("record batch \(batches.count) is not readable") }
                batches.append(
                    try recordBatch(
                        header, fields: fields, bytes: bytes, body: body, bodyLength: bodyLength, source: source))
            case 0:
                // A file's footer follows its last message: stop at the first non-message.
                at = bytes.count
            default:
                throw fail("message \(index) is of a kind this reader does not take (\(message.u8(1)))")
            }
            index += 1
        }
        guard let fields else { throw fail("no schema: this is not an Arrow IPC stream") }
        let schema = Schema(fields.map { Field($0.name, $0.type, nullable: $0.nullable) })
        guard !batches.isEmpty else { return RecordBatch(empty: schema) }
        do {
            return batches.count == 1 ? batches[0] : try RecordBatch.concatenate(batches)
        } catch {
            throw fail("the record batches do not concatenate: \(error)")
        }
    }

    /// One field of the schema, as far as this reader takes it.
    struct FieldSpec {
        enum Kind {
            case int(bits: Int, signed: Bool)
            case float(double: Bool)
            case bool, utf8, binary, largeUtf8, largeBinary, date32
            /// Microseconds per unit (`divide`: nanoseconds, floored).
            case timestamp(multiply: Int64, divide: Bool)
        }

        let name: String
        let nullable: Bool
        let kind: Kind
        let dictionary: Bool

        init(_ table: FlatBufferTable, source: String) throws(FormatError) {
            name = table.string(0) ?? ""
            nullable = table.bool(1)
            dictionary = table.table(4) != nil
            let location = "column '\(Echo.clip(name))'"
            func refuse(_ what: String, hint: String) -> FormatError {
                FormatError(file: source, location: location, "\(what) is not supported; \(hint)")
            }
            if dictionary {
                throw refuse(
                    "a dictionary-encoded column (a pandas categorical)", hint: "send it as strings: df[c].astype(str)")
            }
            let type = table.table(3)
            switch table.u8(2) {
            case 2:
                let bits = Int(type?.i32(0) ?? 0)
                guard [8, 16, 32, 64].contains(bits) else { throw refuse("a \(bits)-bit integer", hint: "cast it") }
                kind = .int(bits: bits, signed: type?.bool(1) ?? false)
            case 3:
                switch type?.i16(0) ?? 0 {
                case 1: kind = .float(double: false)
                case 2: kind = .float(double: true)
                default: throw refuse("a half-precision float", hint: "cast it to float32 or float64")
                }
            case 4: kind = .binary
            case 5: kind = .utf8
            case 6: kind = .bool
            case 8:
                guard type?.i16(0) ?? 0 == 0 else { throw refuse("date64", hint: "send it as a timestamp") }
                kind = .date32
            case 10:
                switch type?.i16(0) ?? 0 {
                case 0: kind = .timestamp(multiply: 1_000_000, divide: false)
                case 1: kind = .timestamp(multiply: 1_000, divide: false)
                case 2: kind = .timestamp(multiply: 1, divide: false)
                default: kind = .timestamp(multiply: 1, divide: true)
                }
            case 19: kind = .largeBinary
            case 20: kind = .largeUtf8
            case 1: throw refuse("a column of nulls only (no type)", hint: "give it a type or leave it out")
            case 12, 16, 21: throw refuse("a list column", hint: "leave it out of the entity rows")
            case 13: throw refuse("a struct column", hint: "flatten it")
            default: throw refuse("Arrow type \(table.u8(2))", hint: "cast it to a number, string, bool or timestamp")
            }
        }

        var type: ValueType {
            switch kind {
            case .int(let bits, let signed): bits < 32 || (bits == 32 && signed) ? .int32 : .int64
            case .float(let double): double ? .float64 : .float32
            case .bool: .bool
            case .utf8, .largeUtf8: .string
            case .binary, .largeBinary: .bytes
            case .date32, .timestamp: .timestamp
            }
        }
    }

    private static func recordBatch(
        _ header: FlatBufferTable, fields: [FieldSpec], bytes: [UInt8], body: Int, bodyLength: Int, source: String
    ) throws(FormatError) -> RecordBatch {
        func fail(_ message: String, _ location: String? = nil) -> FormatError {
            FormatError(file: source, location: location, message)
        }
        if header.table(3) != nil {
            throw fail(
                "compressed record batches are not supported; write the stream uncompressed (pyarrow.ipc.new_stream(sink, schema) without IpcWriteOptions(compression=...))"
            )
        }
        let rows = Int(header.i64(0))
        guard let nodePositions = header.structs(1, width: 16), let bufferPositions = header.structs(2, width: 16)
        else { throw fail("a record batch's nodes or buffers are not readable") }
        // The nodes and buffers are structs inside the metadata; the buffers point into the body.
        let metadata = header.bytes
        let nodes = nodePositions.map {
            (
                length: Int(FlatBufferTable.i64(metadata, $0) ?? -1),
                nulls: Int(FlatBufferTable.i64(metadata, $0 + 8) ?? -1)
            )
        }
        let buffers = bufferPositions.map {
            (
                offset: Int(FlatBufferTable.i64(metadata, $0) ?? -1),
                length: Int(FlatBufferTable.i64(metadata, $0 + 8) ?? -1)
            )
        }
        var node = 0
        var buffer = 0
        var columns: [Column] = []
        for field in fields {
            let location = "column '\(Echo.clip(field.name))'"
            guard node < nodes.count else { throw fail("the record batch has fewer columns than the schema", location) }
            let (length, nulls) = nodes[node]
            node += 1
            guard length == rows, nulls >= 0, nulls <= length else {
                throw fail("\(length) values (\(nulls) null) where the batch has \(rows) rows", location)
            }
            let count: Int
            switch field.kind {
            case .utf8, .binary, .largeUtf8, .largeBinary: count = 3
            default: count = 2
            }
            guard buffer + count <= buffers.count else { throw fail("the record batch lacks buffers", location) }
            var slices: [ArraySlice<UInt8>] = []
            for (offset, size) in buffers[buffer..<(buffer + count)] {
                guard offset >= 0, size >= 0, offset + size <= bodyLength else {
                    throw fail("a buffer lies outside the message body", location)
                }
                slices.append(bytes[(body + offset)..<(body + offset + size)])
            }
            buffer += count
            columns.append(try column(field, rows: length, nulls: nulls, slices, fail: { fail($0, location) }))
        }
        do {
            return try RecordBatch(
                schema: Schema(fields.map { Field($0.name, $0.type, nullable: $0.nullable) }), columns: columns)
        } catch {
            throw fail("the record batch does not hold together: \(error)")
        }
    }

    /// Little-endian fixed-width values from `slice`.
    private static func words<T: FixedWidthInteger>(_ slice: ArraySlice<UInt8>, count: Int, as: T.Type) -> [T]? {
        let width = MemoryLayout<T>.size
        guard slice.count >= count * width else { return nil }
        return slice.withUnsafeBytes { raw in
            (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * width, as: T.self)) }
        }
    }

    private static func column(
        _ field: FieldSpec, rows: Int, nulls: Int, _ slices: [ArraySlice<UInt8>], fail: (String) -> FormatError
    ) throws(FormatError) -> Column {
        var validity: Bitmap?
        if nulls > 0 {
            let bits = slices[0]
            guard bits.count >= (rows + 7) / 8 else { throw fail("its validity buffer is too short") }
            var words = [UInt64](repeating: 0, count: (rows + 63) / 64)
            for (i, byte) in bits.prefix((rows + 7) / 8).enumerated() {
                words[i >> 3] |= UInt64(byte) << (8 * UInt64(i & 7))
            }
            if rows % 64 != 0, !words.isEmpty { words[words.count - 1] &= (1 << UInt64(rows % 64)) - 1 }
            validity = Bitmap(words: words, count: rows)
        }
        let values = slices[1]
        let short = "its values buffer is shorter than its \(rows) rows"
        let data: ColumnData
        switch field.kind {
        case .int(let bits, let signed):
            switch (bits, signed) {
            case (8, true): data = .int32((words(values, count: rows, as: Int8.self) ?? []).map(Int32.init))
            case (8, false): data = .int32((words(values, count: rows, as: UInt8.self) ?? []).map(Int32.init))
            case (16, true): data = .int32((words(values, count: rows, as: Int16.self) ?? []).map(Int32.init))
            case (16, false): data = .int32((words(values, count: rows, as: UInt16.self) ?? []).map(Int32.init))
            case (32, true): data = .int32(words(values, count: rows, as: Int32.self) ?? [])
            case (32, false): data = .int64((words(values, count: rows, as: UInt32.self) ?? []).map(Int64.init))
            case (64, true): data = .int64(words(values, count: rows, as: Int64.self) ?? [])
            default:
                let raw = words(values, count: rows, as: UInt64.self) ?? []
                var out: [Int64] = []
                out.reserveCapacity(raw.count)
                for (row, value) in raw.enumerated() {
                    guard value <= UInt64(Int64.max) || validity.map({ !$0[row] }) == true else {
                        throw fail("row \(row): \(value) is past int64's range")
                    }
                    out.append(Int64(truncatingIfNeeded: value))
                }
                data = .int64(out)
            }
            guard data.count == rows else { throw fail(short) }
        case .float(let double):
            if double {
                guard let raw = words(values, count: rows, as: UInt64.self) else { throw fail(short) }
                data = .float64(raw.map { Double(bitPattern: $0) })
            } else {
                guard let raw = words(values, count: rows, as: UInt32.self) else { throw fail(short) }
                data = .float32(raw.map { Float(bitPattern: $0) })
            }
        case .bool:
            guard values.count >= (rows + 7) / 8 else { throw fail(short) }
            let base = values.startIndex
            data = .bool((0..<rows).map { values[base + ($0 >> 3)] & (1 << UInt8($0 & 7)) != 0 })
        case .date32:
            guard let days = words(values, count: rows, as: Int32.self) else { throw fail(short) }
            data = .int64(days.map { Int64($0) * 86_400_000_000 })
        case .timestamp(let multiply, let divide):
            guard let raw = words(values, count: rows, as: Int64.self) else { throw fail(short) }
            var out: [Int64] = []
            out.reserveCapacity(rows)
            for (row, value) in raw.enumerated() {
                if divide {
                    out.append(value >= 0 ? value / 1000 : -((-(value + 1)) / 1000) - 1)
                } else {
                    let (scaled, overflow) = value.multipliedReportingOverflow(by: multiply)
                    guard !overflow || validity.map({ !$0[row] }) == true else {
                        throw fail("row \(row): \(value) is past the range of microsecond timestamps")
                    }
                    out.append(overflow ? 0 : scaled)
                }
            }
            data = .int64(out)
        case .utf8, .binary, .largeUtf8, .largeBinary:
            let large: Bool
            switch field.kind {
            case .largeUtf8, .largeBinary: large = true
            default: large = false
            }
            let offsets: [Int]
            if large {
                offsets = (words(values, count: rows + 1, as: Int64.self) ?? []).map { Int($0) }
            } else {
                offsets = (words(values, count: rows + 1, as: Int32.self) ?? []).map { Int($0) }
            }
            let bytes = slices[2]
            guard offsets.count == rows + 1, let first = offsets.first, let last = offsets.last, first >= 0,
                last <= bytes.count, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 })
            else { throw fail("its offsets are out of order or past its data") }
            let base = bytes.startIndex
            data = .binary(
                BinaryData(offsets: offsets.map { $0 - first }, bytes: Array(bytes[(base + first)..<(base + last)])))
        }
        return Column(type: field.type, data: data, validity: validity)
    }
}
