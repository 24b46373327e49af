import TesseraColumnar
import TesseraCore

/// Rows of a time column to keep: `lower ... upper`, inclusive; `nil` bounds are open.
public struct TimeFilter: Sendable, Equatable {
    public var column: String
    public var lower: Int64?
    public var upper: Int64?

    public init(column: String, lower: Int64?, upper: Int64?) {
        self.column = column
        self.lower = lower
        self.upper = upper
    }
}

/// Reads a source's rows in batches: the seam between the engine and storage formats.
///
/// Implementations project columns at the reader and may skip whole row groups or
/// files that the time filter proves empty (min/max statistics); they may still
/// return rows outside the filter, which the engine drops itself.
public protocol SourceReader: Sendable {
    /// The source's columns, as stored (before any field mapping).
    func schema() throws -> Schema

    /// Calls `body` with each batch of `columns`, in order.
    func scan(columns: [String], filter: TimeFilter?, threads: Int, _ body: (RecordBatch) throws -> Void) throws
}

/// A reader that can tell roughly how many rows a scan returns before it starts (a
/// database's statistics), for progress bars.
public protocol EstimatingSourceReader: SourceReader {
    /// About how many rows the source holds; `nil` when it cannot tell.
    func estimatedRows() -> Int?
}

/// A source held in memory (tests, pushed rows, small lookups).
public struct MemorySourceReader: SourceReader {
    public var batches: [RecordBatch]
    public var sourceSchema: Schema

    public init(_ batches: [RecordBatch], schema: Schema? = nil) {
        self.batches = batches
        self.sourceSchema = schema ?? batches.first?.schema ?? Schema([])
    }

    public func schema() throws -> Schema { sourceSchema }

    public func scan(columns: [String], filter: TimeFilter?, threads: Int, _ body: (RecordBatch) throws -> Void) throws
    {
        for batch in batches { try body(try batch.project(columns)) }
    }
}
