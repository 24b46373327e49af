import TesseraCore

/// A typed column of values with optional nulls: the unit every kernel, reader and writer works on.
public struct Column: Sendable, Equatable {
    /// The logical type.
    public let type: ValueType
    /// The values, in the layout `type` uses (see `ColumnData`).
    public var data: ColumnData
    /// Which slots hold a value; `nil` means none is null.
    public var validity: Bitmap?

    /// Wraps values already laid out for `type`.
    ///
    /// - Precondition: `data`'s layout matches `type` and `validity` (if any) has one bit per value.
    ///   Both are established by the code that builds columns, never by user input.
    public init(type: ValueType, data: ColumnData, validity: Bitmap? = nil) {
        precondition(Column.layoutMatches(type, data), "column data layout does not match type \(type)")
        precondition(validity == nil || validity?.count == data.count, "validity length does not match column")
        self.type = type
        self.data = data
        self.validity = (validity?.allSet ?? true) ? nil : validity
    }

    /// An empty column of `type`.
    public init(empty type: ValueType) {
        self.type = type
        self.data = ColumnData.empty(for: type)
        self.validity = nil
    }

    /// A column of `count` nulls.
    public init(nulls type: ValueType, count: Int) {
        var builder = ColumnBuilder(type: type, capacity: count)
        for _ in 0..<count { builder.appendNull() }
        self = builder.finish()
    }

    public var count: Int { data.count }

    public var nullCount: Int {
        guard let validity else { return 0 }
        return validity.count - validity.setCount
    }

    @inlinable
    public func isValid(_ index: Int) -> Bool {
        guard let validity else { return true }
        return validity[index]
    }

    /// The value at `index`, as a `ScalarValue` (slow path).
    public func value(at index: Int) -> ScalarValue {
        guard isValid(index) else { return .null }
        switch data {
        case .bool(let v): return .bool(v[index])
        case .int32(let v): return .int32(v[index])
        case .int64(let v):
            return type == .timestamp ? .timestamp(Timestamp(microseconds: v[index])) : .int64(v[index])
        case .float32(let v): return .float32(v[index])
        case .float64(let v): return .float64(v[index])
        case .binary(let v):
            return type == .string ? .string(v.string(at: index)) : .bytes(Array(v.bytes(at: index)))
        case .list(let offsets, let values):
            return .list((offsets[index]..<offsets[index + 1]).map { values.value(at: $0) })
        }
    }

    /// All values, as `ScalarValue`s (slow path, for tests and display).
    public var values: [ScalarValue] { (0..<count).map { value(at: $0) } }

    static func layoutMatches(_ type: ValueType, _ data: ColumnData) -> Bool {
        switch (type, data) {
        case (.bool, .bool), (.int32, .int32), (.int64, .int64), (.timestamp, .int64), (.float32, .float32),
            (.float64, .float64), (.string, .binary), (.bytes, .binary):
            return true
        case (.list(let element), .list(_, let values)):
            return values.type == element
        default:
            return false
        }
    }
}

extension Column {
    public static func bool(_ values: [Bool], validity: Bitmap? = nil) -> Column {
        Column(type: .bool, data: .bool(values), validity: validity)
    }
    public static func int32(_ values: [Int32], validity: Bitmap? = nil) -> Column {
        Column(type: .int32, data: .int32(values), validity: validity)
    }
    public static func int64(_ values: [Int64], validity: Bitmap? = nil) -> Column {
        Column(type: .int64, data: .int64(values), validity: validity)
    }
    public static func timestamp(_ micros: [Int64], validity: Bitmap? = nil) -> Column {
        Column(type: .timestamp, data: .int64(micros), validity: validity)
    }
    public static func float32(_ values: [Float], validity: Bitmap? = nil) -> Column {
        Column(type: .float32, data: .float32(values), validity: validity)
    }
    public static func float64(_ values: [Double], validity: Bitmap? = nil) -> Column {
        Column(type: .float64, data: .float64(values), validity: validity)
    }
    public static func string(_ values: [String], validity: Bitmap? = nil) -> Column {
        Column(type: .string, data: .binary(BinaryData(strings: values)), validity: validity)
    }

    /// Builds a column from scalar values; `nil` when a value does not fit `type`.
    public init?(type: ValueType, scalars: [ScalarValue]) {
        var builder = ColumnBuilder(type: type, capacity: scalars.count)
        for value in scalars {
            guard builder.append(value) else { return nil }
        }
        self = builder.finish()
    }

    /// The int64 (or timestamp) values, or `nil` for other layouts.
    public var int64Values: [Int64]? {
        if case .int64(let v) = data { return v }
        return nil
    }
}
