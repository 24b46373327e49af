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
        /// A list column as read: row i's elements are `values[offsets[i]..<offsets[i + 1]]`
        /// (offsets stay absolute when a chunk is sliced, so the values are never copied).
        case list(offsets: [Int], values: Column)
    }

    var payload: Payload
    var valid: [Bool]

    var count: Int { valid.count }

    func slice(_ range: Range<Int>) -> Vector {
        let valid = Array(self.valid[range])
        switch payload {
        case .bool(let v): return Vector(payload: .bool(Array(v[range])), valid: valid)
        case .integer(let v): return Vector(payload: .integer(Array(v[range])), valid: valid)
        case .float(let v): return Vector(payload: .float(Array(v[range])), valid: valid)
        case .string(let v):
            let base = v.offsets[range.lowerBound]
            let offsets = v.offsets[range.lowerBound...range.upperBound].map { $0 - base }
            let bytes = Array(v.bytes[base..<v.offsets[range.upperBound]])
            return Vector(payload: .string(BinaryData(offsets: offsets, bytes: bytes)), valid: valid)
        case .list(let offsets, let values):
            return Vector(
                payload: .list(offsets: Array(offsets[range.lowerBound...range.upperBound]), values: values),
                valid: valid)
        }
    }

    /// The rows of `parts` one after another (all of one payload kind).
    static func concatenate(_ parts: [Vector]) -> Vector {
        guard let first = parts.first else { return Vector(payload: .integer([]), valid: []) }
        let valid = parts.flatMap(\.valid)
        switch first.payload {
        case .bool: return Vector(payload: .bool(parts.flatMap(\.bools)), valid: valid)
        case .integer: return Vector(payload: .integer(parts.flatMap(\.integers)), valid: valid)
        case .float: return Vector(payload: .float(parts.flatMap(\.floats)), valid: valid)
        case .string:
            var out = BinaryData()
            for part in parts {
                let s = part.strings
                for i in 0..<s.count { out.append(bytes: s.bytes(at: i)) }
            }
            return Vector(payload: .string(out), valid: valid)
        case .list: return Vector(payload: .integer(Array(repeating: 0, count: valid.count)), valid: valid)
        }
    }

    var integers: [Int64] {
        switch payload {
        case .integer(let v): v
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .float(let v): v.map { Int64($0) }
        case .string, .list: Array(repeating: 0, count: count)
        }
    }

    var floats: [Double] {
        switch payload {
        case .float(let v): v
        case .integer(let v): Kernels.map(v, rows: v.count) { Double($0) }
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .string, .list: Array(repeating: 0, count: count)
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
        // Chunks of rows small enough that every temporary stays in cache (and memory freed by
        // one chunk serves the next), as vectorized engines do.
        let chunk = 8_192
        guard rows > chunk else {
            return Evaluator.column(Evaluator(rows: rows, inputs: vectors).run(root), type: type)
        }
        var output = ChunkedOutput(type: type, rows: rows)
        for start in stride(from: 0, to: rows, by: chunk) {
            let range = start..<min(rows, start + chunk)
            output.append(Evaluator(rows: range.count, inputs: vectors.map { $0.slice(range) }).run(root))
        }
        return output.finish()
    }
}

/// The result of a chunked evaluation, built as the chunks come: numbers and bools are
/// appended to one preallocated array each (one copy per chunk, no regrowth), validity is
/// packed straight into bitmap words (chunks are whole words long). Other types keep the
/// chunks and concatenate them at the end.
struct ChunkedOutput {
    let type: ValueType
    let rows: Int
    var floats: [Double] = []
    var integers: [Int64] = []
    var bools: [Bool] = []
    var words: [UInt64]
    var filled = 0
    var parts: [Vector] = []

    init(type: ValueType, rows: Int) {
        self.type = type
        self.rows = rows
        words = [UInt64](repeating: 0, count: (rows + 63) / 64)
        switch Kind(type) {
        case .float: floats.reserveCapacity(rows)
        case .bool: bools.reserveCapacity(rows)
        default: if direct { integers.reserveCapacity(rows) }
        }
    }

    var direct: Bool {
        switch type {
        case .string, .bytes, .list: false
        default: true
        }
    }

    mutating func append(_ part: Vector) {
        guard direct else {
            parts.append(part)
            return
        }
        switch Kind(type) {
        case .float: floats.append(contentsOf: part.floats)
        case .bool: bools.append(contentsOf: part.bools)
        default: integers.append(contentsOf: part.integers)
        }
        // `filled` is a multiple of 64 for every chunk but the last: its words go in place.
        let packed = Bitmap(part.valid).words
        words.replaceSubrange((filled >> 6)..<((filled >> 6) + packed.count), with: packed)
        filled += part.count
    }

    func finish() -> Column {
        guard direct else { return Evaluator.column(Vector.concatenate(parts), type: type) }
        let validity = Bitmap(words: words, count: rows)
        switch type {
        case .bool: return Column(type: .bool, data: .bool(bools), validity: validity)
        case .int32:
            return Column(
                type: .int32, data: .int32(integers.map { Int32(truncatingIfNeeded: $0) }), validity: validity)
        case .float32: return Column(type: .float32, data: .float32(floats.map { Float($0) }), validity: validity)
        case .float64: return Column(type: .float64, data: .float64(floats), validity: validity)
        default: return Column(type: type, data: .int64(integers), validity: validity)
        }
    }
}

struct Evaluator {
    let rows: Int
    let inputs: [Vector]

    static func vector(_ column: Column) -> Vector {
        let valid = column.validity?.bools ?? [Bool](repeating: true, count: column.count)
        switch column.data {
        case .bool(let v): return Vector(payload: .bool(v), valid: valid)
        case .int32(let v): return Vector(payload: .integer(v.map(Int64.init)), valid: valid)
        case .int64(let v): return Vector(payload: .integer(v), valid: valid)
        case .float32(let v): return Vector(payload: .float(v.map(Double.init)), valid: valid)
        case .float64(let v): return Vector(payload: .float(v), valid: valid)
        case .binary(let v): return Vector(payload: .string(v), valid: valid)
        case .list(let offsets, let values):
            return Vector(payload: .list(offsets: offsets, values: values), valid: valid)
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
        case .arithmetic(let op, let l, let r, let type): return arithmetic(op, l, r, type)
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
        case .shift(let inner, let months, let micros):
            let v = run(inner)
            var valid = v.valid
            let values = v.integers.enumerated().map { i, t -> Int64 in
                guard valid[i] else { return 0 }
                guard let moved = Dates.shift(t, months: months, micros: micros) else {
                    valid[i] = false
                    return 0
                }
                return moved
            }
            return Vector(payload: .integer(values), valid: valid)
        case .dateTrunc(let unit, let inner):
            let v = run(inner)
            return Vector(payload: .integer(v.integers.map { Dates.trunc(unit, $0) }), valid: v.valid)
        case .dateDiff(let unit, let l, let r):
            let (a, b) = (run(l), run(r))
            let (x, y) = (a.integers, b.integers)
            var valid = zip(a.valid, b.valid).map { $0 && $1 }
            let values = (0..<rows).map { i -> Int64 in
                guard valid[i] else { return 0 }
                guard let d = Dates.diff(unit, x[i], y[i]) else {
                    valid[i] = false
                    return 0
                }
                return d
            }
            return Vector(payload: .integer(values), valid: valid)
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

    /// A constant operand: its value as a double and an integer, or `nil` for NULL. Constants
    /// are never broadcast into arrays: the loops take them as scalars.
    func constant(of node: Node) -> (double: Double, integer: Int64)?? {
        guard case .constant(let c, _) = node else { return nil }
        switch c {
        case .null: return .some(nil)
        case .integer(let v): return (Double(v), v)
        case .float(let v): return (v, Int64(exactly: v.rounded(.towardZero)) ?? 0)
        case .bool(let v): return (v ? 1 : 0, v ? 1 : 0)
        case .string: return nil
        }
    }

    /// `f` over the rows of two operands, each a vector's values or a scalar. Inlined, so
    /// that each call site's closure becomes the loop body (and the loop SIMD).
    @inline(__always)
    func loop<T>(_ a: [T]?, _ sa: T, _ b: [T]?, _ sb: T, _ f: (T, T) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: rows) { out, initialized in
            switch (a, b) {
            case (let x?, let y?):
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeBufferPointer { y in for i in 0..<rows { out[i] = f(x[i], y[i]) } }
                }
            case (let x?, nil): x.withUnsafeBufferPointer { x in for i in 0..<rows { out[i] = f(x[i], sb) } }
            case (nil, let y?): y.withUnsafeBufferPointer { y in for i in 0..<rows { out[i] = f(sa, y[i]) } }
            case (nil, nil): for i in 0..<rows { out[i] = f(sa, sb) }
            }
            initialized = rows
        }
    }

    func arithmetic(_ op: BinaryOperator, _ l: Node, _ r: Node, _ type: ValueType) -> Vector {
        let (cl, cr) = (constant(of: l), constant(of: r))
        // A NULL operand makes every row null.
        if case .some(.none) = cl { return constant(.null, type) }
        if case .some(.none) = cr { return constant(.null, type) }
        let a = cl == nil ? run(l) : nil
        let b = cr == nil ? run(r) : nil
        var valid: [Bool]
        switch (a, b) {
        case (let a?, let b?): valid = Kernels.and(a.valid, b.valid, rows: rows)
        case (let a?, nil): valid = a.valid
        case (nil, let b?): valid = b.valid
        case (nil, nil): valid = Array(repeating: true, count: rows)
        }
        if Kind(type) == .float {
            let (x, y) = (a?.floats, b?.floats)
            let (sx, sy) = ((cl ?? nil)?.double ?? 0, (cr ?? nil)?.double ?? 0)
            let out: [Double]
            // IEEE: x / 0 is ±inf (0 / 0 NaN), as DuckDB; fmod by 0 is NaN.
            switch op {
            case .add: out = loop(x, sx, y, sy) { $0 + $1 }
            case .subtract: out = loop(x, sx, y, sy) { $0 - $1 }
            case .multiply: out = loop(x, sx, y, sy) { $0 * $1 }
            case .divide: out = loop(x, sx, y, sy) { $0 / $1 }
            default: out = loop(x, sx, y, sy) { $0.truncatingRemainder(dividingBy: $1) }
            }
            return Vector(payload: .float(out), valid: valid)
        }
        let (x, y) = (a?.integers, b?.integers)
        let (sx, sy) = ((cl ?? nil)?.integer ?? 0, (cr ?? nil)?.integer ?? 0)
        // Overflow and division by zero: the row is null (a wrapped value, never read).
        var failed = [Bool](repeating: false, count: rows)
        let out: [Int64] = failed.withUnsafeMutableBufferPointer { failed in
            var row = 0
            func checked(_ result: (partialValue: Int64, overflow: Bool)) -> Int64 {
                defer { row += 1 }
                if result.overflow { failed[row] = true }
                return result.partialValue
            }
            switch op {
            case .add: return loop(x, sx, y, sy) { checked($0.addingReportingOverflow($1)) }
            case .subtract: return loop(x, sx, y, sy) { checked($0.subtractingReportingOverflow($1)) }
            case .multiply: return loop(x, sx, y, sy) { checked($0.multipliedReportingOverflow(by: $1)) }
            case .integerDivide:
                return loop(x, sx, y, sy) { checked($1 == 0 ? (0, true) : $0.dividedReportingOverflow(by: $1)) }
            default:
                return loop(x, sx, y, sy) {
                    checked($1 == 0 ? (0, true) : $0.remainderReportingOverflow(dividingBy: $1))
                }
            }
        }
        for i in 0..<rows where failed[i] { valid[i] = false }
        return Vector(payload: .integer(out), valid: valid)
    }

    /// `CASE WHEN c THEN a ELSE b END` over numbers and bools: one mask, then a select per
    /// row (no branch), as the general form's merge gives it.
    func ifThenElse(_ branch: (Node, Node), _ otherwise: Node?, _ type: ValueType) -> Vector {
        let condition = run(branch.0)
        let then = Casts.cast(run(branch.1), from: branch.1.type, to: type)
        let other = otherwise.map { Casts.cast(run($0), from: $0.type, to: type) } ?? constant(.null, type)
        let mask = Kernels.and(condition.bools, condition.valid, rows: rows)
        let valid = Kernels.select(mask, then.valid, other.valid, rows: rows)
        switch Kind(type) {
        case .float:
            return Vector(payload: .float(Kernels.select(mask, then.floats, other.floats, rows: rows)), valid: valid)
        case .bool:
            return Vector(payload: .bool(Kernels.select(mask, then.bools, other.bools, rows: rows)), valid: valid)
        default:
            return Vector(
                payload: .integer(Kernels.select(mask, then.integers, other.integers, rows: rows)), valid: valid)
        }
    }

    /// Floats compare as SQL engines order them: NaN equals NaN and is above every number;
    /// -0 equals 0.
    @inline(__always)
    static func order(_ x: Double, _ y: Double) -> Int {
        if x.isNaN || y.isNaN { return x.isNaN ? (y.isNaN ? 0 : 1) : -1 }
        return x < y ? -1 : (x > y ? 1 : 0)
    }

    func compare(_ op: BinaryOperator, _ l: Node, _ r: Node) -> Vector {
        let kinds = (Kind(l.type), Kind(r.type))
        // Each kind computes a -1/0/1 order per row, then the operator reads it: one pass.
        func test(_ order: Int) -> Bool {
            switch op {
            case .equal: order == 0
            case .notEqual: order != 0
            case .less: order < 0
            case .lessOrEqual: order <= 0
            case .greater: order > 0
            default: order >= 0
            }
        }
        let numeric = kinds.0 != .string && kinds.1 != .string
        if numeric, let (cl, cr) = Optional((constant(of: l), constant(of: r))), (cl == nil) != (cr == nil) {
            // One side is a constant: compare against the scalar, building no array for it.
            let (node, scalar, flipped) = cl == nil ? (l, cr, false) : (r, cl, true)
            guard let value = scalar ?? nil else { return constant(.null, .bool) }
            let v = run(node)
            // `c < x` is `x > c`: one operator, chosen once, then a tight loop per kind.
            var effective = op
            if flipped {
                switch op {
                case .less: effective = .greater
                case .lessOrEqual: effective = .greaterOrEqual
                case .greater: effective = .less
                case .greaterOrEqual: effective = .lessOrEqual
                default: break
                }
            }
            let float = kinds.0 == .float || kinds.1 == .float
            let out: [Bool]
            if float, !value.double.isNaN {
                // Evaluator.order's rules with a number on one side: NaN is above it, -0 equals 0.
                out = Kernels.compare(v.floats, effective, value.double, rows: rows)
            } else if float {
                let x = v.floats
                out = x.map { test(flipped ? -Evaluator.order($0, value.double) : Evaluator.order($0, value.double)) }
            } else {
                out = Kernels.compare(v.integers, effective, value.integer, rows: rows)
            }
            return Vector(payload: .bool(out), valid: v.valid)
        }
        let (a, b) = (run(l), run(r))
        let valid = Kernels.and(a.valid, b.valid, rows: rows)
        var out = [Bool](repeating: false, count: rows)
        if kinds.0 == .float || kinds.1 == .float {
            let (x, y) = (a.floats, b.floats)
            for i in 0..<rows { out[i] = test(Evaluator.order(x[i], y[i])) }
        } else if kinds.0 == .string || kinds.1 == .string {
            let (x, y) = (a.strings, b.strings)
            for i in 0..<rows where valid[i] {
                let (p, q) = (x.bytes(at: i), y.bytes(at: i))
                out[i] = test(p == q ? 0 : (p.lexicographicallyPrecedes(q) ? -1 : 1))
            }
        } else {
            let (x, y) = (a.integers, b.integers)
            for i in 0..<rows { out[i] = test(x[i] < y[i] ? -1 : (x[i] > y[i] ? 1 : 0)) }
        }
        return Vector(payload: .bool(out), valid: valid)
    }

    func caseWhen(_ branches: [(Node, Node)], _ otherwise: Node?, _ type: ValueType) -> Vector {
        if branches.count == 1, Kind(type) != .string { return ifThenElse(branches[0], otherwise, type) }
        // Rows still undecided take the first branch whose condition is true.
        var taken = [Int](repeating: -1, count: rows)
        for (b, branch) in branches.enumerated() {
            let condition = run(branch.0)
            let truth = condition.bools
            taken.withUnsafeMutableBufferPointer { taken in
                condition.valid.withUnsafeBufferPointer { valid in
                    truth.withUnsafeBufferPointer { truth in
                        for i in 0..<rows where taken[i] < 0 && valid[i] && truth[i] { taken[i] = b }
                    }
                }
            }
        }
        var values = branches.map { Casts.cast(run($0.1), from: $0.1.type, to: type) }
        values.append(
            otherwise.map { Casts.cast(run($0), from: $0.type, to: type) }
                ?? constant(.null, type))
        let fallback = values.count - 1
        var pick = taken
        for i in 0..<rows where pick[i] < 0 { pick[i] = fallback }
        // Start from the ELSE values and overwrite each branch's rows: one pass per branch.
        @_specialize(where T == Double)
        @_specialize(where T == Int64)
        @_specialize(where T == Bool)
        func merged<T>(_ arrays: [[T]]) -> [T] {
            var out = arrays[fallback]
            out.withUnsafeMutableBufferPointer { out in
                pick.withUnsafeBufferPointer { pick in
                    for b in 0..<fallback {
                        arrays[b].withUnsafeBufferPointer { source in
                            // A select, not a branch: the compiler vectorizes it.
                            for i in 0..<rows { out[i] = pick[i] == b ? source[i] : out[i] }
                        }
                    }
                }
            }
            return out
        }
        let valid = merged(values.map(\.valid))
        switch Kind(type) {
        case .float: return Vector(payload: .float(merged(values.map(\.floats))), valid: valid)
        case .bool: return Vector(payload: .bool(merged(values.map(\.bools))), valid: valid)
        case .string:
            let f = values.map(\.strings)
            var out = BinaryData()
            for i in 0..<rows { out.append(bytes: f[pick[i]].bytes(at: i)) }
            return Vector(payload: .string(out), valid: valid)
        default: return Vector(payload: .integer(merged(values.map(\.integers))), valid: valid)
        }
    }
}
