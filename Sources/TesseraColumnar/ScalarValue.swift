import TesseraCore

/// One value of any Tessera type, for the slow paths: display, JSON, tests and online lookups.
/// Hot paths work on `ColumnData` arrays instead.
public enum ScalarValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int32(Int32)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case string(String)
    case bytes([UInt8])
    case timestamp(Timestamp)
    case list([ScalarValue])

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension ScalarValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let v): String(v)
        case .int32(let v): String(v)
        case .int64(let v): String(v)
        case .float32(let v): String(v)
        case .float64(let v): String(v)
        case .string(let v): v
        case .bytes(let v): "0x" + SHA256.hexString(v)
        case .timestamp(let v): v.iso8601
        case .list(let v): "[" + v.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
