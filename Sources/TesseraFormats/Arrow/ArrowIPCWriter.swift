import TesseraColumnar
import TesseraCore

/// Writes record batches in Arrow's IPC streaming format (a schema message, record-batch
/// messages, the end-of-stream marker), which pyarrow, pandas, Polars and DuckDB read
/// without conversion (`pyarrow.ipc.open_stream`).
///
/// Types: bool, int32, int64, float32, float64, string (utf8), bytes (binary), timestamp
/// (microseconds, UTC) and lists of these. Validity buffers are Arrow's bit order (least
/// significant bit first), which is `Bitmap`'s; columns without nulls send none. Fields
/// keep the schema's nullability.
public enum ArrowIPCWriter {
    /// Rows per record-batch message.
    public static let defaultRowsPerBatch = 65_536

    /// The whole stream of `batch`, in messages of `rowsPerBatch` rows.
    public static func stream(_ batch: RecordBatch, rowsPerBatch: Int = defaultRowsPerBatch) throws(FormatError)
        -> [UInt8]
    {
        var out = header(batch.schema)
        for range in ranges(batch.rowCount, rowsPerBatch: rowsPerBatch) {
            try recordBatch(batch.slice(range), into: &out)
        }
        out += end
        return out
    }

    /// The stream's first message: the schema.
    public static func header(_ schema: Schema) -> [UInt8] {
        var out: [UInt8] = []
        message(self.schema(schema), body: [], into: &out)
        return out
    }

    /// One record-batch message of `batch` (between `header` and `end`; a streamed answer
    /// sends the messages one by one).
    public static func message(_ batch: RecordBatch) throws(FormatError) -> [UInt8] {
        var out: [UInt8] = []
        try recordBatch(batch, into: &out)
        return out
    }

    /// The end-of-stream marker: a continuation marker and a zero length.
    public static let end: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]

    /// The row ranges of the record-batch messages of `rows` rows (one empty range for none,
    /// so a stream always has a batch).
    public static func ranges(_ rows: Int, rowsPerBatch: Int = defaultRowsPerBatch) -> [Range<Int>] {
        let step = max(1, rowsPerBatch)
        guard rows > 0 else { return [0..<0] }
        return stride(from: 0, to: rows, by: step).map { $0..<min(rows, $0 + step) }
    }

    // MARK: Schema

    /// Arrow's `Type` union tag and table for a value type.
    private static func type(_ value: ValueType, _ b: inout FlatBufferBuilder) -> (tag: UInt8, table: Int) {
        switch value {
        case .bool:
            b.startTable()
            return (6, b.endTable())
        case .int32, .int64:
            b.startTable()
            b.add(0, Int32(value == .int32 ? 32 : 64))
            b.add(1, true)
            return (2, b.endTable())
        case .float32, .float64:
            b.startTable()
            b.add(0, Int16(value == .float32 ? 1 : 2))
            return (3, b.endTable())
        case .string:
            b.startTable()
            return (5, b.endTable())
        case .bytes:
            b.startTable()
            return (4, b.endTable())
        case .timestamp:
            let zone = b.string("UTC")
            b.startTable()
            b.add(0, Int16(2))  // MICROSECOND
            b.add(1, offset: zone)
            return (10, b.endTable())
        case .list:
            b.startTable()
            return (12, b.endTable())
        }
    }

    private static func field(_ name: String, _ value: ValueType, nullable: Bool, _ b: inout FlatBufferBuilder)
        -> Int
    {
        var children: [Int] = []
        if case .list(let element) = value { children.append(field("item", element, nullable: true, &b)) }
        let childVector = b.vector(offsets: children)
        let (tag, table) = type(value, &b)
        let nameOffset = b.string(name)
        b.startTable()
        b.add(0, offset: nameOffset)
        b.add(1, nullable)
        b.add(2, tag)
        b.add(3, offset: table)
        b.add(5, offset: childVector)
        return b.endTable()
    }

    private static func schema(_ schema: Schema) -> [UInt8] {
        var b = FlatBufferBuilder()
        let fields = schema.fields.map { field($0.name, $0.type, nullable: $0.nullable, &b) }
        let vector = b.vector(offsets: fields)
        b.startTable()
        b.add(0, Int16(0))  // little-endian
        b.add(1, offset: vector)
        let table = b.endTable()
        return messageHeader(&b, tag: 1, header: table, bodyLength: 0)
    }

    private static func messageHeader(_ b: inout FlatBufferBuilder, tag: UInt8, header: Int, bodyLength: Int64)
        -> [UInt8]
    {
        b.startTable()
        b.add(0, Int16(4))  // MetadataVersion V5
        b.add(1, tag)
        b.add(2, offset: header)
        b.add(3, bodyLength)
        return b.finish(b.endTable())
    }

    // MARK: Record batches

    /// The body's buffers and nodes, depth first, as `recordBatch` lays them out.
    private struct Body {
        var nodes: [(Int64, Int64)] = []
        var buffers: [[UInt8]] = []
    }

    private static func bytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    private static func bits(_ flags: [Bool]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (flags.count + 7) / 8)
        for (i, flag) in flags.enumerated() where flag { out[i >> 3] |= 1 << UInt8(i & 7) }
        return out
    }

    private static func offsets(_ values: [Int], column: String) throws(FormatError) -> [UInt8] {
        guard let last = values.last, last <= Int(Int32.max) else {
            throw FormatError(
                file: "Arrow IPC stream", location: "column '\(column)'",
                "more than 2 GiB of values in one record batch; use fewer rows per batch")
        }
        return bytes(values.map { Int32(truncatingIfNeeded: $0) })
    }

    private static func add(_ column: Column, name: String, to body: inout Body) throws(FormatError) {
        let nulls = column.nullCount
        body.nodes.append((Int64(column.count), Int64(nulls)))
        if nulls > 0, let validity = column.validity {
            var packed = bytes(validity.words)
            packed.removeLast(packed.count - (column.count + 7) / 8)
            body.buffers.append(packed)
        } else {
            body.buffers.append([])
        }
        switch column.data {
        case .bool(let v): body.buffers.append(bits(v))
        case .int32(let v): body.buffers.append(bytes(v))
        case .int64(let v): body.buffers.append(bytes(v))
        case .float32(let v): body.buffers.append(bytes(v))
        case .float64(let v): body.buffers.append(bytes(v))
        case .binary(let v):
            body.buffers.append(try offsets(v.offsets, column: name))
            body.buffers.append(v.bytes)
        case .list(let listOffsets, let values):
            body.buffers.append(try offsets(listOffsets, column: name))
            try add(values, name: name, to: &body)
        }
    }

    private static func recordBatch(_ batch: RecordBatch, into out: inout [UInt8]) throws(FormatError) {
        var body = Body()
        for (field, column) in zip(batch.schema.fields, batch.columns) {
            try add(column, name: field.name, to: &body)
        }
        // Each buffer starts 8-aligned within the body.
        var layout: [(Int64, Int64)] = []
        var length = 0
        for buffer in body.buffers {
            layout.append((Int64(length), Int64(buffer.count)))
            length += (buffer.count + 7) / 8 * 8
        }
        var b = FlatBufferBuilder()
        let buffers = b.vector(pairs: layout)
        let nodes = b.vector(pairs: body.nodes)
        b.startTable()
        b.add(0, Int64(batch.rowCount))
        b.add(1, offset: nodes)
        b.add(2, offset: buffers)
        let table = b.endTable()
        let metadata = messageHeader(&b, tag: 3, header: table, bodyLength: Int64(length))
        message(metadata, body: body.buffers, into: &out)
    }

    /// One encapsulated message: continuation marker, metadata length (padded so the body
    /// starts 8-aligned), the metadata, then the body's buffers, each padded to 8 bytes.
    private static func message(_ metadata: [UInt8], body: [[UInt8]], into out: inout [UInt8]) {
        let padded = (metadata.count + 8 + 7) / 8 * 8 - 8
        out += [0xFF, 0xFF, 0xFF, 0xFF]
        withUnsafeBytes(of: Int32(padded).littleEndian) { out += $0 }
        out += metadata
        out += [UInt8](repeating: 0, count: padded - metadata.count)
        for buffer in body {
            out += buffer
            out += [UInt8](repeating: 0, count: (buffer.count + 7) / 8 * 8 - buffer.count)
        }
    }
}
