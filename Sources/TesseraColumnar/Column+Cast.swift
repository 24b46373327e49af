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
