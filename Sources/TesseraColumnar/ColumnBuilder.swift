import TesseraCore

/// Appends values one at a time into a column of a fixed type (readers, JSON, CSV).
///
/// Typed `append` methods avoid `ScalarValue` boxing on the paths that use them.
public struct ColumnBuilder: Sendable {
    public let type: ValueType
    private var data: ColumnData
    private var validity: Bitmap
    private var hasNull = false
    /// For a list type: the list offsets and the builder of the element values (one
    /// element; the array gives the recursive type its indirection). Keeping the elements
    /// in `data` instead copied the whole element column on every list appended.
    private var listOffsets: [Int] = [0]
    private var elements: [ColumnBuilder] = []

    public init(type: ValueType, capacity: Int = 0) {
        self.type = type
        self.data = ColumnData.empty(for: type)
        self.validity = Bitmap()
        if case .list(let element) = type { elements = [ColumnBuilder(type: element)] }
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
        // `guard case` in each push takes the array out of `data` so it grows in place; a
        // `switch data` here kept the subject alive and copied the column on every null.
        if case .list = data {
            listOffsets.append(listOffsets[listOffsets.count - 1])
            return
        }
        if case .binary = data {
            _ = pushEmptyBinary()
            return
        }
        _ = push(false) || push(Int32(0)) || push(Int64(0)) || push(Float(0)) || push(Double(0))
    }

    /// Appends a value; returns `false` (appending nothing) when it does not fit the type.
    /// Integers widen and narrow when they fit; ints are accepted for floats.
    ///
    /// Each case takes the array out of `data` before appending, so that it is uniquely
    /// referenced and grows in place (switching on a `(data, value)` tuple kept a second
    /// reference and copied the whole column on every append).
    @discardableResult
    public mutating func append(_ value: ScalarValue) -> Bool {
        if case .null = value {
            appendNull()
            return true
        }
        let appended: Bool
        switch type {
        case .bool:
            guard case .bool(let x) = value else { return false }
            appended = push(x)
        case .int32:
            guard let x = value.asInt64, let narrow = Int32(exactly: x) else { return false }
            appended = push(narrow)
        case .int64:
            guard let x = value.asInt64 else { return false }
            appended = push(x)
        case .timestamp:
            guard case .timestamp(let t) = value else { return false }
            appended = push(t.microseconds)
        case .float32:
            guard let x = value.asDouble else { return false }
            appended = push(Float(x))
        case .float64:
            guard let x = value.asDouble else { return false }
            appended = push(x)
        case .string:
            guard case .string(let x) = value else { return false }
            appended = pushBinary(x.utf8)
        case .bytes:
            guard case .bytes(let x) = value else { return false }
            appended = pushBinary(x)
        case .list(let element):
            guard case .list(let items) = value, !elements.isEmpty else { return false }
            // Check every item first, so that a list with a bad item appends nothing.
            var probe = ColumnBuilder(type: element)
            for item in items {
                guard probe.append(item) else { return false }
            }
            for item in items { elements[0].append(item) }
            listOffsets.append(elements[0].count)
            appended = true
        }
        if appended { validity.append(true) }
        return appended
    }

    private mutating func push(_ x: Bool) -> Bool {
        guard case .bool(var v) = data else { return false }
        data = .int32([])
        v.append(x)
        data = .bool(v)
        return true
    }

    private mutating func push(_ x: Int32) -> Bool {
        guard case .int32(var v) = data else { return false }
        data = .bool([])
        v.append(x)
        data = .int32(v)
        return true
    }

    private mutating func push(_ x: Int64) -> Bool {
        guard case .int64(var v) = data else { return false }
        data = .bool([])
        v.append(x)
        data = .int64(v)
        return true
    }

    private mutating func push(_ x: Float) -> Bool {
        guard case .float32(var v) = data else { return false }
        data = .bool([])
        v.append(x)
        data = .float32(v)
        return true
    }

    private mutating func push(_ x: Double) -> Bool {
        guard case .float64(var v) = data else { return false }
        data = .bool([])
        v.append(x)
        data = .float64(v)
        return true
    }

    private mutating func pushEmptyBinary() -> Bool {
        guard case .binary(var v) = data else { return false }
        data = .bool([])
        v.appendEmpty()
        data = .binary(v)
        return true
    }

    private mutating func pushBinary(_ bytes: some Collection<UInt8>) -> Bool {
        guard case .binary(var v) = data else { return false }
        data = .bool([])
        v.append(bytes: bytes)
        data = .binary(v)
        return true
    }

    /// Appends an int64 (or timestamp microseconds); does nothing on a builder of another layout.
    public mutating func append(int64 value: Int64) {
        if case .int64(var v) = data {
            validity.append(true)
            data = .bool([])
            v.append(value)
            data = .int64(v)
        }
    }

    /// Appends a string's UTF-8 bytes (or a bytes value) without making a `String`; does
    /// nothing on a builder of another layout.
    public mutating func append(binary value: some Collection<UInt8>) {
        if pushBinary(value) { validity.append(true) }
    }

    /// Appends a string (or its bytes); does nothing on a builder of another layout.
    public mutating func append(string value: String) {
        if case .binary(var v) = data {
            validity.append(true)
            data = .bool([])
            v.append(value)
            data = .binary(v)
        }
    }

    /// The finished column.
    public func finish() -> Column {
        if case .list = type, let values = elements.first {
            return Column(
                type: type, data: .list(offsets: listOffsets, values: values.finish()),
                validity: hasNull ? validity : nil)
        }
        return Column(type: type, data: data, validity: hasNull ? validity : nil)
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
