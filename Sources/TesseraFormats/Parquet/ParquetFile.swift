import TesseraColumnar
import TesseraCore

/// An open Parquet file: its footer parsed, its schema mapped to Tessera's types.
///
/// Reading decodes column chunks into `RecordBatch`es, with column projection,
/// row-group pruning on statistics and, when asked, several threads. Columns
/// Tessera cannot represent (structs, maps, nested lists) are left out of
/// `schema` and listed in `skippedColumns`.
///
/// Type mapping: BOOLEAN → bool; INT32 (and INT8/16/32, UINT8/16) → int32;
/// INT64 (and UINT32) → int64; UINT64 → int64, a value over `Int64.max` being an
/// error; FLOAT → float32; DOUBLE → float64; STRING/UTF8/ENUM/JSON byte arrays →
/// string, other byte arrays and fixed-length ones → bytes; TIMESTAMP (millis,
/// micros, nanos — nanoseconds rounded down — adjusted to UTC or not), INT96 and
/// DATE (midnight UTC) → timestamp in microseconds; DECIMAL of any storage →
/// float64 (unscaled value ÷ 10^scale, so wide decimals lose precision); LIST of
/// a primitive (3-level, legacy 2-level, or a bare repeated field) → list.
public final class ParquetFile: Sendable {
    /// The path (or name) the file was opened with, used in every error.
    public var path: String { source.name }
    /// The readable columns, in file order.
    public let schema: Schema
    /// Rows in all row groups.
    public let rowCount: Int
    /// The footer's facts about each row group (sizes, per-column encodings and statistics).
    public let rowGroups: [ParquetRowGroupInfo]
    public let skippedColumns: [ParquetSkippedColumn]
    /// The writer's name and version as recorded in the footer.
    public let createdBy: String?
    /// The footer's key/value metadata (for example pyarrow's `ARROW:schema`).
    public let keyValueMetadata: [String: String]

    let source: ByteSource
    let metadata: FileMetaData
    let mapping: SchemaMapping

    static let magic: [UInt8] = Array("PAR1".utf8)

    /// Opens and parses the footer of the file at `path`.
    public convenience init(path: String) throws(FormatError) {
        try self.init(source: ByteSource(path: path))
    }

    /// Parses Parquet bytes held in memory; `name` stands for the file in errors.
    public convenience init(bytes: [UInt8], name: String) throws(FormatError) {
        try self.init(source: ByteSource(bytes: bytes, name: name))
    }

    init(source: ByteSource) throws(FormatError) {
        self.source = source
        let name = source.name
        guard source.size >= 12 else {
            throw FormatError(file: name, "is \(source.size) bytes, too small to be a Parquet file")
        }
        let tail = try source.bytes(offset: source.size - 8, count: 8, location: "footer")
        guard Array(tail[4..<8]) == ParquetFile.magic else {
            if Array(tail[4..<8]) == Array("PARE".utf8) {
                throw FormatError(file: name, location: "footer", "encrypted Parquet files are not supported")
            }
            throw FormatError(
                file: name, location: "footer",
                "does not end with the Parquet magic PAR1 (not a Parquet file, or truncated)")
        }
        let head = try source.bytes(offset: 0, count: 4, location: "header")
        guard head == ParquetFile.magic else {
            throw FormatError(file: name, location: "header", "does not start with the Parquet magic PAR1")
        }
        let length = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard length <= source.size - 12 else {
            throw FormatError(
                file: name, location: "footer", "metadata length \(length) is larger than the file allows")
        }
        let footer = try source.bytes(offset: source.size - 8 - length, count: length, location: "footer")
        var metadata: FileMetaData
        let parsed: Result<FileMetaData, ThriftError> = footer.withUnsafeBytes { raw in
            var decoder = CompactDecoder(raw)
            do throws(ThriftError) { return .success(try FileMetaData(decoding: &decoder)) } catch {
                return .failure(error)
            }
        }
        switch parsed {
        case .success(let value): metadata = value
        case .failure(let error):
            throw FormatError(file: name, location: "footer", "corrupt file metadata: \(error.message)")
        }
        let mapping: SchemaMapping
        do { mapping = try SchemaMapping(metadata.schema) } catch {
            throw FormatError(file: name, location: "schema", error.message)
        }
        var infos: [ParquetRowGroupInfo] = []
        var total = 0
        for (index, group) in metadata.rowGroups.enumerated() {
            guard group.columns.count == mapping.leaves.count else {
                throw FormatError(
                    file: name, location: "row group \(index)",
                    "has \(group.columns.count) column chunks but the schema has \(mapping.leaves.count) columns")
            }
            guard group.numRows >= 0, group.numRows <= Int64(Int32.max) * 64 else {
                throw FormatError(file: name, location: "row group \(index)", "claims \(group.numRows) rows")
            }
            let (sum, overflow) = total.addingReportingOverflow(Int(group.numRows))
            guard !overflow else {
                throw FormatError(file: name, location: "row group \(index)", "row counts add up past \(Int.max)")
            }
            total = sum
            infos.append(
                ParquetFile.info(group, index: index, mapping: mapping, typeOrder: metadata.columnOrdersDefined))
        }
        self.metadata = metadata
        self.mapping = mapping
        self.schema = Schema(mapping.fields.map(\.field))
        self.rowCount = total
        self.rowGroups = infos
        self.skippedColumns = mapping.unsupported.map { ParquetSkippedColumn(name: $0.name, reason: $0.reason) }
        self.createdBy = metadata.createdBy
        var pairs: [String: String] = [:]
        for pair in metadata.keyValueMetadata { pairs[pair.key] = pair.value ?? "" }
        self.keyValueMetadata = pairs
    }

    private static func info(_ group: RowGroup, index: Int, mapping: SchemaMapping, typeOrder: Bool)
        -> ParquetRowGroupInfo
    {
        var columns: [ParquetColumnChunkInfo] = []
        var compressed = 0
        var uncompressed = 0
        for (leafIndex, chunk) in group.columns.enumerated() {
            let leaf = mapping.leaves[leafIndex]
            let top = mapping.fields.first { $0.leaf == leafIndex }?.field.name
            let meta = chunk.metaData
            // Footer sizes are claims: a lying one must not overflow the sum.
            compressed = clampedSum([compressed, Int(clamping: meta?.totalCompressedSize ?? 0)])
            uncompressed = clampedSum([uncompressed, Int(clamping: meta?.totalUncompressedSize ?? 0)])
            let path = meta?.pathInSchema.joined(separator: ".") ?? leaf.path.joined(separator: ".")
            columns.append(
                ParquetColumnChunkInfo(
                    path: path, column: top ?? meta?.pathInSchema.first ?? path,
                    physicalType: meta?.type.name ?? "?",
                    encodings: meta?.encodings.map(\.description) ?? [],
                    compression: meta?.codec.description ?? "?",
                    valueCount: Int(clamping: meta?.numValues ?? 0),
                    compressedSize: Int(clamping: meta?.totalCompressedSize ?? 0),
                    uncompressedSize: Int(clamping: meta?.totalUncompressedSize ?? 0),
                    statistics: top == nil || leaf.isList
                        ? nil : ParquetColumnStatistics(meta?.statistics, leaf: leaf, typeDefinedOrder: typeOrder)))
        }
        return ParquetRowGroupInfo(
            index: index, rowCount: Int(group.numRows), compressedSize: compressed, uncompressedSize: uncompressed,
            columns: columns)
    }

    /// The mapped fields for `columns` (all readable ones when nil); throws naming a missing column.
    func projection(_ columns: [String]?) throws(FormatError) -> [MappedField] {
        guard let columns else { return mapping.fields }
        var out: [MappedField] = []
        for name in columns {
            guard let field = mapping.fields.first(where: { $0.field.name == name }) else {
                if let skipped = skippedColumns.first(where: { $0.name == name }) {
                    throw FormatError(file: path, "column '\(name)' cannot be read: \(skipped.reason)")
                }
                let hint = Suggestions.hint(for: name, in: schema.names).map { "; \($0)" } ?? ""
                throw FormatError(
                    file: path, "no column named '\(name)'\(hint) (columns: \(schema.names.joined(separator: ", ")))")
            }
            out.append(field)
        }
        return out
    }
}
