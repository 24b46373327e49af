import NIOCore
import TesseraColumnar
import TesseraCore

/// Decodes the binary values of one selected column into a column, row by row.
public struct PostgresColumnDecoder {
    public let name: String
    public let reading: PostgresColumnType
    private var builder: ColumnBuilder

    /// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00 UTC).
    public static let epochOffset: Int64 = 946_684_800_000_000

    public init(name: String, reading: PostgresColumnType, capacity: Int) {
        self.name = name
        self.reading = reading
        builder = ColumnBuilder(type: reading.type, capacity: capacity)
    }

    /// Appends one value (`nil`: SQL NULL); throws a reason when the bytes are not a value
    /// of the column's type.
    public mutating func append(_ bytes: ByteBuffer?) throws(PostgresDecodeError) {
        guard let bytes else {
            builder.appendNull()
            return
        }
        switch reading.wire {
        case .text, .bytes:
            builder.append(binary: bytes.readableBytesView)
        case .int64:
            builder.append(int64: try Self.fixed(bytes, Int64.self))
        case .timestamp:
            if let instant = Self.instant(try Self.fixed(bytes, Int64.self)) {
                builder.append(int64: instant)
            } else {
                builder.appendNull()
            }
        case .array(let element):
            builder.append(.list(try Self.array(bytes, element: element)))
        case .bool, .int32, .float32, .float64:
            builder.append(try Self.scalar(bytes, reading.wire))
        }
    }

    public func finish() -> Column { builder.finish() }

    private static func fixed<T: FixedWidthInteger>(_ bytes: ByteBuffer, _: T.Type) throws(PostgresDecodeError) -> T {
        guard bytes.readableBytes == MemoryLayout<T>.size,
            let value = bytes.getInteger(at: bytes.readerIndex, as: T.self)
        else {
            throw PostgresDecodeError("expected \(MemoryLayout<T>.size) bytes, got \(bytes.readableBytes)")
        }
        return value
    }

    /// A scalar as a value (for the types whose builders take one, and for array elements).
    private static func scalar(_ bytes: ByteBuffer, _ wire: PostgresColumnType.Wire) throws(PostgresDecodeError)
        -> ScalarValue
    {
        switch wire {
        case .bool: .bool(try fixed(bytes, UInt8.self) != 0)
        case .int32: .int32(try fixed(bytes, Int32.self))
        case .int64: .int64(try fixed(bytes, Int64.self))
        case .float32: .float32(Float(bitPattern: try fixed(bytes, UInt32.self)))
        case .float64: .float64(Double(bitPattern: try fixed(bytes, UInt64.self)))
        case .text: .string(String(decoding: bytes.readableBytesView, as: UTF8.self))
        case .bytes: .bytes(Array(bytes.readableBytesView))
        case .timestamp:
            instant(try fixed(bytes, Int64.self)).map { .timestamp(Timestamp(microseconds: $0)) } ?? .null
        case .array: throw PostgresDecodeError("arrays of arrays cannot be read")
        }
    }

    /// Unix microseconds from PostgreSQL's; `nil` for ±infinity, which have no instant.
    private static func instant(_ raw: Int64) -> Int64? {
        raw == .max || raw == .min ? nil : raw &+ epochOffset
    }

    /// A one-dimensional array in PostgreSQL's binary form: dimensions, flags, element
    /// type, then each element's length (-1: null) and bytes.
    private static func array(_ bytes: ByteBuffer, element: PostgresColumnType.Wire) throws(PostgresDecodeError)
        -> [ScalarValue]
    {
        var buffer = bytes
        guard let dimensions = buffer.readInteger(as: Int32.self), buffer.readInteger(as: Int32.self) != nil,
            buffer.readInteger(as: Int32.self) != nil
        else { throw PostgresDecodeError("a truncated array header") }
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PostgresDecodeError("a \(dimensions)-dimensional array; only one-dimensional arrays can be read")
        }
        guard let count = buffer.readInteger(as: Int32.self), count >= 0, buffer.readInteger(as: Int32.self) != nil
        else { throw PostgresDecodeError("a truncated array header") }
        var out: [ScalarValue] = []
        out.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let length = buffer.readInteger(as: Int32.self) else {
                throw PostgresDecodeError("a truncated array")
            }
            if length < 0 {
                out.append(.null)
                continue
            }
            guard let slice = buffer.readSlice(length: Int(length)) else {
                throw PostgresDecodeError("a truncated array element")
            }
            out.append(try scalar(slice, element))
        }
        return out
    }
}

/// Why a value's bytes could not be read (the reader adds the source, row and column).
public struct PostgresDecodeError: Error {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}
