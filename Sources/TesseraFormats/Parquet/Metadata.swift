/// The Parquet footer's structures (parquet.thrift), holding only the fields Tessera uses.
/// Enum-like values are kept as raw numbers wrapped in structs, so a file from a
/// newer writer with values this reader does not know still parses.

/// A column's physical (storage) type.
public enum PhysicalType: Int32, Sendable, CaseIterable {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7

    public var name: String {
        switch self {
        case .boolean: "BOOLEAN"
        case .int32: "INT32"
        case .int64: "INT64"
        case .int96: "INT96"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .byteArray: "BYTE_ARRAY"
        case .fixedLenByteArray: "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

/// A value encoding, as numbered by the format.
public struct ParquetEncoding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let plain = ParquetEncoding(rawValue: 0)
    public static let plainDictionary = ParquetEncoding(rawValue: 2)
    public static let rle = ParquetEncoding(rawValue: 3)
    public static let bitPacked = ParquetEncoding(rawValue: 4)
    public static let deltaBinaryPacked = ParquetEncoding(rawValue: 5)
    public static let deltaLengthByteArray = ParquetEncoding(rawValue: 6)
    public static let deltaByteArray = ParquetEncoding(rawValue: 7)
    public static let rleDictionary = ParquetEncoding(rawValue: 8)
    public static let byteStreamSplit = ParquetEncoding(rawValue: 9)

    public var description: String {
        switch rawValue {
        case 0: "PLAIN"
        case 2: "PLAIN_DICTIONARY"
        case 3: "RLE"
        case 4: "BIT_PACKED"
        case 5: "DELTA_BINARY_PACKED"
        case 6: "DELTA_LENGTH_BYTE_ARRAY"
        case 7: "DELTA_BYTE_ARRAY"
        case 8: "RLE_DICTIONARY"
        case 9: "BYTE_STREAM_SPLIT"
        case 10: "ALP"
        default: "ENCODING(\(rawValue))"
        }
    }

    var isDictionary: Bool { self == .plainDictionary || self == .rleDictionary }
}

/// A page compression codec, as numbered by the format.
public struct ParquetCompression: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let uncompressed = ParquetCompression(rawValue: 0)
    public static let snappy = ParquetCompression(rawValue: 1)
    public static let gzip = ParquetCompression(rawValue: 2)
    public static let lzo = ParquetCompression(rawValue: 3)
    public static let brotli = ParquetCompression(rawValue: 4)
    /// The deprecated LZ4 codec (Hadoop's framing, or a bare block from old Arrow versions).
    public static let lz4 = ParquetCompression(rawValue: 5)
    public static let zstd = ParquetCompression(rawValue: 6)
    public static let lz4Raw = ParquetCompression(rawValue: 7)

    public var description: String {
        switch rawValue {
        case 0: "UNCOMPRESSED"
        case 1: "SNAPPY"
        case 2: "GZIP"
        case 3: "LZO"
        case 4: "BROTLI"
        case 5: "LZ4"
        case 6: "ZSTD"
        case 7: "LZ4_RAW"
        default: "CODEC(\(rawValue))"
        }
    }
}

enum Repetition: Int32, Sendable {
    case required = 0, optional = 1, repeated = 2
}

enum TimeUnit: Sendable, Equatable {
    case millis, micros, nanos
}

/// The logical type annotation (the `LogicalType` union), reduced to what the reader maps.
enum LogicalType: Sendable, Equatable {
    case string, map, list, enumeration, json, bson, uuid, float16, date, unknown
    case decimal(scale: Int32, precision: Int32)
    case time(utc: Bool, unit: TimeUnit)
    case timestamp(utc: Bool, unit: TimeUnit)
    case integer(bitWidth: Int8, signed: Bool)
    case other(Int16)
}

/// The legacy `ConvertedType` annotation.
enum ConvertedType: Int32, Sendable {
    case utf8 = 0, map = 1, mapKeyValue = 2, list = 3, enumeration = 4, decimal = 5, date = 6
    case timeMillis = 7, timeMicros = 8, timestampMillis = 9, timestampMicros = 10
    case uint8 = 11, uint16 = 12, uint32 = 13, uint64 = 14, int8 = 15, int16 = 16, int32 = 17, int64 = 18
    case json = 19, bson = 20, interval = 21
}

struct SchemaElement: Sendable {
    var type: PhysicalType?
    var typeLength: Int32?
    var repetition: Repetition?
    var name: String = ""
    var numChildren: Int32?
    var convertedType: ConvertedType?
    var scale: Int32?
    var precision: Int32?
    var fieldId: Int32?
    var logicalType: LogicalType?
}

struct Statistics: Sendable {
    var max: [UInt8]?
    var min: [UInt8]?
    var nullCount: Int64?
    var distinctCount: Int64?
    var maxValue: [UInt8]?
    var minValue: [UInt8]?
}

struct KeyValue: Sendable {
    var key: String
    var value: String?
}

struct ColumnMetaData: Sendable {
    var type: PhysicalType = .boolean
    var encodings: [ParquetEncoding] = []
    var pathInSchema: [String] = []
    var codec: ParquetCompression = .uncompressed
    var numValues: Int64 = 0
    var totalUncompressedSize: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var indexPageOffset: Int64?
    var dictionaryPageOffset: Int64?
    var statistics: Statistics?
}

struct ColumnChunk: Sendable {
    var filePath: String?
    var fileOffset: Int64 = 0
    var metaData: ColumnMetaData?
}

struct RowGroup: Sendable {
    var columns: [ColumnChunk] = []
    var totalByteSize: Int64 = 0
    var numRows: Int64 = 0
    var fileOffset: Int64?
    var totalCompressedSize: Int64?
    var ordinal: Int16?
}

struct FileMetaData: Sendable {
    var version: Int32 = 0
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroup] = []
    var keyValueMetadata: [KeyValue] = []
    var createdBy: String?
    /// Whether the writer declared type-defined (unsigned for byte arrays) ordering for statistics.
    var columnOrdersDefined: Bool = false
    var encrypted: Bool = false
}

enum PageType: Int32, Sendable {
    case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3
}

struct DataPageHeader: Sendable {
    var numValues: Int32 = 0
    var encoding: ParquetEncoding = .plain
    var definitionLevelEncoding: ParquetEncoding = .rle
    var repetitionLevelEncoding: ParquetEncoding = .rle
}

struct DataPageHeaderV2: Sendable {
    var numValues: Int32 = 0
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var encoding: ParquetEncoding = .plain
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed: Bool = true
}

struct DictionaryPageHeader: Sendable {
    var numValues: Int32 = 0
    var encoding: ParquetEncoding = .plain
}

struct PageHeader: Sendable {
    /// The raw page type; unknown types are skipped by the reader.
    var type: Int32 = 0
    var uncompressedPageSize: Int32 = 0
    var compressedPageSize: Int32 = 0
    var dataPageHeader: DataPageHeader?
    var dictionaryPageHeader: DictionaryPageHeader?
    var dataPageHeaderV2: DataPageHeaderV2?
}
