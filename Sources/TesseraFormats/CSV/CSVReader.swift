import TesseraColumnar
import TesseraCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a CSV file into `RecordBatch`es, streaming: the file is read in chunks and
/// `next()` yields batches of `CSVReadOptions.batchRows` rows, so memory stays bounded
/// by the chunk and one batch unless the caller keeps the batches.
///
/// The accepted syntax is described on `CSVReadOptions`. Columns are typed in one of two ways:
///
/// - **Declared**: a `Schema` names the columns to read, in its order, with their types.
///   Each is found by name in the header; a missing one is an error naming it, listing the
///   header and suggesting a close name. Header columns the schema does not name are
///   ignored (still checked for the field count). A field that is not nullable rejects
///   empty values.
/// - **Inferred** (no schema): every header column is read, nullable, and typed from its
///   non-empty values in the first `CSVReadOptions.inferenceRows` rows (all rows when that
///   is `nil`): **bool** if all are `true`/`false` (any case); else **int64** if all are
///   integers that fit in 64 bits; else **float64** if all are numbers (including `nan`,
///   `inf`); else **timestamp** if all are ISO 8601 timestamps (`Timestamp.parseMicros`);
///   else **string**. A column with no non-empty value is a string column. A later value
///   that does not fit the inferred type is an error naming its line; declare a schema, or
///   set `inferenceRows` to `nil`, to read such files.
///
/// Values: integers in decimal with an optional sign; floats in decimal or scientific
/// notation, or `nan`/`inf`/`infinity` in any case, parsed exactly (correctly rounded);
/// bools `true`/`false` in any case, or `1`/`0`; timestamps in the ISO 8601 forms of
/// `Timestamp.parseMicros` (integer epochs are not accepted); strings as UTF-8 (checked);
/// bytes as the raw bytes of the field; lists as JSON-like arrays (`[1, 2, null]`).
/// Numbers, bools and timestamps may have spaces around them.
///
/// Errors are `FormatError`s naming the file, the physical line (counting line breaks inside
/// quoted fields) and the column: `data.csv: line 12, column 'driver_id': 'abc' is not an int64`.
///
/// A reader is used from one task at a time (it owns a file handle), so it is not `Sendable`.
public final class CSVReader {
    /// The file's path as given.
    public let path: String
    /// The column names of the header line, in file order.
    public let header: [String]
    /// The schema of the batches: the declared one, or the inferred one.
    public let schema: Schema
    public let options: CSVReadOptions
    /// Data rows yielded so far.
    public private(set) var rowsRead = 0

    private let input: CSVInput
    /// At most how many rows the file can hold, to size buffers for small files.
    private let rowBound: Int
    private var parser: CSVRegionParser
    private var buffers: [CSVColumnBuffer]
    private let side: CSVSideJob?
    private var pendingRows = 0
    private var finished = false
    private var failure: FormatError? = nil
    /// Chunks parsed as two halves, and splits that fell inside a quoted field (for tests).
    private(set) var parallelSplits = 0
    private(set) var droppedSplits = 0

    /// Opens `path` and reads its header; with `schema` `nil`, infers the column types.
    public init(path: String, schema declared: Schema? = nil, options: CSVReadOptions = CSVReadOptions())
        throws(FormatError)
    {
        let delimiter = options.delimiter
        guard delimiter != UInt8(ascii: "\""), delimiter != 10, delimiter != 13, delimiter < 128 else {
            throw FormatError(file: path, "the delimiter must be an ASCII character other than a quote, CR or LF")
        }
        guard options.batchRows > 0, options.threads > 0, (options.inferenceRows ?? 1) > 0 else {
            throw FormatError(file: path, "batchRows, threads and inferenceRows must be positive")
        }
        self.path = path
        self.options = options
        input = try CSVInput(path: path, chunkBytes: options.chunkBytes)
        header = try CSVHeader.read(input, delimiter: delimiter)
        let positions: [Int]
        if let declared {
            schema = declared
            positions = try CSVHeader.match(declared, header: header, file: path)
        } else {
            let types: [ValueType]
            if let rows = options.inferenceRows {
                types = try CSVInference.sample(input, header: header, delimiter: delimiter, rows: rows)
            } else {
                types = try CSVInference.wholeFile(path, options: options)
            }
            schema = Schema(zip(header, types).map { Field($0, $1) })
            positions = Array(header.indices)
        }
        buffers = zip(schema.fields, positions).map { CSVColumnBuffer(field: $0, source: $1) }
        let tokenizer = CSVTokenizer(delimiter: delimiter, columnNames: header)
        // Every row takes at least one byte per column (delimiters and the line end).
        rowBound = input.size / max(1, header.count) + 2
        parser = CSVRegionParser(tokenizer: tokenizer, buffers: buffers, rowBound: rowBound)
        side = options.threads > 1 ? CSVSideJob(parser: parser, buffers: buffers) : nil
    }

    /// The next batch of at most `batchRows` rows (exactly that many except the last),
    /// or `nil` after the last row. After an error, every call throws it again.
    public func next() throws(FormatError) -> RecordBatch? {
        if let failure { throw failure }
        do throws(FormatError) {
            if pendingRows == 0, options.batchRows <= 1 << 22 {
                for k in buffers.indices { buffers[k].reserve(min(options.batchRows, rowBound)) }
            }
            while !finished, pendingRows < options.batchRows {
                try step(budget: options.batchRows - pendingRows)
            }
            guard pendingRows > 0 else { return nil }
            return try emit()
        } catch {
            failure = error
            throw error
        }
    }

    /// Every remaining row in one batch (no batch-sized copies: rows go straight into
    /// the final arrays).
    public func readAll() throws(FormatError) -> RecordBatch {
        if let failure { throw failure }
        do throws(FormatError) {
            var reserved = false
            while !finished {
                try step(budget: .max)
                if !reserved, pendingRows >= 1000 {
                    // Size the arrays once from the rows per byte seen so far (plus 5%).
                    reserved = true
                    let perRow = Double(input.consumedBytes) / Double(pendingRows)
                    let remaining = Double(max(0, input.size - input.consumedBytes)) / perRow
                    let estimate = pendingRows + Int(remaining * 1.05)
                    for k in buffers.indices { buffers[k].reserve(estimate) }
                }
            }
            return try emit()
        } catch {
            failure = error
            throw error
        }
    }

    /// Reads the whole file at `path` into one batch.
    public static func read(
        path: String, schema: Schema? = nil, options: CSVReadOptions = CSVReadOptions()
    ) throws(FormatError) -> RecordBatch {
        try CSVReader(path: path, schema: schema, options: options).readAll()
    }

    /// The first `rows` rows of the file at `path` (fewer when the file is shorter), reading
    /// only as much of the file as they need (plus the inference sample when `schema` is nil).
    public static func head(
        path: String, rows: Int, schema: Schema? = nil, options: CSVReadOptions = CSVReadOptions()
    ) throws(FormatError) -> RecordBatch {
        var options = options
        options.batchRows = max(1, rows)
        let reader = try CSVReader(path: path, schema: schema, options: options)
        guard rows > 0, let batch = try reader.next() else { return RecordBatch(empty: reader.schema) }
        return batch
    }

    /// The schema the reader would infer for the file at `path` (see the rule above).
    public static func inferSchema(path: String, options: CSVReadOptions = CSVReadOptions()) throws(FormatError)
        -> Schema
    {
        try CSVReader(path: path, schema: nil, options: options).schema
    }

    private func emit() throws(FormatError) -> RecordBatch {
        var columns: [Column] = []
        for k in buffers.indices { columns.append(buffers[k].finish()) }
        let rows = pendingRows
        pendingRows = 0
        rowsRead += rows
        do {
            return try RecordBatch(schema: schema, columns: columns)
        } catch {
            // Every buffer gets one value per row, so this would be a bug in the reader.
            throw FormatError(file: path, "internal error assembling a batch: \(error)")
        }
    }

    /// Parses what the buffer holds (at most `budget` rows), or reads more of the file.
    private func step(budget: Int) throws(FormatError) {
        if input.available == 0 {
            if input.eof {
                finished = true
                return
            }
            try input.refill()
            return
        }
        if let side, input.available >= 1 << 20, try stepInParallel(side, budget: budget) { return }
        let progress: CSVRegionParser.Progress
        do throws(CSVFailure) {
            progress = try parser.parse(
                input.pointer, from: input.start, end: input.end, final: input.eof, maxRows: budget,
                lineBase: input.line, into: &buffers)
        } catch {
            throw CSVReader.formatError(error, file: path)
        }
        input.consume(progress.consumed - input.start, lines: progress.lines)
        pendingRows += progress.rows
        switch progress.stop {
        case .endOfInput: finished = true
        case .needMoreData: try input.refill()
        case .indexFull: break  // the budget is reached
        }
    }

    /// Splits the buffered rows at a line break near the middle and parses the halves on
    /// two threads. The split is speculative: if the first half does not end exactly at the
    /// split (the line break was inside a quoted field), the second half's work is dropped.
    /// Returns `false` when the buffer is too small to be worth splitting.
    private func stepInParallel(_ side: CSVSideJob, budget: Int) throws(FormatError) -> Bool {
        let base = input.pointer
        let start = input.start
        // Keep the row count within the budget: rows cannot outnumber line breaks (+1 at the end).
        var regionEnd = input.end
        if budget < input.available {
            var breaks = 0
            var i = start
            while i < input.end, let found = memchr(base + i, 10, input.end - i) {
                i = base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
                breaks += 1
                if breaks == budget {
                    regionEnd = i
                    break
                }
            }
        }
        guard regionEnd - start >= 1 << 20 else { return false }
        var split = start + (regionEnd - start) / 2
        while split < regionEnd - 1, base[split] != 10 { split += 1 }
        split += 1
        guard split < regionEnd else { return false }
        let final = input.eof && regionEnd == input.end
        side.submit(base, from: split, end: regionEnd, final: final)
        let first: Result<CSVRegionParser.Progress, CSVFailure>
        do throws(CSVFailure) {
            first = .success(
                try parser.parse(
                    base, from: start, end: split, final: false, maxRows: .max, lineBase: input.line, into: &buffers))
        } catch {
            first = .failure(error)
        }
        side.wait()
        defer { for k in side.buffers.indices { side.buffers[k].clear() } }
        let a: CSVRegionParser.Progress
        switch first {
        case .failure(let failure): throw CSVReader.formatError(failure, file: path)
        case .success(let progress): a = progress
        }
        guard a.consumed == split, let second = side.result else {
            // A quoted line break at the split: keep the first half's rows, drop the second's.
            // With no row at all (a quoted field spans the split), parse in order instead:
            // the same split would come up again.
            droppedSplits += 1
            guard a.consumed > start else { return false }
            input.consume(a.consumed - start, lines: a.lines)
            pendingRows += a.rows
            return true
        }
        let b: CSVRegionParser.Progress
        switch second {
        case .failure(var failure):
            failure.line += input.line + a.lines - 1
            throw CSVReader.formatError(failure, file: path)
        case .success(let progress): b = progress
        }
        for k in buffers.indices { buffers[k].append(side.buffers[k]) }
        parallelSplits += 1
        input.consume(b.consumed - start, lines: a.lines + b.lines)
        pendingRows += a.rows + b.rows
        if b.stop == .endOfInput { finished = true }
        if b.stop == .needMoreData { try input.refill() }
        return true
    }

    static func formatError(_ failure: CSVFailure, file: String) -> FormatError {
        var location = "line \(failure.line)"
        if let column = failure.column { location += ", column '\(column)'" }
        return FormatError(file: file, location: location, failure.message)
    }
}
