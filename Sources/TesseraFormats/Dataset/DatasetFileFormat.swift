import TesseraColumnar
import TesseraCore

/// An inclusive event-time range pushed down to readers, which skip what it rules out
/// (Parquet: whole row groups, by their statistics). Rows outside the range may still
/// be returned: callers filter rows themselves.
public struct DatasetTimeRange: Sendable, Equatable {
    public var column: String
    public var from: Timestamp?
    public var through: Timestamp?

    public init(column: String, from: Timestamp?, through: Timestamp?) {
        self.column = column
        self.from = from
        self.through = through
    }
}

/// What a scan reads from each file.
public struct DatasetScanRequest: Sendable {
    /// File columns to read, in order (nil: all of them).
    public var columns: [String]?
    public var timeRange: DatasetTimeRange?
    public var threads: Int

    public init(columns: [String]? = nil, timeRange: DatasetTimeRange? = nil, threads: Int = 1) {
        self.columns = columns
        self.timeRange = timeRange
        self.threads = threads
    }
}

/// A stream of batches from one file.
public protocol DatasetBatchStream {
    /// The next batch, or nil at the end.
    mutating func next() throws(FormatError) -> RecordBatch?
}

/// One file of a dataset, opened: its schema, and batches on request.
public protocol DatasetFileReader: Sendable {
    var path: String { get }
    var schema: Schema { get }
    func batches(_ request: DatasetScanRequest) throws(FormatError) -> any DatasetBatchStream
}

/// A file format a dataset can hold (Parquet today; CSV can plug in the same way).
public protocol DatasetFileFormat: Sendable {
    /// Used in messages: "Parquet".
    var name: String { get }
    /// The extension folder scans pick up, without the dot: "parquet".
    var fileExtension: String { get }
    func open(path: String) throws(FormatError) -> any DatasetFileReader
}

/// The Parquet format for datasets.
public struct ParquetFormat: DatasetFileFormat {
    public init() {}
    public var name: String { "Parquet" }
    public var fileExtension: String { "parquet" }
    public func open(path: String) throws(FormatError) -> any DatasetFileReader { try ParquetFile(path: path) }
}

extension ParquetFile: DatasetFileReader {
    public func batches(_ request: DatasetScanRequest) throws(FormatError) -> any DatasetBatchStream {
        let filter = request.timeRange.map {
            RowGroupFilter.timeRange(column: $0.column, from: $0.from, through: $0.through)
        }
        return try batches(ParquetReadOptions(columns: request.columns, filter: filter, threads: request.threads))
    }
}

extension ParquetBatchIterator: DatasetBatchStream {}
