import TesseraColumnar
import TesseraCore

/// Stored Parquet values to Tessera values: timestamps to microseconds, dates to
/// midnight UTC, unsigned integers widened, decimals to float64.
enum ValueConversions {
    static let microsPerDay: Int64 = 86_400_000_000
    /// The Julian day number of 1970-01-01, for INT96 timestamps.
    static let julianEpochDay: Int64 = 2_440_588

    static func int32Column(_ values: [Int32], _ leaf: LeafColumn, _ bits: Bitmap?) -> Column {
        switch leaf.conversion {
        case .date:
            // Days beyond ±106,751 overflow microseconds; they wrap rather than trap.
            return Column(type: .timestamp, data: .int64(values.map { Int64($0) &* microsPerDay }), validity: bits)
        case .uint32:
            return Column(type: .int64, data: .int64(values.map { Int64(UInt32(bitPattern: $0)) }), validity: bits)
        case .decimal(let scale):
            let divisor = power10(scale)
            return Column(type: .float64, data: .float64(values.map { Double($0) / divisor }), validity: bits)
        default:
            return Column(type: .int32, data: .int32(values), validity: bits)
        }
    }

    static func int64Column(
        _ input: consuming [Int64], _ leaf: LeafColumn, _ bits: Bitmap?, file: String, location: String
    )
        throws(FormatError) -> Column
    {
        var values = input
        switch leaf.conversion {
        case .timestampMillis:
            var overflow = false
            values.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices {
                    let (product, over) = buffer[i].multipliedReportingOverflow(by: 1000)
                    buffer[i] = product
                    overflow = overflow || over
                }
            }
            if overflow {
                throw FormatError(file: file, location: location, "a millisecond timestamp overflows microseconds")
            }
        case .timestampNanos:
            values.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices {
                    let v = buffer[i]
                    buffer[i] = v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1
                }
            }
        case .uint64:
            if let bad = values.firstIndex(where: { $0 < 0 }) {
                throw FormatError(
                    file: file, location: location,
                    "UINT64 value \(UInt64(bitPattern: values[bad])) at row \(bad) is larger than int64 can hold")
            }
        case .decimal(let scale):
            let divisor = power10(scale)
            return Column(type: .float64, data: .float64(values.map { Double($0) / divisor }), validity: bits)
        default:
            break
        }
        return Column(type: leaf.valueType, data: .int64(values), validity: bits)
    }

    /// INT96: 8 bytes of nanoseconds within the day, then 4 bytes of Julian day, little-endian.
    static func int96Column(_ raw: [UInt8], _ bits: Bitmap?) -> Column {
        let count = raw.count / 12
        let values = raw.withUnsafeBytes { bytes in
            [Int64](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    let nanos = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 12, as: Int64.self))
                    let day = Int64(
                        Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 12 + 8, as: Int32.self)))
                    let floorMicros = nanos >= 0 ? nanos / 1000 : -((-(nanos + 1)) / 1000) - 1
                    out[i] = (day &- julianEpochDay) &* microsPerDay &+ floorMicros
                }
                initialized = count
            }
        }
        return Column(type: .timestamp, data: .int64(values), validity: bits)
    }

    /// DECIMAL stored as big-endian two's-complement bytes, as float64.
    static func decimalColumn(_ data: BinaryData, scale: Int32, _ bits: Bitmap?) -> Column {
        let divisor = power10(scale)
        var out = [Double](repeating: 0, count: data.count)
        data.bytes.withUnsafeBufferPointer { bytes in
            for i in 0..<data.count {
                let from = data.offsets[i]
                let to = data.offsets[i + 1]
                guard to > from else { continue }
                if to - from <= 16 {
                    var value: Int128 = (bytes[from] & 0x80) != 0 ? -1 : 0
                    for k in from..<to { value = (value << 8) | Int128(bytes[k]) }
                    out[i] = Double(value) / divisor
                } else {
                    // Wider than 128 bits: accumulate in floating point (approximate).
                    let negative = (bytes[from] & 0x80) != 0
                    var value = 0.0
                    for k in from..<to { value = value * 256 + Double(negative ? ~bytes[k] : bytes[k]) }
                    out[i] = (negative ? -(value + 1) : value) / divisor
                }
            }
        }
        return Column(type: .float64, data: .float64(out), validity: bits)
    }

    static func power10(_ scale: Int32) -> Double {
        var result = 1.0
        for _ in 0..<min(max(Int(scale), 0), 400) { result *= 10 }
        if scale < 0 {
            result = 1.0
            for _ in 0..<min(-Int(scale), 400) { result /= 10 }
        }
        return result
    }
}
