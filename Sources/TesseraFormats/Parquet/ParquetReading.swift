import Dispatch
import Synchronization
import TesseraColumnar
import TesseraCore

/// Which row groups to read, decided from their footer statistics.
public struct RowGroupFilter: Sendable {
    enum Kind: Sendable {
        case timeRange(column: String, from: Timestamp?, through: Timestamp?)
        case custom(@Sendable (ParquetRowGroupInfo) -> Bool)
    }

    let kind: Kind

    /// Keeps the row groups whose `column` statistics overlap `[from, through]` (both
    /// inclusive; nil is unbounded). Groups without statistics are kept. This prunes
    /// row groups only: rows outside the range inside a kept group are still returned.
    public static func timeRange(column: String, from: Timestamp?, through: Timestamp?) -> RowGroupFilter {
        RowGroupFilter(kind: .timeRange(column: column, from: from, through: through))
    }

    /// Keeps the row groups for which `predicate` is true.
    public static func custom(_ predicate: @escaping @Sendable (ParquetRowGroupInfo) -> Bool) -> RowGroupFilter {
        RowGroupFilter(kind: .custom(predicate))
    }
}

/// What to read: a projection, a row-group filter and how many threads to decode with.
public struct ParquetReadOptions: Sendable {
    /// The columns to read, in this order; nil reads every readable column.
    public var columns: [String]?
    /// Which row groups to read (all when nil).
    public var filter: RowGroupFilter?
    /// Threads decoding columns at once (1 decodes on the calling thread).
    public var threads: Int

    public init(columns: [String]? = nil, filter: RowGroupFilter? = nil, threads: Int = 1) {
        self.columns = columns
        self.filter = filter
        self.threads = threads
    }
}

extension ParquetFile {
    /// The indices of the row groups `filter` keeps (all when nil).
    public func selectedRowGroups(_ filter: RowGroupFilter?) throws(FormatError) -> [Int] {
        guard let filter else { return Array(rowGroups.indices) }
        switch filter.kind {
        case .custom(let predicate):
            return rowGroups.filter(predicate).map(\.index)
        case .timeRange(let column, let from, let through):
            guard let field = schema[column] else {
                throw FormatError(
                    file: path, "time-range filter names column '\(column)', which the file does not have")
            }
            guard field.type == .timestamp else {
                throw FormatError(file: path, "time-range filter column '\(column)' is \(field.type), not a timestamp")
            }
            return rowGroups.filter { group in
                guard let stats = group.column(named: column)?.statistics else { return true }
                if let from, case .timestamp(let max)? = stats.max, max < from { return false }
                if let through, case .timestamp(let min)? = stats.min, min > through { return false }
                if group.rowCount > 0, let nulls = stats.nullCount, nulls == group.rowCount, stats.min == nil {
                    return false  // only nulls: no row can be in range
                }
                return true
            }.map(\.index)
        }
    }

    /// Reads the selected row groups into one batch.
    public func read(_ options: ParquetReadOptions = ParquetReadOptions()) throws(FormatError) -> RecordBatch {
        let groups = try selectedRowGroups(options.filter)
        return try read(rowGroups: groups, columns: options.columns, threads: options.threads)
    }

    /// Reads row group `index` into a batch.
    public func readRowGroup(_ index: Int, columns: [String]? = nil, threads: Int = 1) throws(FormatError)
        -> RecordBatch
    {
        guard rowGroups.indices.contains(index) else {
            throw FormatError(file: path, "row group \(index) does not exist (the file has \(rowGroups.count))")
        }
        return try read(rowGroups: [index], columns: columns, threads: threads)
    }

    /// Reads the given row groups, in that order, into one batch.
    public func read(rowGroups groups: [Int], columns: [String]? = nil, threads: Int = 1) throws(FormatError)
        -> RecordBatch
    {
        let fields = try projection(columns)
        for index in groups where !rowGroups.indices.contains(index) {
            throw FormatError(file: path, "row group \(index) does not exist (the file has \(rowGroups.count))")
        }
        let decoded = try decodeColumns(fields, groups: groups, threads: threads)
        do {
            return try RecordBatch(schema: Schema(fields.map(\.field)), columns: decoded)
        } catch {
            throw FormatError(file: path, "columns decoded to different lengths: \(error)")
        }
    }

    /// One batch per selected row group, read as the iterator is advanced (memory stays
    /// bounded by one row group).
    public func batches(_ options: ParquetReadOptions = ParquetReadOptions()) throws(FormatError)
        -> ParquetBatchIterator
    {
        let groups = try selectedRowGroups(options.filter)
        _ = try projection(options.columns)
        return ParquetBatchIterator(file: self, groups: groups, columns: options.columns, threads: options.threads)
    }

    /// The first `limit` rows (of the selected columns), reading only the row groups needed.
    public func head(_ limit: Int, columns: [String]? = nil) throws(FormatError) -> RecordBatch {
        var groups: [Int] = []
        var rows = 0
        for group in rowGroups where rows < limit {
            groups.append(group.index)
            rows += group.rowCount
        }
        let batch = try read(rowGroups: groups, columns: columns)
        return batch.rowCount > limit ? batch.slice(0..<max(0, limit)) : batch
    }

    private func decodeColumns(_ fields: [MappedField], groups: [Int], threads: Int) throws(FormatError) -> [Column] {
        let results = ResultSlots(count: fields.count)
        let workers = max(1, min(threads, fields.count))
        let next = Atomic<Int>(0)
        let work: @Sendable (Int) -> Void = { _ in
            _ = try? ScratchPool.shared.borrow { (scratch) throws(FormatError) in
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < fields.count else { return }
                    results.set(
                        index,
                        attempt { () throws(FormatError) in try self.decodeColumn(fields[index], groups, scratch) })
                }
            }
        }
        if workers == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        }
        var columns: [Column] = []
        for index in fields.indices {
            switch results.get(index) {
            case .success(let column): columns.append(column)
            case .failure(let error): throw error
            case nil: throw FormatError(file: path, "column '\(fields[index].field.name)' was not decoded")
            }
        }
        return columns
    }

    private func decodeColumn(_ field: MappedField, _ groups: [Int], _ scratch: ReadScratch) throws(FormatError)
        -> Column
    {
        let leaf = mapping.leaves[field.leaf]
        let capacity = clampedSum(groups.map { rowGroups[$0].rowCount })
        let upfront = ReadLimits.upfrontBytes(fileSize: source.size)
        var accumulator = LeafAccumulator(leaf: leaf, capacity: 0, byteLimit: 0)
        // Flat fixed-width columns decode straight into their final array, sized from the
        // footer's row counts (bounded by the file's size, so a lying footer cannot ask for absurd memory).
        let width = leaf.storedWidth
        let (directBytes, overflow) = capacity.multipliedReportingOverflow(by: width)
        let direct =
            !leaf.isList && width > 0 && leaf.physical != .int96 && leaf.physical != .fixedLenByteArray
            && !overflow && directBytes <= upfront
        guard direct else {
            // Lists hold up to one element per level entry: reserve for the entries.
            let entries =
                leaf.isList
                ? clampedSum(groups.map { metadata.rowGroups[$0].columns[field.leaf].metaData?.numValues ?? 0 })
                : capacity
            accumulator = LeafAccumulator(leaf: leaf, capacity: min(max(entries, 0), 1 << 24), byteLimit: upfront)
            try readChunks(field, groups, scratch, &accumulator)
            return try accumulator.finish(file: path, location: "column '\(field.field.name)'")
        }
        func fill<T>(_: T.Type) throws(FormatError) -> [T] {
            var failure: FormatError?
            let values = [T](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                initialized = 0
                guard let base = buffer.baseAddress else { return }
                MemoryAdvice.hugePages(UnsafeMutableRawPointer(base), bytes: capacity * MemoryLayout<T>.stride)
                accumulator.direct = UnsafeMutableRawPointer(base)
                accumulator.directCapacity = capacity
                do throws(FormatError) {
                    try readChunks(field, groups, scratch, &accumulator)
                    initialized = accumulator.slots == capacity ? capacity : 0
                } catch {
                    failure = error
                }
                accumulator.direct = nil
            }
            if let failure { throw failure }
            guard values.count == capacity else {
                throw FormatError(
                    file: path, location: "column '\(field.field.name)'",
                    "decoded \(accumulator.slots) values for \(capacity) rows")
            }
            return values
        }
        switch leaf.physical {
        case .boolean: accumulator.bools = try fill(Bool.self)
        case .int32: accumulator.int32s = try fill(Int32.self)
        case .int64: accumulator.int64s = try fill(Int64.self)
        case .float: accumulator.floats = try fill(Float.self)
        case .double: accumulator.doubles = try fill(Double.self)
        default: break
        }
        if leaf.conversion == .uint64, let bad = accumulator.int64s.firstIndex(where: { $0 < 0 }) {
            var group = groups.first ?? 0
            var start = 0
            for candidate in groups {
                if bad < start + rowGroups[candidate].rowCount { group = candidate; break }
                start += rowGroups[candidate].rowCount
            }
            throw FormatError(
                file: path, location: "row group \(group), column '\(field.field.name)'",
                "UINT64 value \(UInt64(bitPattern: accumulator.int64s[bad])) (row \(bad - start) of the row group) is larger than int64 can hold"
            )
        }
        return try accumulator.finish(file: path, location: "column '\(field.field.name)'")
    }

    private func readChunks(
        _ field: MappedField, _ groups: [Int], _ scratch: ReadScratch, _ accumulator: inout LeafAccumulator
    )
        throws(FormatError)
    {
        let leaf = accumulator.leaf
        for group in groups {
            let before = accumulator.rows
            let valuesBefore = accumulator.int64s.count
            let chunk = metadata.rowGroups[group].columns[field.leaf]
            let location = "row group \(group), column '\(field.field.name)'"
            if !leaf.isList, let declared = chunk.metaData?.numValues, declared != Int64(rowGroups[group].rowCount) {
                throw FormatError(
                    file: path, location: location,
                    "column chunk declares \(declared) values but the row group has \(rowGroups[group].rowCount) rows")
            }
            var reader = ColumnChunkReader(source: source, rowGroup: group, chunk: chunk, scratch: scratch)
            try reader.read(into: &accumulator)
            let rows = accumulator.rows - before
            guard rows == rowGroups[group].rowCount else {
                throw FormatError(
                    file: path, location: location,
                    "holds \(rows) rows but the row group has \(rowGroups[group].rowCount)")
            }
            if leaf.conversion == .uint64, accumulator.direct == nil,
                let bad = accumulator.int64s[valuesBefore...].firstIndex(where: { $0 < 0 })
            {
                throw FormatError(
                    file: path, location: location,
                    "UINT64 value \(UInt64(bitPattern: accumulator.int64s[bad])) (value \(bad - valuesBefore) of the row group) is larger than int64 can hold"
                )
            }
        }
    }
}

/// Yields one `RecordBatch` per selected row group; `next()` returns nil at the end.
public struct ParquetBatchIterator: Sendable {
    let file: ParquetFile
    let groups: [Int]
    let columns: [String]?
    let threads: Int
    var position = 0

    /// The row groups this iterator reads, in order.
    public var rowGroups: [Int] { groups }

    /// The next row group's batch, or nil after the last one.
    public mutating func next() throws(FormatError) -> RecordBatch? {
        guard position < groups.count else { return nil }
        let group = groups[position]
        position += 1
        return try file.read(rowGroups: [group], columns: columns, threads: threads)
    }
}

@inline(__always)
func attempt<T>(_ body: () throws(FormatError) -> T) -> Result<T, FormatError> {
    do throws(FormatError) { return .success(try body()) } catch { return .failure(error) }
}

/// Per-column results written by concurrent workers: each slot is written by
/// exactly one worker and read only after all workers have finished, under a lock.
final class ResultSlots: Sendable {
    private let slots: Mutex<[Result<Column, FormatError>?]>

    init(count: Int) { slots = Mutex([Result<Column, FormatError>?](repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Result<Column, FormatError>) {
        slots.withLock { $0[index] = result }
    }

    func get(_ index: Int) -> Result<Column, FormatError>? {
        slots.withLock { $0[index] }
    }
}
