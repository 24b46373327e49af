import TesseraColumnar
import TesseraCore

/// A set of files read as one table: a file, a folder of files (recursively) or a
/// glob, with hive-style `key=value/` folders as extra columns.
///
/// All files must have the same columns with the same types (their order may
/// differ); partition columns come after the file columns, typed int64 when every
/// value parses as one and string otherwise (`__HIVE_DEFAULT_PARTITION__` is null).
public struct Dataset: Sendable {
    /// One file and its partition values (in `partitionFields` order; nil is null).
    public struct FileEntry: Sendable {
        public var path: String
        public var partitionValues: [String?]
        let reader: any DatasetFileReader
    }

    /// The path, folder or glob the dataset was opened from.
    public let source: String
    /// The files, sorted by path.
    public let files: [FileEntry]
    /// File columns, then partition columns.
    public let schema: Schema
    /// The columns made from `key=value` folders, in folder order.
    public let partitionFields: [Field]
    let fileSchema: Schema

    /// Finds and opens the files of `source` (a path, a folder or a glob such as `data/**/*.parquet`).
    public static func open(_ source: String, format: any DatasetFileFormat = ParquetFormat()) throws(FormatError)
        -> Dataset
    {
        let (base, paths) = try FileDiscovery.files(
            source, fileExtension: format.fileExtension, formatName: format.name)
        var readers: [any DatasetFileReader] = []
        for path in paths { readers.append(try format.open(path: path)) }
        let partitions = try Partitions(paths: paths, base: base)
        guard let first = readers.first else { throw FormatError(file: source, "no files") }
        var fields = first.schema.fields
        for reader in readers.dropFirst() {
            try checkSchema(reader, against: first, merging: &fields)
        }
        for field in partitions.fields where fields.contains(where: { $0.name == field.name }) {
            throw FormatError(file: source, "partition folder key '\(field.name)' is also a column in the files")
        }
        let entries = zip(paths, readers).enumerated().map { index, pair in
            FileEntry(path: pair.0, partitionValues: partitions.values[index], reader: pair.1)
        }
        return Dataset(
            source: source, files: entries, schema: Schema(fields + partitions.fields),
            partitionFields: partitions.fields, fileSchema: Schema(fields))
    }

    private static func checkSchema(
        _ reader: any DatasetFileReader, against first: any DatasetFileReader, merging fields: inout [Field]
    )
        throws(FormatError)
    {
        let names = Set(reader.schema.names)
        for (index, field) in fields.enumerated() {
            guard let other = reader.schema[field.name] else {
                throw FormatError(
                    file: reader.path, "schema differs from \(first.path): column '\(field.name)' is missing")
            }
            guard other.type == field.type else {
                throw FormatError(
                    file: reader.path,
                    "schema differs from \(first.path): column '\(field.name)' is \(other.type) here, \(field.type) there"
                )
            }
            if other.nullable { fields[index].nullable = true }
        }
        if let extra = names.subtracting(fields.map(\.name)).sorted().first {
            throw FormatError(
                file: reader.path, "schema differs from \(first.path): column '\(extra)' is not in the first file")
        }
    }

    /// Streams the batches of every file in order (one per Parquet row group), with
    /// the selected columns (file or partition columns; nil: all) and time-range pruning.
    public func scan(columns: [String]? = nil, timeRange: DatasetTimeRange? = nil, threads: Int = 1) throws(FormatError)
        -> DatasetScanner
    {
        let wanted = columns ?? schema.names
        for name in wanted where schema[name] == nil {
            let hint = Suggestions.hint(for: name, in: schema.names).map { "; \($0)" } ?? ""
            throw FormatError(
                file: source, "no column named '\(name)'\(hint) (columns: \(schema.names.joined(separator: ", ")))")
        }
        if let timeRange {
            guard let field = fileSchema[timeRange.column], field.type == .timestamp else {
                throw FormatError(
                    file: source, "time-range column '\(timeRange.column)' is not a timestamp column of the files")
            }
        }
        let fileColumns = wanted.filter { fileSchema[$0] != nil }
        return DatasetScanner(
            dataset: self, output: Schema(wanted.compactMap { schema[$0] }), wanted: wanted,
            request: DatasetScanRequest(columns: fileColumns, timeRange: timeRange, threads: threads))
    }

    /// Reads everything `scan` would yield into one batch.
    public func read(columns: [String]? = nil, timeRange: DatasetTimeRange? = nil, threads: Int = 1) throws(FormatError)
        -> RecordBatch
    {
        var scanner = try scan(columns: columns, timeRange: timeRange, threads: threads)
        var parts: [RecordBatch] = []
        while let batch = try scanner.next() { parts.append(batch) }
        guard !parts.isEmpty else { return RecordBatch(empty: scanner.output) }
        do { return try RecordBatch.concatenate(parts) } catch { throw FormatError(file: source, "\(error)") }
    }
}

/// Yields a dataset's batches file after file; `next()` returns nil at the end.
public struct DatasetScanner {
    let dataset: Dataset
    /// The schema of every batch.
    public let output: Schema
    let wanted: [String]
    let request: DatasetScanRequest
    private var fileIndex = 0
    private var current: (any DatasetBatchStream)?

    init(dataset: Dataset, output: Schema, wanted: [String], request: DatasetScanRequest) {
        self.dataset = dataset
        self.output = output
        self.wanted = wanted
        self.request = request
    }

    /// The next batch (of `output`'s schema), or nil when every file is read.
    public mutating func next() throws(FormatError) -> RecordBatch? {
        while fileIndex < dataset.files.count {
            let entry = dataset.files[fileIndex]
            if current == nil { current = try entry.reader.batches(request) }
            if var stream = current, let batch = try stream.next() {
                current = stream
                return try assemble(batch, entry)
            }
            current = nil
            fileIndex += 1
        }
        return nil
    }

    /// The file batch's columns in the requested order, with partition values as constant columns.
    private func assemble(_ batch: RecordBatch, _ entry: Dataset.FileEntry) throws(FormatError) -> RecordBatch {
        var columns: [Column] = []
        for name in wanted {
            if let column = batch.column(named: name) {
                columns.append(column)
            } else if let index = dataset.partitionFields.firstIndex(where: { $0.name == name }) {
                let field = dataset.partitionFields[index]
                columns.append(
                    Partitions.constant(entry.partitionValues[index], type: field.type, count: batch.rowCount))
            }
        }
        do { return try RecordBatch(schema: output, columns: columns) } catch {
            throw FormatError(file: entry.path, "\(error)")
        }
    }
}
