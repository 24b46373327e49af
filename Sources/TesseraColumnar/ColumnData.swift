import TesseraCore

/// Variable-length values (strings or bytes) laid out as in Arrow: value `i` is
/// `bytes[offsets[i] ..< offsets[i + 1]]`.
public struct BinaryData: Sendable, Equatable {
    /// `count + 1` offsets into `bytes`, non-decreasing, starting at 0.
    public var offsets: [Int]
    public var bytes: [UInt8]

    public init() {
        self.offsets = [0]
        self.bytes = []
    }

    public init(offsets: [Int], bytes: [UInt8]) {
        self.offsets = offsets
        self.bytes = bytes
    }

    /// Builds from Swift strings (convenience; not for hot paths).
    public init(strings: some Sequence<String>) {
        self.init()
        for string in strings { append(string) }
    }

    public var count: Int { offsets.count - 1 }

    public mutating func append(_ string: String) {
        bytes.append(contentsOf: string.utf8)
        offsets.append(bytes.count)
    }

    public mutating func append(bytes value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    /// Appends an empty value (the placeholder of a null slot).
    public mutating func appendEmpty() {
        offsets.append(bytes.count)
    }

    public func string(at index: Int) -> String {
        String(decoding: bytes[offsets[index]..<offsets[index + 1]], as: UTF8.self)
    }

    public func bytes(at index: Int) -> ArraySlice<UInt8> {
        bytes[offsets[index]..<offsets[index + 1]]
    }

    public func length(at index: Int) -> Int { offsets[index + 1] - offsets[index] }
}

/// The values of a column, one case per physical layout.
///
/// Kernels switch on this once per column and then loop over a typed,
/// contiguous array: no per-value dispatch. `timestamp` columns use `int64`
/// (microseconds since the epoch, UTC); `string` and `bytes` use `binary`.
/// Null slots hold a zero (or empty) placeholder.
///
/// Only `list` is boxed (it holds a `Column`): the other cases sit inline, so rebuilding
/// a case around its grown array (what `ColumnBuilder` does per value) allocates nothing.
public enum ColumnData: Sendable, Equatable {
    case bool([Bool])
    case int32([Int32])
    case int64([Int64])
    case float32([Float])
    case float64([Double])
    case binary(BinaryData)
    /// Lists: list `i` is `values[offsets[i] ..< offsets[i + 1]]`.
    indirect case list(offsets: [Int], values: Column)

    public var count: Int {
        switch self {
        case .bool(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float32(let v): v.count
        case .float64(let v): v.count
        case .binary(let v): v.count
        case .list(let offsets, _): offsets.count - 1
        }
    }

    /// An empty array of the layout that stores `type`.
    public static func empty(for type: ValueType) -> ColumnData {
        switch type {
        case .bool: .bool([])
        case .int32: .int32([])
        case .int64, .timestamp: .int64([])
        case .float32: .float32([])
        case .float64: .float64([])
        case .string, .bytes: .binary(BinaryData())
        case .list(let element): .list(offsets: [0], values: Column(empty: element))
        }
    }
}
