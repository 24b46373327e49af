import TesseraColumnar
import TesseraCore

/// Minimum, maximum and null count of one column chunk, from the file's statistics.
public struct ParquetColumnStatistics: Sendable, Equatable {
    /// The smallest non-null value, in the column's Tessera type (nil when not recorded).
    public var min: ScalarValue?
    /// The largest non-null value.
    public var max: ScalarValue?
    public var nullCount: Int?

    public init(min: ScalarValue?, max: ScalarValue?, nullCount: Int?) {
        self.min = min
        self.max = max
        self.nullCount = nullCount
    }
}

/// What the footer says about one column chunk.
public struct ParquetColumnChunkInfo: Sendable {
    /// The column's dotted path in the Parquet schema (`tags.list.element` for a list).
    public var path: String
    /// The top-level column this chunk belongs to.
    public var column: String
    public var physicalType: String
    public var encodings: [String]
    public var compression: String
    public var valueCount: Int
    public var compressedSize: Int
    public var uncompressedSize: Int
    public var statistics: ParquetColumnStatistics?
}

/// What the footer says about one row group.
public struct ParquetRowGroupInfo: Sendable {
    public var index: Int
    public var rowCount: Int
    public var compressedSize: Int
    public var uncompressedSize: Int
    public var columns: [ParquetColumnChunkInfo]

    /// The chunk of the top-level column `name`.
    public func column(named name: String) -> ParquetColumnChunkInfo? {
        columns.first { $0.column == name }
    }
}

/// A column of the file that Tessera cannot represent (a struct, a map, a nested list).
public struct ParquetSkippedColumn: Sendable, Equatable {
    public var name: String
    public var reason: String
}

extension ParquetColumnStatistics {
    /// Statistics of a chunk in the leaf's Tessera value type; nil when none are usable.
    init?(_ stats: Statistics?, leaf: LeafColumn, typeDefinedOrder: Bool) {
        guard let stats else { return nil }
        let isBinary = leaf.physical == .byteArray || leaf.physical == .fixedLenByteArray
        let unsigned = leaf.conversion == .uint32 || leaf.conversion == .uint64
        // The deprecated min/max compare byte arrays and unsigned integers as signed: not usable there.
        let legacyUsable = !isBinary && !unsigned
        let minBytes = stats.minValue ?? (legacyUsable ? stats.min : nil)
        let maxBytes = stats.maxValue ?? (legacyUsable ? stats.max : nil)
        var minValue = minBytes.flatMap { StatisticsDecoding.scalar($0, leaf) }
        var maxValue = maxBytes.flatMap { StatisticsDecoding.scalar($0, leaf) }
        if isBinary, !typeDefinedOrder, stats.minValue == nil {
            minValue = nil
            maxValue = nil
        }
        self.init(min: minValue, max: maxValue, nullCount: stats.nullCount.map { Int(clamping: $0) })
    }
}

enum StatisticsDecoding {
    /// A PLAIN-encoded statistics value as a Tessera scalar (nil when malformed or not comparable).
    static func scalar(_ bytes: [UInt8], _ leaf: LeafColumn) -> ScalarValue? {
        func load<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard bytes.count == MemoryLayout<T>.size else { return nil }
            var value: T = 0
            for (k, byte) in bytes.enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * k) }
            return value
        }
        switch leaf.physical {
        case .boolean:
            guard bytes.count == 1 else { return nil }
            return .bool(bytes[0] != 0)
        case .int32:
            guard let v = load(Int32.self) else { return nil }
            switch leaf.conversion {
            case .date:
                let (micros, overflow) = Int64(v).multipliedReportingOverflow(by: ValueConversions.microsPerDay)
                return overflow ? nil : .timestamp(Timestamp(microseconds: micros))
            case .uint32: return .int64(Int64(UInt32(bitPattern: v)))
            case .decimal(let scale): return .float64(Double(v) / ValueConversions.power10(scale))
            default: return .int32(v)
            }
        case .int64:
            guard let v = load(Int64.self) else { return nil }
            switch leaf.conversion {
            case .timestampMillis:
                let (micros, overflow) = v.multipliedReportingOverflow(by: 1000)
                return overflow ? nil : .timestamp(Timestamp(microseconds: micros))
            case .timestampNanos:
                return .timestamp(Timestamp(microseconds: v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1))
            case .uint64: return v < 0 ? nil : .int64(v)
            case .decimal(let scale): return .float64(Double(v) / ValueConversions.power10(scale))
            default: return leaf.valueType == .timestamp ? .timestamp(Timestamp(microseconds: v)) : .int64(v)
            }
        case .float:
            guard let bits = load(UInt32.self) else { return nil }
            let v = Float(bitPattern: bits)
            return v.isNaN ? nil : .float32(v)
        case .double:
            guard let bits = load(UInt64.self) else { return nil }
            let v = Double(bitPattern: bits)
            return v.isNaN ? nil : .float64(v)
        case .int96:
            return nil  // INT96 ordering is undefined in the format
        case .byteArray, .fixedLenByteArray:
            if case .decimal(let scale) = leaf.conversion {
                let column = ValueConversions.decimalColumn(
                    BinaryData(offsets: [0, bytes.count], bytes: bytes), scale: scale, nil)
                return column.value(at: 0)
            }
            return leaf.valueType == .string ? .string(String(decoding: bytes, as: UTF8.self)) : .bytes(bytes)
        }
    }
}
