import NIOCore
import PostgresNIO
import TesseraColumnar
import TesseraCore
import TesseraSourcePostgres

/// Some rows of a column as one binary array parameter (`$1::int8[]`), for
/// `INSERT … SELECT * FROM unnest($1, $2, …)`: the whole upload of a column slice is one
/// bind, written straight from the column's buffers, nulls included.
struct PostgresArrayParameter: PostgresDynamicTypeEncodable {
    /// The element layouts uploads use, with their array and element type OIDs.
    enum Element: Sendable {
        case int64, timestamp, text, bytes

        var arrayOID: UInt32 {
            switch self {
            case .int64: 1016
            case .timestamp: 1185
            case .text: 1009
            case .bytes: 1001
            }
        }
        var elementOID: UInt32 {
            switch self {
            case .int64: 20
            case .timestamp: 1184
            case .text: 25
            case .bytes: 17
            }
        }
        /// The SQL type name of the column the elements land in.
        var sqlType: String {
            switch self {
            case .int64: "int8"
            case .timestamp: "timestamptz"
            case .text: "text"
            case .bytes: "bytea"
            }
        }

        /// How a join key of `type` is uploaded; `nil` for a type keys are not compared as here.
        init?(key type: ValueType) {
            switch type {
            case .int64, .int32: self = .int64
            case .string: self = .text
            case .bytes: self = .bytes
            default: return nil
            }
        }
    }

    /// The values; `nil`: the row numbers themselves (`__row`).
    let column: Column?
    let element: Element
    /// The rows of `column` uploaded, in order.
    let rows: ArraySlice<Int>

    var psqlType: PostgresDataType { PostgresDataType(element.arrayOID) }
    var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        // One dimension; the has-nulls flag may be set without nulls.
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(element.elementOID)
        buffer.writeInteger(Int32(rows.count))
        buffer.writeInteger(Int32(1))
        guard let column else {
            for row in rows {
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(Int64(row))
            }
            return
        }
        switch column.data {
        case .int64(let values):
            let shift = element == .timestamp ? PostgresColumnDecoder.epochOffset : 0
            for row in rows {
                guard column.isValid(row) else {
                    buffer.writeInteger(Int32(-1))
                    continue
                }
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(values[row] &- shift)
            }
        case .binary(let data):
            for row in rows {
                guard column.isValid(row) else {
                    buffer.writeInteger(Int32(-1))
                    continue
                }
                buffer.writeInteger(Int32(data.length(at: row)))
                buffer.writeBytes(data.bytes(at: row))
            }
        default:
            // Never built for other layouts (keys are int64 after `asJoinKey`, see
            // `Element.init(key:)`): every slot null.
            for _ in rows { buffer.writeInteger(Int32(-1)) }
        }
    }
}
