import Foundation
import TesseraColumnar
import TesseraCore

/// Converts request values (from JSON) to declared types, the way Feast's clients send them.
public enum ValueCoercion {
    /// `value` as `type`, or `nil` when it does not fit. Null stays null.
    ///
    /// Integers fit integer types when in range and any float type; floats fit float types
    /// only; strings fit `bytes` as base64 (Feast's JSON for bytes) and `timestamp` as ISO
    /// 8601; integers fit `timestamp` as Unix seconds. Timestamps must lie in years 1–9999
    /// (`Timestamp.isSupported`): what ISO 8601 and Feast's clients can represent.
    public static func convert(_ value: ScalarValue, to type: ValueType) -> ScalarValue? {
        if case .null = value { return .null }
        switch type {
        case .bool:
            if case .bool = value { return value }
            return nil
        case .int32:
            guard let int = integer(value), let narrow = Int32(exactly: int) else { return nil }
            return .int32(narrow)
        case .int64:
            return integer(value).map(ScalarValue.int64)
        case .float32:
            return value.asDouble.map { .float32(Float($0)) }
        case .float64:
            return value.asDouble.map(ScalarValue.float64)
        case .string:
            if case .string = value { return value }
            return nil
        case .bytes:
            switch value {
            case .bytes: return value
            case .string(let text): return Data(base64Encoded: text).map { .bytes(Array($0)) }
            default: return nil
            }
        case .timestamp:
            return timestamp(value).flatMap { $0.isSupported ? .timestamp($0) : nil }
        case .list(let element):
            guard case .list(let items) = value else { return nil }
            var out: [ScalarValue] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard let converted = convert(item, to: element) else { return nil }
                out.append(converted)
            }
            return .list(out)
        }
    }

    /// A timestamp from a request value, before the range check.
    private static func timestamp(_ value: ScalarValue) -> Timestamp? {
        switch value {
        case .timestamp(let time): return time
        case .string(let text): return Timestamp(parsing: text)
        case .int64(let seconds):
            let (micros, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
            return overflow ? nil : Timestamp(microseconds: micros)
        case .int32(let seconds): return Timestamp(seconds: Int64(seconds))
        default: return nil
        }
    }

    private static func integer(_ value: ScalarValue) -> Int64? {
        switch value {
        case .int64(let v): v
        case .int32(let v): Int64(v)
        default: nil
        }
    }

    /// What `value` is, and why it does not fit `type` when the kind alone does not say:
    /// `an integer (-9223372036854), outside years 1–9999`.
    public static func explain(_ value: ScalarValue, as type: ValueType) -> String {
        let what = describe(value)
        if type == .timestamp {
            switch value {
            case .int64, .int32:
                if let time = timestamp(value), !time.isSupported { return what + ", outside years 1–9999" }
                if timestamp(value) == nil { return what + ", too large for a timestamp in seconds" }
            case .string:
                if let time = timestamp(value) {
                    if !time.isSupported { return what + ", outside years 1–9999" }
                } else {
                    return what + ", not an ISO 8601 time"
                }
            default: break
            }
        }
        return what
    }

    /// A short description of a value's kind for messages: `a string ("abc")`, `a number (1.5)`.
    public static func describe(_ value: ScalarValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let v): return "a boolean (\(v))"
        case .int32(let v): return "an integer (\(v))"
        case .int64(let v): return "an integer (\(v))"
        case .float32(let v): return "a number (\(v))"
        case .float64(let v): return "a number (\(v))"
        case .string(let v): return "a string (\"\(Echo.clip(v, limit: 40))\")"
        case .bytes: return "bytes"
        case .timestamp(let v): return "a timestamp (\(v))"
        case .list: return "a list"
        }
    }
}
