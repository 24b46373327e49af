import TesseraCore

/// A parsed expression of Tessera's SQL expression language (see `docs/expressions.md`):
/// what a definition's `expression:` or `filter:` says, before names and types are checked.
public struct Expression: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        case null
        case bool(Bool)
        case integer(Int64)
        case float(Double)
        case string(String)
        case column(String)
        case negate(Expression)
        case not(Expression)
        case binary(BinaryOperator, Expression, Expression)
        case isNull(Expression, negated: Bool)
        case inList(Expression, [Expression], negated: Bool)
        case between(Expression, Expression, Expression, negated: Bool)
        /// `CASE WHEN c1 THEN v1 … ELSE e END` (a simple `CASE x WHEN a …` is parsed into this form).
        case caseWhen([When], otherwise: Expression?)
        case cast(Expression, ValueType)
        case call(String, [Expression])
        /// `INTERVAL '1 hour 30 minutes'`: calendar months, then microseconds.
        case interval(months: Int64, micros: Int64)
    }

    public struct When: Sendable, Hashable {
        public var condition: Expression
        public var value: Expression
    }

    public var kind: Kind
    /// Where the expression starts in its text (a UTF-8 offset), for errors.
    public var offset: Int

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }
}

public enum BinaryOperator: String, Sendable, Hashable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case integerDivide = "//"
    case modulo = "%"
    case concat = "||"
    case equal = "="
    case notEqual = "<>"
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case and = "AND"
    case or = "OR"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }
}

/// A problem in an expression: what is wrong, where (a UTF-8 offset into the text) and, when
/// there is one, what would fix it.
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var hint: String?

    public init(_ message: String, at offset: Int, hint: String? = nil) {
        self.message = message
        self.offset = offset
        self.hint = hint
    }

    /// The 1-based column of the problem in `text` (in characters).
    public func column(in text: String) -> Int {
        let utf8 = Array(text.utf8)
        let prefix = utf8.prefix(max(0, min(offset, utf8.count)))
        return String(decoding: prefix, as: UTF8.self).count + 1
    }

    public var description: String { hint.map { "\(message)\n    \($0)" } ?? message }
}
