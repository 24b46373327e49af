import TesseraCore

extension Column {
    /// Whether `cast(to:)` can turn a column of `source` into `target` (values permitting).
    public static func canCast(from source: ValueType, to target: ValueType) -> Bool {
        if source == target { return true }
        switch (source, target) {
        case (.int32, .int64), (.int64, .int32), (.int64, .timestamp), (.timestamp, .int64), (.float32, .float64),
            (.float64, .float32), (.int32, .float64), (.int64, .float64), (.int32, .float32):
            return true
        default:
            return false
        }
    }

    /// The column converted to `target`, for joining columns whose types differ only in width.
    ///
    /// Supported: between int32 and int64 (narrowing only when every value fits), int64 and
    /// timestamp (microseconds), float32 and float64, and integers to floats. Returns `nil` for
    /// anything else or when a value does not fit, so callers can report which column is wrong.
    public func cast(to target: ValueType) -> Column? {
        if type == target { return self }
        switch (data, target) {
        case (.int32(let v), .int64): return Column(type: .int64, data: .int64(v.map { Int64($0) }), validity: validity)
        case (.int64(let v), .int32):
            var out = [Int32]()
            out.reserveCapacity(v.count)
            for (i, x) in v.enumerated() {
                guard let narrow = Int32(exactly: x) else {
                    if isValid(i) { return nil }
                    out.append(0)
                    continue
                }
                out.append(narrow)
            }
            return Column(type: .int32, data: .int32(out), validity: validity)
        case (.int64(let v), .timestamp) where type == .int64:
            return Column(type: .timestamp, data: .int64(v), validity: validity)
        case (.int64(let v), .int64) where type == .timestamp:
            return Column(type: .int64, data: .int64(v), validity: validity)
        case (.float32(let v), .float64):
            return Column(type: .float64, data: .float64(v.map { Double($0) }), validity: validity)
        case (.float64(let v), .float32):
            return Column(type: .float32, data: .float32(v.map { Float($0) }), validity: validity)
        case (.int32(let v), .float64):
            return Column(type: .float64, data: .float64(v.map { Double($0) }), validity: validity)
        case (.int64(let v), .float64) where type == .int64:
            return Column(type: .float64, data: .float64(v.map { Double($0) }), validity: validity)
        case (.int32(let v), .float32):
            return Column(type: .float32, data: .float32(v.map { Float($0) }), validity: validity)
        default: return nil
        }
    }
}

extension Column {
    /// Whether a column of `source` can be joined on a key declared as `key`: integer keys of
    /// either width match each other, anything else must be of the key's own type.
    public static func canJoin(_ source: ValueType, as key: ValueType) -> Bool {
        source.isInteger && key.isInteger || source == key
    }

    /// The column ready to be compared as a join key declared `key`: integers widened to int64
    /// (which cannot fail, so a value that does not fit the declared width simply matches
    /// nothing), other types unchanged; `nil` when the types cannot be joined.
    public func asJoinKey(_ key: ValueType) -> Column? {
        guard Column.canJoin(type, as: key) else { return nil }
        return type == .int32 ? cast(to: .int64) : self
    }
}

extension ValueType {
    /// int32 or int64.
    public var isInteger: Bool { self == .int32 || self == .int64 }

    /// The type join keys of this type are compared as: int64 for any integer.
    public var joinKeyType: ValueType { isInteger ? .int64 : self }
}
