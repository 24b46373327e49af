import Foundation
import TesseraCore

/// An aggregate function of a window aggregation.
public enum AggregateFunction: Hashable, Sendable, Codable, CustomStringConvertible {
    case sum
    case count
    case mean
    case min
    case max
    case first
    case last
    /// The `k` latest values, newest first.
    case lastN(Int)
    /// Sample standard deviation and variance (n − 1).
    case stddev
    case variance
    /// HyperLogLog, precision 14 (standard error 0.81%).
    case approxCountDistinct
    /// A DDSketch-like quantile sketch with 1% relative accuracy; `q` in (0, 1).
    case approxPercentile(Double)

    /// Every function's spelling, for messages and suggestions.
    public static let spellings = [
        "sum", "count", "mean", "min", "max", "first", "last", "last_n(k)", "stddev", "var", "approx_count_distinct",
        "approx_percentile(q)",
    ]

    /// The spelling in definition files: `sum`, `last_n(3)`, `approx_percentile(0.9)`.
    public var description: String {
        switch self {
        case .sum: "sum"
        case .count: "count"
        case .mean: "mean"
        case .min: "min"
        case .max: "max"
        case .first: "first"
        case .last: "last"
        case .lastN(let k): "last_n(\(k))"
        case .stddev: "stddev"
        case .variance: "var"
        case .approxCountDistinct: "approx_count_distinct"
        case .approxPercentile(let q): "approx_percentile(\(AggregateFunction.number(q)))"
        }
    }

    /// The function's part of a default feature name: `sum`, `last_3`, `p90`.
    public var nameComponent: String {
        switch self {
        case .lastN(let k): "last_\(k)"
        case .approxPercentile(let q):
            "p" + AggregateFunction.number(q * 100).replacingOccurrences(of: ".", with: "_")
        default: description
        }
    }

    /// `0.9`, `95`, `99.9`: a number without a trailing `.0`.
    static func number(_ value: Double) -> String {
        let rounded = (value * 1_000_000).rounded() / 1_000_000
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(rounded)
    }

    /// Why a spelling is not a function.
    public struct SpellingError: Error, Sendable {
        public var message: String
    }

    /// Parses `sum`, `last_n(3)`, `approx_percentile(0.9)`, or says why the text is not one.
    public static func parse(_ text: String) -> Result<AggregateFunction, SpellingError> {
        let spelled = text.trimmingSpaces().lowercased()
        func argument(_ name: String) -> String? {
            guard spelled.hasPrefix(name + "("), spelled.hasSuffix(")") else { return nil }
            return String(spelled.dropFirst(name.count + 1).dropLast()).trimmingSpaces()
        }
        switch spelled {
        case "sum": return .success(.sum)
        case "count": return .success(.count)
        case "mean", "avg": return .success(.mean)
        case "min": return .success(.min)
        case "max": return .success(.max)
        case "first": return .success(.first)
        case "last": return .success(.last)
        case "stddev", "stddev_samp": return .success(.stddev)
        case "var", "variance", "var_samp": return .success(.variance)
        case "approx_count_distinct": return .success(.approxCountDistinct)
        default: break
        }
        if let k = argument("last_n") {
            guard let n = Int(k), (1...1000).contains(n) else {
                return .failure(
                    SpellingError(message: "last_n takes a count from 1 to 1000, not '\(Echo.clip(k, limit: 20))'"))
            }
            return .success(.lastN(n))
        }
        if let q = argument("approx_percentile") {
            guard let value = Double(q), value > 0, value < 1 else {
                return .failure(
                    SpellingError(
                        message: "approx_percentile takes a fraction between 0 and 1, not '\(Echo.clip(q, limit: 20))'")
                )
            }
            return .success(.approxPercentile(value))
        }
        if spelled == "last_n" { return .failure(SpellingError(message: "last_n needs a count: last_n(3)")) }
        if spelled == "approx_percentile" {
            return .failure(SpellingError(message: "approx_percentile needs a fraction: approx_percentile(0.9)"))
        }
        return .failure(SpellingError(message: "unknown aggregate function '\(Echo.clip(text, limit: 40))'"))
    }

    /// Whether the function reads a column (all but a bare `count`).
    public var needsInput: Bool { self != .count }

    /// Why the function cannot take a column of `type`, or `nil` when it can.
    public func rejects(_ type: ValueType) -> String? {
        switch self {
        case .sum, .mean, .stddev, .variance, .approxPercentile:
            return type.isNumeric ? nil : "\(description) needs a numeric column, not \(type.name)"
        case .min, .max:
            switch type {
            case .int32, .int64, .float32, .float64, .timestamp, .string, .bool: return nil
            default: return "\(description) needs an ordered column (numbers, strings, times), not \(type.name)"
            }
        case .count, .first, .last, .lastN, .approxCountDistinct:
            return type.isList ? "\(description) takes scalar columns, not \(type.name)" : nil
        }
    }

    /// The feature's type for an input column of `input` (`nil` for a bare `count`).
    public func resultType(input: ValueType?) -> ValueType {
        switch self {
        case .count, .approxCountDistinct: return .int64
        case .mean, .stddev, .variance, .approxPercentile: return .float64
        case .sum:
            switch input {
            case .int32?, .int64?: return .int64
            default: return .float64
            }
        case .min, .max, .first, .last: return input ?? .float64
        case .lastN: return .list(input ?? .float64)
        }
    }
}

/// A window: the time before a query (`t − length <= event < t`), or all history.
public enum AggregationWindow: Hashable, Sendable, Codable, CustomStringConvertible {
    case length(TimeSpan)
    case lifetime

    public var description: String {
        switch self {
        case .length(let span): span.formatted
        case .lifetime: "lifetime"
        }
    }
}

/// How an aggregated feature is computed: a function of a source column over a window
/// ending before the query time. See docs/semantics.md.
public struct Aggregation: Hashable, Sendable, Codable {
    /// The source column (as views name it: after field mapping); `nil` for a bare `count`.
    public var column: String?
    /// The column's type: declared, or read from the source when the repository is opened
    /// (`nil` until then).
    public var inputType: ValueType?
    public var function: AggregateFunction
    public var window: AggregationWindow
    /// For an input computed from each source row: the expression. `column` is then the
    /// name of the computed column (`Aggregation.column(for:)`), never a source column.
    public var expression: String?

    public init(
        column: String?, inputType: ValueType? = nil, function: AggregateFunction, window: AggregationWindow,
        expression: String? = nil
    ) {
        self.column = column
        self.inputType = inputType
        self.function = function
        self.window = window
        self.expression = expression
    }

    /// `sum(fare) over 1h`, for plans and listings.
    public var spelling: String {
        "\(function)(\(expression ?? column ?? "*")) over \(window)"
    }

    /// The name of the column an input expression computes: the same for the same text, and
    /// not a name a source column can clash with by accident.
    public static func column(for expression: String) -> String {
        "__expr_" + String(SHA256.hex(expression).prefix(12))
    }
}
