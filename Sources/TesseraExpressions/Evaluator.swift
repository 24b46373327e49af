import Foundation
import TesseraColumnar
import TesseraCore

/// Values of one node over every row: a typed array and a validity array (no per-value
/// dispatch: each operator switches once, then loops).
struct Vector {
    enum Payload {
        case bool([Bool])
        case integer([Int64])
        case float([Double])
        case string(BinaryData)
    }

    var payload: Payload
    var valid: [Bool]

    var count: Int { valid.count }

    var integers: [Int64] {
        switch payload {
        case .integer(let v): v
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .float(let v): v.map { Int64($0) }
        case .string: Array(repeating: 0, count: count)
        }
    }

    var floats: [Double] {
        switch payload {
        case .float(let v): v
        case .integer(let v): v.map(Double.init)
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .string: Array(repeating: 0, count: count)
        }
    }

    var bools: [Bool] {
        if case .bool(let v) = payload { return v }
        return Array(repeating: false, count: count)
    }

    var strings: BinaryData {
        if case .string(let v) = payload { return v }
        var empty = BinaryData()
        for _ in 0..<count { empty.appendEmpty() }
        return empty
    }
}

extension CompiledExpression {
    /// The expression over `inputs` (one column per entry of `columns`, equal lengths): a
    /// column of `type`. Never traps: integer overflow, integer division by zero and values
    /// outside a cast's range are null; floats follow IEEE (NaN, ±inf).
    /// - Precondition: each input has `rows` values.
    public func evaluate(_ inputs: [Column], rows: Int) -> Column {
        let vectors = inputs.map(Evaluator.vector)
        let result = Evaluator(rows: rows, inputs: vectors).run(root)
        return Evaluator.column(result, type: type)
    }
}

struct Evaluator {
    let rows: Int
    let inputs: [Vector]

    static func vector(_ column: Column) -> Vector {
        let valid = (0..<column.count).map { column.isValid($0) }
        switch column.data {
        case .bool(let v): return Vector(payload: .bool(v), valid: valid)
        case .int32(let v): return Vector(payload: .integer(v.map(Int64.init)), valid: valid)
        case .int64(let v): return Vector(payload: .integer(v), valid: valid)
        case .float32(let v): return Vector(payload: .float(v.map(Double.init)), valid: valid)
        case .float64(let v): return Vector(payload: .float(v), valid: valid)
        case .binary(let v): return Vector(payload: .string(v), valid: valid)
        case .list:
            return Vector(payload: .integer(Array(repeating: 0, count: column.count)), valid: valid.map { _ in false })
        }
    }

    static func column(_ v: Vector, type: ValueType) -> Column {
        let validity = Bitmap(v.valid)
        switch type {
        case .bool: return Column(type: .bool, data: .bool(v.bools), validity: validity)
        case .int32:
            return Column(
                type: .int32, data: .int32(v.integers.map { Int32(truncatingIfNeeded: $0) }), validity: validity)
        case .int64: return Column(type: .int64, data: .int64(v.integers), validity: validity)
        case .timestamp: return Column(type: .timestamp, data: .int64(v.integers), validity: validity)
        case .float32: return Column(type: .float32, data: .float32(v.floats.map { Float($0) }), validity: validity)
        case .float64: return Column(type: .float64, data: .float64(v.floats), validity: validity)
        case .string, .bytes: return Column(type: type, data: .binary(v.strings), validity: validity)
        case .list: return Column(nulls: type, count: v.count)
        }
    }

    func run(_ node: Node) -> Vector {
        switch node {
        case .constant(let c, let type): return constant(c, type)
        case .column(let index, _): return inputs[index]
        case .negate(let inner, let type):
            let v = run(inner)
            if Kind(type) == .float { return Vector(payload: .float(v.floats.map { -$0 }), valid: v.valid) }
            var valid = v.valid
            let values = v.integers.enumerated().map { i, x -> Int64 in
                let (r, overflow) = Int64(0).subtractingReportingOverflow(x)
                if overflow { valid[i] = false }
                return overflow ? 0 : r
            }
            return Vector(payload: .integer(values), valid: valid)
        case .arithmetic(let op, let l, let r, let type): return arithmetic(op, run(l), run(r), type)
        case .compare(let op, let l, let r): return compare(op, l, r)
        case .and(let l, let r):
            let (a, b) = (run(l), run(r))
            let (x, y) = (a.bools, b.bools)
            var out = [Bool](repeating: false, count: rows)
            var valid = [Bool](repeating: false, count: rows)
            for i in 0..<rows {
                // false wins over null; null AND true is null.
                let falseA = a.valid[i] && !x[i]
                let falseB = b.valid[i] && !y[i]
                if falseA || falseB {
                    valid[i] = true
                } else if a.valid[i] && b.valid[i] {
                    out[i] = true
                    valid[i] = true
                }
            }
            return Vector(payload: .bool(out), valid: valid)
        case .or(let l, let r):
            let (a, b) = (run(l), run(r))
            let (x, y) = (a.bools, b.bools)
            var out = [Bool](repeating: false, count: rows)
            var valid = [Bool](repeating: false, count: rows)
            for i in 0..<rows {
                let trueA = a.valid[i] && x[i]
                let trueB = b.valid[i] && y[i]
                if trueA || trueB {
                    out[i] = true
                    valid[i] = true
                } else if a.valid[i] && b.valid[i] {
                    valid[i] = true
                }
            }
            return Vector(payload: .bool(out), valid: valid)
        case .not(let inner):
            let v = run(inner)
            return Vector(payload: .bool(v.bools.map { !$0 }), valid: v.valid)
        case .isNull(let inner, let negated):
            let v = run(inner)
            return Vector(payload: .bool(v.valid.map { $0 == negated }), valid: Array(repeating: true, count: rows))
        case .concat(let l, let r):
            let (a, b) = (run(l), run(r))
            let (x, y) = (a.strings, b.strings)
            var out = BinaryData()
            var valid = [Bool](repeating: false, count: rows)
            for i in 0..<rows {
                guard a.valid[i] && b.valid[i] else {
                    out.appendEmpty()
                    continue
                }
                out.bytes.append(contentsOf: x.bytes(at: i))
                out.bytes.append(contentsOf: y.bytes(at: i))
                out.offsets.append(out.bytes.count)
                valid[i] = true
            }
            return Vector(payload: .string(out), valid: valid)
        case .caseWhen(let branches, let otherwise, let type):
            return caseWhen(branches, otherwise, type)
        case .cast(let inner, let type): return Casts.cast(run(inner), from: inner.type, to: type)
        case .call(let function, let arguments, let type):
            return Functions.call(function, arguments.map { convert(run($0), from: $0.type, to: type, function) }, type)
        }
    }

    /// Arguments of functions whose result shares their type (coalesce, least, …) are
    /// brought to it first; others are passed as they are.
    private func convert(_ v: Vector, from: ValueType, to: ValueType, _ function: Function) -> Vector {
        switch function {
        // nullif compares in the common type (and gives it), as the others pick in it.
        case .coalesce, .least, .greatest, .nullif:
            return Kind(from) == Kind(to) ? v : Casts.cast(v, from: from, to: to)
        default: return v
        }
    }

    func constant(_ c: Constant, _ type: ValueType) -> Vector {
        let valid = [Bool](repeating: true, count: rows)
        switch c {
        case .null: return Vector(payload: .integer(Array(repeating: 0, count: rows)), valid: valid.map { _ in false })
        case .bool(let v): return Vector(payload: .bool(Array(repeating: v, count: rows)), valid: valid)
        case .integer(let v): return Vector(payload: .integer(Array(repeating: v, count: rows)), valid: valid)
        case .float(let v): return Vector(payload: .float(Array(repeating: v, count: rows)), valid: valid)
        case .string(let v):
            var data = BinaryData()
            for _ in 0..<rows { data.append(v) }
            return Vector(payload: .string(data), valid: valid)
        }
    }

    func arithmetic(_ op: BinaryOperator, _ a: Vector, _ b: Vector, _ type: ValueType) -> Vector {
        var valid = zip(a.valid, b.valid).map { $0 && $1 }
        if Kind(type) == .float {
            let (x, y) = (a.floats, b.floats)
            var out = [Double](repeating: 0, count: rows)
            for i in 0..<rows where valid[i] {
                switch op {
                case .add: out[i] = x[i] + y[i]
                case .subtract: out[i] = x[i] - y[i]
                case .multiply: out[i] = x[i] * y[i]
                // IEEE: x / 0 is ±inf (0 / 0 NaN), as DuckDB; fmod by 0 is NaN.
                case .divide: out[i] = x[i] / y[i]
                case .modulo: out[i] = x[i].truncatingRemainder(dividingBy: y[i])
                default: valid[i] = false
                }
            }
            return Vector(payload: .float(out), valid: valid)
        }
        let (x, y) = (a.integers, b.integers)
        var out = [Int64](repeating: 0, count: rows)
        for i in 0..<rows where valid[i] {
            let (r, overflow): (Int64, Bool)
            switch op {
            case .add: (r, overflow) = x[i].addingReportingOverflow(y[i])
            case .subtract: (r, overflow) = x[i].subtractingReportingOverflow(y[i])
            case .multiply: (r, overflow) = x[i].multipliedReportingOverflow(by: y[i])
            case .integerDivide:
                (r, overflow) = y[i] == 0 ? (0, true) : x[i].dividedReportingOverflow(by: y[i])
            case .modulo:
                (r, overflow) = y[i] == 0 ? (0, true) : x[i].remainderReportingOverflow(dividingBy: y[i])
            default: (r, overflow) = (0, true)
            }
            if overflow { valid[i] = false } else { out[i] = r }
        }
        return Vector(payload: .integer(out), valid: valid)
    }

    /// Floats compare as SQL engines order them: NaN equals NaN and is above every number;
    /// -0 equals 0.
    @inline(__always)
    static func order(_ x: Double, _ y: Double) -> Int {
        if x.isNaN || y.isNaN { return x.isNaN ? (y.isNaN ? 0 : 1) : -1 }
        return x < y ? -1 : (x > y ? 1 : 0)
    }

    func compare(_ op: BinaryOperator, _ l: Node, _ r: Node) -> Vector {
        let (a, b) = (run(l), run(r))
        let valid = zip(a.valid, b.valid).map { $0 && $1 }
        var orders = [Int](repeating: 0, count: rows)
        let kinds = (Kind(l.type), Kind(r.type))
        if kinds.0 == .float || kinds.1 == .float {
            let (x, y) = (a.floats, b.floats)
            for i in 0..<rows where valid[i] { orders[i] = Evaluator.order(x[i], y[i]) }
        } else if kinds.0 == .string || kinds.1 == .string {
            let (x, y) = (a.strings, b.strings)
            for i in 0..<rows where valid[i] {
                let (p, q) = (x.bytes(at: i), y.bytes(at: i))
                orders[i] = p == q ? 0 : (p.lexicographicallyPrecedes(q) ? -1 : 1)
            }
        } else {
            let (x, y) = (a.integers, b.integers)
            for i in 0..<rows where valid[i] { orders[i] = x[i] < y[i] ? -1 : (x[i] > y[i] ? 1 : 0) }
        }
        let out: [Bool]
        switch op {
        case .equal: out = orders.map { $0 == 0 }
        case .notEqual: out = orders.map { $0 != 0 }
        case .less: out = orders.map { $0 < 0 }
        case .lessOrEqual: out = orders.map { $0 <= 0 }
        case .greater: out = orders.map { $0 > 0 }
        default: out = orders.map { $0 >= 0 }
        }
        return Vector(payload: .bool(out), valid: valid)
    }

    func caseWhen(_ branches: [(Node, Node)], _ otherwise: Node?, _ type: ValueType) -> Vector {
        // Rows still undecided take the first branch whose condition is true.
        var taken = [Int](repeating: -1, count: rows)
        for (b, branch) in branches.enumerated() {
            let condition = run(branch.0)
            let truth = condition.bools
            for i in 0..<rows where taken[i] < 0 && condition.valid[i] && truth[i] { taken[i] = b }
        }
        var values = branches.map { Casts.cast(run($0.1), from: $0.1.type, to: type) }
        values.append(
            otherwise.map { Casts.cast(run($0), from: $0.type, to: type) }
                ?? constant(.null, type))
        let fallback = values.count - 1
        let pick = taken.map { $0 < 0 ? fallback : $0 }
        let valid = (0..<rows).map { values[pick[$0]].valid[$0] }
        switch Kind(type) {
        case .float:
            let f = values.map(\.floats)
            return Vector(payload: .float((0..<rows).map { f[pick[$0]][$0] }), valid: valid)
        case .bool:
            let f = values.map(\.bools)
            return Vector(payload: .bool((0..<rows).map { f[pick[$0]][$0] }), valid: valid)
        case .string:
            let f = values.map(\.strings)
            var out = BinaryData()
            for i in 0..<rows { out.append(bytes: f[pick[i]].bytes(at: i)) }
            return Vector(payload: .string(out), valid: valid)
        default:
            let f = values.map(\.integers)
            return Vector(payload: .integer((0..<rows).map { f[pick[$0]][$0] }), valid: valid)
        }
    }
}
