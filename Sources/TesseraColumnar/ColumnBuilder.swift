import TesseraCore

/// Appends values one at a time into a column of a fixed type (readers, JSON, CSV).
///
/// Typed `append` methods avoid `ScalarValue` boxing on the paths that use them.
public struct ColumnBuilder: Sendable {
    public let type: ValueType
    private var data: ColumnData
    private var validity: Bitmap
    private var hasNull = false

    public init(type: ValueType, capacity: Int = 0) {
        self.type = type
        self.data = ColumnData.empty(for: type)
        self.validity = Bitmap()
        validity.reserveCapacity(capacity)
        reserve(capacity)
    }

    private mutating func reserve(_ capacity: Int) {
        guard capacity > 0 else { return }
        switch data {
        case .bool(var v):
            data = .int32([])
            v.reserveCapacity(capacity)
            data = .bool(v)
        case .int32(var v):
            data = .bool([])
            v.reserveCapacity(capacity)
            data = .int32(v)
        case .int64(var v):
            data = .bool([])
            v.reserveCapacity(capacity)
            data = .int64(v)
        case .float32(var v):
            data = .bool([])
            v.reserveCapacity(capacity)
            data = .float32(v)
        case .float64(var v):
            data = .bool([])
            v.reserveCapacity(capacity)
            data = .float64(v)
        case .binary(var v):
            data = .bool([])
            v.offsets.reserveCapacity(capacity + 1)
            data = .binary(v)
        case .list:
            break
        }
    }

    public var count: Int { validity.count }

    /// Appends a null (a placeholder slot with its validity bit clear).
    public mutating func appendNull() {
        hasNull = true
        validity.append(false)
        switch data {
        case .bool(var v):
            data = .int32([])
            v.append(false)
            data = .bool(v)
        case .int32(var v):
            data = .bool([])
            v.append(0)
            data = .int32(v)
        case .int64(var v):
            data = .bool([])
            v.append(0)
            data = .int64(v)
        case .float32(var v):
            data = .bool([])
            v.append(0)
            data = .float32(v)
        case .float64(var v):
            data = .bool([])
            v.append(0)
            data = .float64(v)
        case .binary(var v):
            data = .bool([])
            v.appendEmpty()
            data = .binary(v)
        case .list(var offsets, let values):
            offsets.append(offsets[offsets.count - 1])
            data = .list(offsets: offsets, values: values)
        }
    }

    /// Appends a value; returns `false` (appending nothing) when it does not fit the type.
    /// Integers widen and narrow when they fit; ints are accepted for floats.
    @discardableResult
    public mutating func append(_ value: ScalarValue) -> Bool {
        if case .null = value {
            appendNull()
            return true
        }
        switch (data, value) {
        case (.bool(var v), .bool(let x)):
            data = .int32([])
            v.append(x)
            data = .bool(v)
        case (.int32(var v), _):
            guard let x = value.asInt64, let narrow = Int32(exactly: x) else { return false }
            data = .bool([])
            v.append(narrow)
            data = .int32(v)
        case (.int64(var v), .timestamp(let t)) where type == .timestamp:
            data = .bool([])
            v.append(t.microseconds)
            data = .int64(v)
        case (.int64(var v), _) where type == .int64:
            guard let x = value.asInt64 else { return false }
            data = .bool([])
            v.append(x)
            data = .int64(v)
        case (.float32(var v), _):
            guard let x = value.asDouble else { return false }
            data = .bool([])
            v.append(Float(x))
            data = .float32(v)
        case (.float64(var v), _):
            guard let x = value.asDouble else { return false }
            data = .bool([])
            v.append(x)
            data = .float64(v)
        case (.binary(var v), .string(let s)) where type == .string:
            data = .bool([])
            v.append(s)
            data = .binary(v)
        case (.binary(var v), .bytes(let b)) where type == .bytes:
            data = .bool([])
            v.append(bytes: b)
            data = .binary(v)
        case (.list(var offsets, let values), .list(let items)):
            guard case .list(let element) = type else { return false }
            var inner = ColumnBuilder(reopening: values, element: element)
            for item in items {
                guard inner.append(item) else { return false }
            }
            offsets.append(inner.count)
            data = .list(offsets: offsets, values: inner.finish())
        default:
            return false
        }
        validity.append(true)
        return true
    }

    private init(reopening column: Column, element: ValueType) {
        self.type = element
        self.data = column.data
        self.validity = column.validity ?? Bitmap(count: column.count, value: true)
        self.hasNull = column.validity != nil
    }

    public mutating func append(int64 value: Int64) {
        validity.append(true)
        if case .int64(var v) = data {
            data = .bool([])
            v.append(value)
            data = .int64(v)
        }
    }

    public mutating func append(string value: String) {
        validity.append(true)
        if case .binary(var v) = data {
            data = .bool([])
            v.append(value)
            data = .binary(v)
        }
    }

    /// The finished column.
    public func finish() -> Column {
        Column(type: type, data: data, validity: hasNull ? validity : nil)
    }
}

extension Bitmap {
    /// An empty bitmap.
    public init() {
        self.init(count: 0, value: false)
    }
}

extension ScalarValue {
    /// The value as an integer, when it is one (or a float with an exact integer value).
    public var asInt64: Int64? {
        switch self {
        case .int32(let v): Int64(v)
        case .int64(let v): v
        case .float64(let v): Int64(exactly: v)
        case .float32(let v): Int64(exactly: v)
        default: nil
        }
    }

    /// The value as a double, when it is a number.
    public var asDouble: Double? {
        switch self {
        case .int32(let v): Double(v)
        case .int64(let v): Double(v)
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: nil
        }
    }
}
