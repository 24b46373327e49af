import Dispatch
import Synchronization
import TesseraColumnar
import TesseraCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `ParquetWriter` lays out a file.
public struct ParquetWriteOptions: Sendable {
    /// Page compression: `.snappy` (default), `.zstd`, `.gzip`, `.lz4Raw` or `.uncompressed`.
    public var compression: ParquetCompression
    /// Rows per row group (the last one may be smaller).
    public var rowGroupRows: Int
    /// Dictionary-encode columns (falling back to PLAIN once a dictionary passes `dictionaryPageSizeLimit`).
    public var dictionary: Bool
    /// Dictionary size in bytes past which a column chunk switches to PLAIN (pyarrow's default: 1 MiB).
    public var dictionaryPageSizeLimit: Int
    /// Target size of a data page before compression, in bytes.
    public var pageSize: Int
    /// Threads encoding a row group's columns at once.
    public var threads: Int

    /// Options with pyarrow-like defaults: snappy, 1Mi-row row groups, dictionary on, 1 MiB pages.
    public init(
        compression: ParquetCompression = .snappy, rowGroupRows: Int = 1 << 20, dictionary: Bool = true,
        dictionaryPageSizeLimit: Int = 1 << 20, pageSize: Int = 1 << 20, threads: Int = 1
    ) {
        self.compression = compression
        self.rowGroupRows = rowGroupRows
        self.dictionary = dictionary
        self.dictionaryPageSizeLimit = dictionaryPageSizeLimit
        self.pageSize = pageSize
        self.threads = threads
    }
}

/// Writes `RecordBatch`es to a Parquet file that pyarrow, DuckDB and Spark read.
///
/// Batches stream in through `write(_:)`; rows are cut into row groups of
/// `rowGroupRows`. Everything goes to a temporary file next to the target,
/// renamed over it by `close()`: a failed or abandoned write never leaves a
/// partial file at `path`. Timestamps are written as INT64 TIMESTAMP(MICROS, UTC),
/// lists as the standard 3-level LIST.
public final class ParquetWriter {
    public let path: String
    public let schema: Schema
    public let options: ParquetWriteOptions
    private let temporaryPath: String
    private var descriptor: Int32
    private var offset = 0
    private var pending: [[ColumnSegment]]
    private var pendingRows = 0
    private var rowGroups: [RowGroup] = []
    private var totalRows = 0
    private var finished = false
    private let elements: [SchemaElement]
    private let levels: [(maxDefinition: Int, maxRepetition: Int)]
    private let scratches: [EncodeScratch]

    /// Starts a file at `path` (replaced on `close()`) for batches of `schema`.
    public init(path: String, schema: Schema, options: ParquetWriteOptions = ParquetWriteOptions()) throws(FormatError)
    {
        guard [.uncompressed, .snappy, .zstd, .gzip, .lz4Raw].contains(options.compression) else {
            throw FormatError(
                file: path, "writing \(options.compression) is not supported (use snappy, zstd, gzip, lz4_raw or none)")
        }
        guard options.rowGroupRows > 0, options.pageSize > 0 else {
            throw FormatError(file: path, "row group size and page size must be positive")
        }
        var elements = [SchemaElement(name: "schema", numChildren: Int32(schema.fields.count))]
        var levels: [(Int, Int)] = []
        for field in schema.fields {
            let (fieldElements, fieldLevels) = try ParquetWriter.elements(for: field, path: path)
            elements += fieldElements
            levels.append(fieldLevels)
        }
        self.path = path
        self.schema = schema
        self.options = options
        self.elements = elements
        self.levels = levels
        self.pending = Array(repeating: [], count: schema.fields.count)
        self.scratches = schema.fields.map { _ in EncodeScratchPool.shared.borrow() }
        let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        let base = path.split(separator: "/").last.map(String.init) ?? path
        temporaryPath =
            "\(directory.isEmpty ? "/" : directory)/.\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FormatError(file: path, "cannot create \(temporaryPath): \(ByteSource.errnoText())")
        }
        try writeAll(ParquetFile.magic)
    }

    deinit {
        if !finished {
            if descriptor >= 0 { _ = posixClose(descriptor) }
            unlink(temporaryPath)
        }
        for scratch in scratches { EncodeScratchPool.shared.giveBack(scratch) }
    }

    /// Adds the rows of `batch`, whose schema must match the writer's (names and types).
    public func write(_ batch: RecordBatch) throws(FormatError) {
        guard !finished else { throw FormatError(file: path, "write after close") }
        guard batch.schema.fields.count == schema.fields.count else {
            throw FormatError(
                file: path, "batch has \(batch.schema.fields.count) columns, the file has \(schema.fields.count)")
        }
        for (index, (field, column)) in zip(schema.fields, batch.columns).enumerated() {
            let given = batch.schema.fields[index]
            guard given.name == field.name, given.type == field.type else {
                throw FormatError(
                    file: path,
                    "batch column \(index) is '\(given.name)' \(given.type), the file expects '\(field.name)' \(field.type)"
                )
            }
            if !field.nullable, column.nullCount > 0 {
                throw FormatError(
                    file: path, "column '\(field.name)' is not nullable but the batch has \(column.nullCount) nulls")
            }
        }
        var start = 0
        while start < batch.rowCount {
            let take = min(batch.rowCount - start, options.rowGroupRows - pendingRows)
            for index in batch.columns.indices {
                pending[index].append(ColumnSegment(column: batch.columns[index], range: start..<(start + take)))
            }
            pendingRows += take
            start += take
            if pendingRows == options.rowGroupRows { try flushRowGroup() }
        }
    }

    /// Writes the last row group and the footer, then moves the file into place.
    public func close() throws(FormatError) {
        guard !finished else { return }
        if pendingRows > 0 { try flushRowGroup() }
        var metadata = FileMetaData()
        metadata.version = 2
        metadata.schema = elements
        metadata.numRows = Int64(totalRows)
        metadata.rowGroups = rowGroups
        metadata.createdBy = "tessera version 0.1"
        metadata.columnOrdersDefined = true
        var encoder = CompactEncoder()
        metadata.encode(&encoder)
        let length = UInt32(encoder.bytes.count)
        try writeAll(encoder.bytes)
        try writeAll((0..<4).map { UInt8(truncatingIfNeeded: length >> UInt32(8 * $0)) })
        try writeAll(ParquetFile.magic)
        guard posixClose(descriptor) == 0 else {
            descriptor = -1
            throw FormatError(file: path, "closing \(temporaryPath) failed: \(ByteSource.errnoText())")
        }
        descriptor = -1
        guard rename(temporaryPath, path) == 0 else {
            throw FormatError(file: path, "cannot move \(temporaryPath) into place: \(ByteSource.errnoText())")
        }
        finished = true
    }

    private func flushRowGroup() throws(FormatError) {
        let group = rowGroups.count
        let segments = pending
        let fields = schema.fields
        let levels = self.levels
        let options = self.options
        let scratches = self.scratches
        let encode: @Sendable (Int) -> Result<EncodedChunk, CodecError> = { index in
            let input = ChunkInput(segments[index], type: fields[index].type, nullable: fields[index].nullable)
            let encoder = ChunkEncoder(
                maxDefinition: levels[index].maxDefinition, maxRepetition: levels[index].maxRepetition,
                options: options,
                scratch: scratches[index])
            do throws(CodecError) { return .success(try encoder.encode(input)) } catch { return .failure(error) }
        }
        var chunks: [Result<EncodedChunk, CodecError>]
        if options.threads > 1, fields.count > 1 {
            let slots = ChunkSlots(count: fields.count)
            DispatchQueue.concurrentPerform(iterations: fields.count) { index in slots.set(index, encode(index)) }
            chunks = slots.results()
        } else {
            chunks = fields.indices.map(encode)
        }
        var columns: [ColumnChunk] = []
        let groupStart = offset
        var uncompressedTotal = 0
        for (index, result) in chunks.enumerated() {
            let chunk: EncodedChunk
            switch result {
            case .success(let value): chunk = value
            case .failure(let error):
                throw FormatError(
                    file: path, location: "row group \(group), column '\(fields[index].name)'", error.message)
            }
            chunks[index] = .failure(CodecError("written"))  // release the bytes as we go
            let start = offset
            try writeAll(chunk.dictionaryPage)
            try writeAll(chunk.bytes)
            scratches[index].data = chunk.bytes  // its storage serves the next row group
            var meta = ColumnMetaData()
            meta.type = ParquetWriter.physicalType(fields[index].type)
            meta.encodings = chunk.encodings
            meta.pathInSchema = ParquetWriter.leafPath(fields[index])
            meta.codec = options.compression
            meta.numValues = Int64(chunk.valueCount)
            meta.totalUncompressedSize = Int64(chunk.uncompressedSize)
            meta.totalCompressedSize = Int64(chunk.totalSize)
            meta.dataPageOffset = Int64(start + (chunk.dictionaryPageLength ?? 0))
            meta.dictionaryPageOffset = chunk.dictionaryPageLength.map { _ in Int64(start) }
            meta.statistics = chunk.statistics
            uncompressedTotal += chunk.uncompressedSize
            columns.append(ColumnChunk(filePath: nil, fileOffset: Int64(start), metaData: meta))
        }
        rowGroups.append(
            RowGroup(
                columns: columns, totalByteSize: Int64(uncompressedTotal), numRows: Int64(pendingRows),
                fileOffset: Int64(groupStart), totalCompressedSize: Int64(offset - groupStart),
                ordinal: Int16(truncatingIfNeeded: group)))
        totalRows += pendingRows
        pendingRows = 0
        pending = Array(repeating: [], count: fields.count)
    }

    private func writeAll(_ bytes: [UInt8]) throws(FormatError) {
        let failure: String? = bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                guard let base = raw.baseAddress else { return nil }
                let wrote = posixWrite(descriptor, base + done, raw.count - done)
                if wrote < 0, errno == EINTR { continue }
                if wrote <= 0 { return ByteSource.errnoText() }
                done += wrote
            }
            return nil
        }
        if let failure { throw FormatError(file: path, "writing \(temporaryPath) failed: \(failure)") }
        offset += bytes.count
    }
}

/// Encoded chunks written by concurrent workers; each slot is written once, then read after all finish.
private final class ChunkSlots: Sendable {
    private let slots: Mutex<[Result<EncodedChunk, CodecError>?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Result<EncodedChunk, CodecError>) { slots.withLock { $0[index] = result } }

    func results() -> [Result<EncodedChunk, CodecError>] {
        slots.withLock { $0.map { $0 ?? .failure(CodecError("column was not encoded")) } }
    }
}

@inline(__always) private func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
@inline(__always) private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
