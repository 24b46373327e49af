import TesseraColumnar
import TesseraCore

/// One row at a time, for online requests of a few rows, where the vectorized evaluator's
/// per-node arrays cost more than the arithmetic. It covers the operators whose rules are
/// simple to state exactly (arithmetic, comparisons, logic, CASE, numeric casts, interval
/// and date functions) and mirrors `Evaluator` rule for rule; expressions with anything
/// else (string functions, string casts, other calls) are evaluated by vectors only.
/// `ExpressionOracleTests` checks both paths give the same values on every random
/// expression the row path covers.
extension CompiledExpression {
    /// Whether `value(row:)` can evaluate this expression.
    public var evaluatesRowByRow: Bool { RowEvaluator.covers(root) }

    /// The expression over one row of inputs (one value per entry of `columns`, of its type
    /// or null), as `evaluate` would give it for that row.
    /// - Precondition: `evaluatesRowByRow`.
    public func value(row inputs: [ScalarValue]) -> ScalarValue {
        inputs.withUnsafeBufferPointer { value(row: $0) }
    }

    /// The same over `inputs[0..<columns.count]` of a buffer the caller reuses.
    public func value(row inputs: UnsafeBufferPointer<ScalarValue>) -> ScalarValue {
        RowEvaluator.output(RowEvaluator(inputs: inputs).run(root), type: type)
    }
}

struct RowEvaluator {
    /// A value while evaluating: one payload kind per `Kind`, as `Vector` holds them.
    enum Value {
        case null
        case bool(Bool)
        case integer(Int64)
        case float(Double)
        case string([UInt8])

        var isNull: Bool {
            if case .null = self { return true }
            return false
        }

        /// As `Vector.integers` reads a payload.
        var integer: Int64 {
            switch self {
            case .integer(let v): v
            case .bool(let v): v ? 1 : 0
            case .float(let v): Int64(exactly: v.rounded(.towardZero)) ?? 0
            default: 0
            }
        }

        /// As `Vector.floats` reads a payload.
        var float: Double {
            switch self {
            case .float(let v): v
            case .integer(let v): Double(v)
            case .bool(let v): v ? 1 : 0
            default: 0
            }
        }

        var bool: Bool {
            if case .bool(let v) = self { return v }
            return false
        }
    }

    /// The row's inputs, read where they are (valid for one `value(row:)` call).
    let inputs: UnsafeBufferPointer<ScalarValue>

    static func value(_ scalar: ScalarValue) -> Value {
        switch scalar {
        case .bool(let v): .bool(v)
        case .int32(let v): .integer(Int64(v))
        case .int64(let v): .integer(v)
        case .float32(let v): .float(Double(v))
        case .float64(let v): .float(v)
        case .timestamp(let t): .integer(t.microseconds)
        case .string(let s): .string(Array(s.utf8))
        default: .null
        }
    }

    /// The result as `Evaluator.column` then `Column.value(at:)` would give it.
    static func output(_ v: Value, type: ValueType) -> ScalarValue {
        if v.isNull { return .null }
        switch type {
        case .bool: return .bool(v.bool)
        case .int32: return .int32(Int32(truncatingIfNeeded: v.integer))
        case .int64: return .int64(v.integer)
        case .timestamp: return .timestamp(Timestamp(microseconds: v.integer))
        case .float32: return .float32(Float(v.float))
        case .float64: return .float64(v.float)
        case .string:
            if case .string(let bytes) = v { return .string(String(decoding: bytes, as: UTF8.self)) }
            return .string("")
        case .bytes, .list: return .null
        }
    }

    /// Casts of constants (`TIMESTAMP '2026-01-01 00:00:00'`, `'3'::int`) computed once, by the
    /// vector evaluator's own cast, into constants; everything else as it is.
    static func fold(_ node: Node) -> Node {
        switch node {
        case .cast(.constant(let c, let from), let to) where from != TypeChecker.nullType:
            if case .null = c { return node }
            let v = Evaluator(rows: 1, inputs: []).run(node)
            guard v.valid.first == true else { return .constant(.null, to) }
            switch v.payload {
            case .bool(let x): return .constant(.bool(x[0]), to)
            case .integer(let x): return .constant(.integer(x[0]), to)
            case .float(let x): return .constant(.float(x[0]), to)
            case .string(let x): return .constant(.string(String(decoding: x.bytes(at: 0), as: UTF8.self)), to)
            case .list: return node
            }
        case .negate(let a, let t): return .negate(fold(a), t)
        case .arithmetic(let op, let a, let b, let t): return .arithmetic(op, fold(a), fold(b), t)
        case .compare(let op, let a, let b): return .compare(op, fold(a), fold(b))
        case .and(let a, let b): return .and(fold(a), fold(b))
        case .or(let a, let b): return .or(fold(a), fold(b))
        case .not(let a): return .not(fold(a))
        case .isNull(let a, let negated): return .isNull(fold(a), negated: negated)
        case .concat(let a, let b): return .concat(fold(a), fold(b))
        case .caseWhen(let branches, let otherwise, let t):
            return .caseWhen(branches.map { (fold($0.0), fold($0.1)) }, otherwise: otherwise.map(fold), t)
        case .cast(let a, let t): return .cast(fold(a), t)
        case .call(let f, let arguments, let t): return .call(f, arguments.map(fold), t)
        case .shift(let a, let months, let micros): return .shift(fold(a), months: months, micros: micros)
        case .dateTrunc(let unit, let a): return .dateTrunc(unit, fold(a))
        case .dateDiff(let unit, let a, let b): return .dateDiff(unit, fold(a), fold(b))
        case .constant, .column: return node
        }
    }

    static func covers(_ node: Node) -> Bool {
        switch node {
        case .constant: return true
        case .column(_, let type): return Kind(type) != .null
        case .negate(let a, _), .not(let a), .isNull(let a, _), .shift(let a, _, _), .dateTrunc(_, let a):
            return covers(a)
        case .arithmetic(_, let a, let b, _), .compare(_, let a, let b), .and(let a, let b), .or(let a, let b),
            .concat(let a, let b), .dateDiff(_, let a, let b):
            return covers(a) && covers(b)
        case .caseWhen(let branches, let otherwise, let type):
            return Kind(type) != .null && branches.allSatisfy { covers($0.0) && covers($0.1) }
                && (otherwise.map(covers) ?? true) && branches.allSatisfy { castCovered($0.1.type, type) }
                && (otherwise.map { castCovered($0.type, type) } ?? true)
        case .cast(let a, let type): return covers(a) && castCovered(a.type, type)
        case .call: return false
        }
    }

    /// The casts `cast` mirrors: between numbers and bools, and a type to itself.
    static func castCovered(_ from: ValueType, _ to: ValueType) -> Bool {
        if from == to || from == TypeChecker.nullType { return true }
        let numeric: Set<Kind> = [.bool, .integer, .float]
        return numeric.contains(Kind(from)) && numeric.contains(Kind(to))
    }

    func run(_ node: Node) -> Value {
        switch node {
        case .constant(let c, _):
            switch c {
            case .null: return .null
            case .bool(let v): return .bool(v)
            case .integer(let v): return .integer(v)
            case .float(let v): return .float(v)
            case .string(let v): return .string(Array(v.utf8))
            }
        case .column(let index, _): return RowEvaluator.value(inputs[index])
        case .negate(let inner, let type):
            let v = run(inner)
            if v.isNull { return .null }
            if Kind(type) == .float { return .float(-v.float) }
            let (r, overflow) = Int64(0).subtractingReportingOverflow(v.integer)
            return overflow ? .null : .integer(r)
        case .arithmetic(let op, let l, let r, let type):
            let (a, b) = (run(l), run(r))
            if a.isNull || b.isNull { return .null }
            if Kind(type) == .float {
                let (x, y) = (a.float, b.float)
                switch op {
                case .add: return .float(x + y)
                case .subtract: return .float(x - y)
                case .multiply: return .float(x * y)
                case .divide: return .float(x / y)
                default: return .float(x.truncatingRemainder(dividingBy: y))
                }
            }
            let (x, y) = (a.integer, b.integer)
            let result: (partialValue: Int64, overflow: Bool)
            switch op {
            case .add: result = x.addingReportingOverflow(y)
            case .subtract: result = x.subtractingReportingOverflow(y)
            case .multiply: result = x.multipliedReportingOverflow(by: y)
            case .integerDivide: result = y == 0 ? (0, true) : x.dividedReportingOverflow(by: y)
            default: result = y == 0 ? (0, true) : x.remainderReportingOverflow(dividingBy: y)
            }
            return result.overflow ? .null : .integer(result.partialValue)
        case .compare(let op, let l, let r):
            let (a, b) = (run(l), run(r))
            if a.isNull || b.isNull { return .null }
            let kinds = (Kind(l.type), Kind(r.type))
            let order: Int
            if kinds.0 == .float || kinds.1 == .float {
                order = Evaluator.order(a.float, b.float)
            } else if kinds.0 == .string || kinds.1 == .string {
                guard case .string(let p) = a, case .string(let q) = b else { return .null }
                order = p == q ? 0 : (p.lexicographicallyPrecedes(q) ? -1 : 1)
            } else {
                let (x, y) = (a.integer, b.integer)
                order = x < y ? -1 : (x > y ? 1 : 0)
            }
            switch op {
            case .equal: return .bool(order == 0)
            case .notEqual: return .bool(order != 0)
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .and(let l, let r):
            let (a, b) = (run(l), run(r))
            // false wins over null; null AND true is null.
            if (!a.isNull && !a.bool) || (!b.isNull && !b.bool) { return .bool(false) }
            return a.isNull || b.isNull ? .null : .bool(true)
        case .or(let l, let r):
            let (a, b) = (run(l), run(r))
            if (!a.isNull && a.bool) || (!b.isNull && b.bool) { return .bool(true) }
            return a.isNull || b.isNull ? .null : .bool(false)
        case .not(let inner):
            let v = run(inner)
            return v.isNull ? .null : .bool(!v.bool)
        case .isNull(let inner, let negated):
            return .bool(run(inner).isNull != negated)
        case .concat(let l, let r):
            let (a, b) = (run(l), run(r))
            guard case .string(let x) = a, case .string(let y) = b else { return .null }
            return .string(x + y)
        case .caseWhen(let branches, let otherwise, let type):
            for (condition, value) in branches {
                let c = run(condition)
                if !c.isNull && c.bool { return cast(run(value), from: value.type, to: type) }
            }
            guard let otherwise else { return .null }
            return cast(run(otherwise), from: otherwise.type, to: type)
        case .cast(let inner, let type): return cast(run(inner), from: inner.type, to: type)
        case .shift(let inner, let months, let micros):
            let v = run(inner)
            if v.isNull { return .null }
            return Dates.shift(v.integer, months: months, micros: micros).map { .integer($0) } ?? .null
        case .dateTrunc(let unit, let inner):
            let v = run(inner)
            return v.isNull ? .null : .integer(Dates.trunc(unit, v.integer))
        case .dateDiff(let unit, let l, let r):
            let (a, b) = (run(l), run(r))
            if a.isNull || b.isNull { return .null }
            return Dates.diff(unit, a.integer, b.integer).map { .integer($0) } ?? .null
        case .call: return .null  // not covered: `covers` sends these to the vectors
        }
    }

    /// `Casts.cast` for the kinds `castCovered` accepts.
    func cast(_ v: Value, from: ValueType, to: ValueType) -> Value {
        if from == to || v.isNull { return v }
        if from == TypeChecker.nullType { return .null }
        switch (Kind(from), Kind(to)) {
        case (.integer, .integer), (.bool, .integer):
            let x = v.integer
            return to == .int32 && Int32(exactly: x) == nil ? .null : .integer(x)
        case (.integer, .float), (.bool, .float), (.float, .float):
            return .float(to == .float32 ? Double(Float(v.float)) : v.float)
        case (.float, .integer):
            let r = v.float.rounded(.toNearestOrEven)
            guard let exact = Int64(exactly: r), to != .int32 || Int32(exactly: exact) != nil else { return .null }
            return .integer(exact)
        case (.integer, .bool): return .bool(v.integer != 0)
        case (.float, .bool): return .bool(v.float != 0)
        default: return v
        }
    }
}
