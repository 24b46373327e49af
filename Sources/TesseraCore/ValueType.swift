/// The type of a feature, a join key or a column.
///
/// Tessera's types are those users declare in definition files: the scalar
/// types and lists of scalars. Timestamps are microseconds since the Unix
/// epoch, UTC.
///
/// Only `list` is boxed: scalar types are then plain tags, and copying or comparing them
/// (every read and kernel does) costs no reference counting.
public enum ValueType: Hashable, Sendable {
    case bool
    case int32
    case int64
    case float32
    case float64
    case string
    case bytes
    case timestamp
    indirect case list(ValueType)

    /// Every scalar type, in the order the documentation lists them.
    public static let scalars: [ValueType] = [
        .bool, .int32, .int64, .float32, .float64, .string, .bytes, .timestamp,
    ]

    /// The spelling used in definition files and in messages: `int64`, `list<float32>`.
    public var name: String {
        switch self {
        case .bool: "bool"
        case .int32: "int32"
        case .int64: "int64"
        case .float32: "float32"
        case .float64: "float64"
        case .string: "string"
        case .bytes: "bytes"
        case .timestamp: "timestamp"
        case .list(let element): "list<\(element.name)>"
        }
    }

    /// Whether this is a list type.
    public var isList: Bool {
        if case .list = self { return true }
        return false
    }

    /// Whether values of this type are numbers (integers or floating point).
    public var isNumeric: Bool {
        switch self {
        case .int32, .int64, .float32, .float64: true
        default: false
        }
    }

    /// Parses a type name as written in definition files.
    ///
    /// Accepts the canonical names (`int64`, `list<string>`) and a few common
    /// aliases users bring from Feast, pandas and SQL (`Int64`, `float`,
    /// `double`, `str`, `Array(Float32)`, `[int64]`). Returns `nil` for anything else.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces()
        let lower = trimmed.lowercased()
        for (prefix, suffix) in [("list<", ">"), ("array(", ")"), ("array<", ">"), ("[", "]"), ("list[", "]")]
        where lower.hasPrefix(prefix) && lower.hasSuffix(suffix) && lower.count > prefix.count + suffix.count {
            let inner = String(trimmed.dropFirst(prefix.count).dropLast(suffix.count))
            guard let element = ValueType(parsing: inner), !element.isList else { return nil }
            self = .list(element)
            return
        }
        switch lower {
        case "bool", "boolean": self = .bool
        case "int32", "int", "integer": self = .int32
        case "int64", "long", "bigint": self = .int64
        case "float32", "float", "real": self = .float32
        case "float64", "double": self = .float64
        case "string", "str", "utf8", "text", "varchar": self = .string
        case "bytes", "binary", "blob": self = .bytes
        case "timestamp", "datetime", "unix_timestamp": self = .timestamp
        default: return nil
        }
    }

    /// The canonical type names a user may write, for "did you mean" suggestions.
    public static let spellings: [String] =
        scalars.map(\.name) + scalars.filter { $0 != .timestamp }.map { ValueType.list($0).name }
}

extension ValueType: CustomStringConvertible {
    public var description: String { name }
}

extension ValueType: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = ValueType(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown type '\(text)'")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    public func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" || first == "\r" {
            scalars = scalars.dropFirst()
        }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" || last == "\r" {
            scalars = scalars.dropLast()
        }
        return String(scalars)
    }
}
