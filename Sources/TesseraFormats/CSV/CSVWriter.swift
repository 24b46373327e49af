import TesseraColumnar
import TesseraCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes `RecordBatch`es as a CSV file (the format is described on `CSVWriteOptions`).
///
/// Rows go to a temporary file beside `path` (`<path>.tmp-<pid>-<n>`), renamed to `path` by
/// `close()`: a reader of `path` sees the old file or the whole new one, and a failure or
/// an abandoned writer leaves no half-written file (the temporary file is removed).
///
/// Values are formatted a column at a time for blocks of rows (one `switch` per column per
/// block), then interleaved into lines.
public final class CSVWriter {
    public let path: String
    public let schema: Schema
    public let options: CSVWriteOptions
    /// Rows written so far.
    public private(set) var rowsWritten = 0

    private let temporaryPath: String
    private var fd: Int32
    private var out = CSVOutputBuffer(capacity: 1 << 20)
    private var fields: [CSVOutputBuffer]
    private var ends: [[Int]]
    private var timestamps: [CSVTimestampFormatter]
    private var isOpen = true

    private static let blockRows = 4096
    private static let flushBytes = 4 << 20

    /// Creates the temporary file and writes the header (unless `options.header` is false).
    public init(path: String, schema: Schema, options: CSVWriteOptions = CSVWriteOptions()) throws(FormatError) {
        let delimiter = options.delimiter
        guard delimiter != UInt8(ascii: "\""), delimiter != 10, delimiter != 13, delimiter < 128 else {
            throw FormatError(file: path, "the delimiter must be an ASCII character other than a quote, CR or LF")
        }
        self.path = path
        self.schema = schema
        self.options = options
        temporaryPath = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw FormatError(file: path, "cannot create the file: \(String(cString: strerror(errno)))")
        }
        fields = schema.fields.map { _ in CSVOutputBuffer(capacity: 64 << 10) }
        ends = schema.fields.map { _ in [Int](repeating: 0, count: CSVWriter.blockRows) }
        timestamps = schema.fields.map { _ in CSVTimestampFormatter() }
        if options.header {
            for (k, field) in schema.fields.enumerated() {
                if k > 0 {
                    out.reserve(1)
                    out.put(delimiter)
                }
                var name = field.name
                name.withUTF8 { out.append(field: $0, delimiter: delimiter) }
            }
            newline()
        }
    }

    deinit {
        out.free()
        for buffer in fields { buffer.free() }
        if isOpen {
            Glibc.close(fd)
            unlink(temporaryPath)
        }
    }

    /// Appends the rows of `batch`, whose columns must have the writer's names and types.
    public func write(_ batch: RecordBatch) throws(FormatError) {
        guard isOpen else { throw FormatError(file: path, "the writer is closed") }
        guard batch.schema.fields.count == schema.fields.count,
            zip(batch.schema.fields, schema.fields).allSatisfy({ $0.name == $1.name && $0.type == $1.type })
        else {
            let expected = schema.fields.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
            let found = batch.schema.fields.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
            throw FormatError(
                file: path, "a batch does not match the file's columns: expected (\(expected)), found (\(found))")
        }
        var row = 0
        while row < batch.rowCount {
            let block = row..<min(batch.rowCount, row + CSVWriter.blockRows)
            for k in batch.columns.indices { format(batch.columns[k], block, k) }
            interleave(block.count)
            if out.count >= CSVWriter.flushBytes { try flush() }
            row = block.upperBound
        }
        rowsWritten += batch.rowCount
    }

    /// Writes what is buffered and renames the temporary file to `path`.
    public func close() throws(FormatError) {
        guard isOpen else { return }
        do throws(FormatError) {
            try flush()
        } catch {
            abandon()
            throw error
        }
        isOpen = false
        if Glibc.close(fd) != 0 {
            unlink(temporaryPath)
            throw FormatError(file: path, "cannot write the file: \(String(cString: strerror(errno)))")
        }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw FormatError(file: path, "cannot move the finished file into place: \(reason)")
        }
    }

    /// Stops writing and removes the temporary file; `path` is left as it was.
    public func abandon() {
        guard isOpen else { return }
        isOpen = false
        Glibc.close(fd)
        unlink(temporaryPath)
    }

    /// Writes `batch` to `path` as one file.
    public static func write(_ batch: RecordBatch, to path: String, options: CSVWriteOptions = CSVWriteOptions())
        throws(FormatError)
    {
        let writer = try CSVWriter(path: path, schema: batch.schema, options: options)
        try writer.write(batch)
        try writer.close()
    }

    private func newline() {
        out.reserve(2)
        if options.crlf { out.put(13) }
        out.put(10)
    }

    private func flush() throws(FormatError) {
        var written = 0
        while written < out.count {
            let n = Glibc.write(fd, out.base + written, out.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                abandon()
                throw FormatError(file: path, "cannot write the file: \(reason)")
            }
            written += n
        }
        out.count = 0
    }

    /// Formats rows `block` of `column` into `fields[k]`, recording where each value ends.
    private func format(_ column: Column, _ block: Range<Int>, _ k: Int) {
        fields[k].count = 0
        let delimiter = options.delimiter
        ends[k].withUnsafeMutableBufferPointer { ends in
            var buffer = fields[k]
            defer { fields[k] = buffer }
            let hasNulls = column.validity != nil
            @inline(__always) func each(_ body: (Int) -> Void) {
                for (j, row) in block.enumerated() {
                    if !hasNulls || column.isValid(row) { body(row) }
                    ends[j] = buffer.count
                }
            }
            switch column.data {
            case .bool(let v):
                each { row in
                    buffer.reserve(5)
                    for byte in (v[row] ? "true" : "false").utf8 { buffer.put(byte) }
                }
            case .int32(let v): each { row in buffer.append(int: Int64(v[row])) }
            case .int64(let v):
                if column.type == .timestamp {
                    var formatter = timestamps[k]
                    each { row in formatter.append(v[row], to: &buffer) }
                    timestamps[k] = formatter
                } else {
                    each { row in buffer.append(int: v[row]) }
                }
            case .float32(let v): each { row in buffer.append(float: v[row]) }
            case .float64(let v): each { row in buffer.append(float: v[row]) }
            case .binary(let v):
                v.bytes.withUnsafeBufferPointer { bytes in
                    each { row in
                        buffer.append(
                            field: UnsafeBufferPointer(rebasing: bytes[v.offsets[row]..<v.offsets[row + 1]]),
                            delimiter: delimiter)
                    }
                }
            case .list:
                each { row in
                    guard case .list(let items) = column.value(at: row) else { return }
                    CSVListText.format(items).withUnsafeBufferPointer { buffer.append(field: $0, delimiter: delimiter) }
                }
            }
        }
    }

    /// Joins the formatted values of a block into lines.
    ///
    /// Values up to 16 bytes (nearly all) are moved as two 8-byte words: the output and
    /// the field buffers keep 16 bytes of slack so that the words may run past the value.
    private func interleave(_ rows: Int) {
        let delimiter = options.delimiter
        let columns = fields.count
        var total = 0
        for k in 0..<columns {
            fields[k].reserve(16)
            total += fields[k].count
        }
        out.reserve(total + rows * (columns + 2) + 16)
        for j in 0..<rows {
            for k in 0..<columns {
                if k > 0 { out.put(delimiter) }
                let start = j == 0 ? 0 : ends[k][j - 1]
                let length = ends[k][j] - start
                let source = UnsafeRawPointer(fields[k].base + start)
                let target = UnsafeMutableRawPointer(out.base + out.count)
                if length <= 16 {
                    target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
                    (target + 8).storeBytes(of: (source + 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
                } else {
                    target.copyMemory(from: source, byteCount: length)
                }
                out.count += length
            }
            if options.crlf { out.put(13) }
            out.put(10)
        }
    }
}
