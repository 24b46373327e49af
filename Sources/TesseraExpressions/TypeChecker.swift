import TesseraCore

/// An expression whose names are resolved and whose types are checked: ready to evaluate.
///
/// Integers compute in int64 and floats in float64 (int32 and float32 inputs are widened
/// first); a `CAST` to int32 or float32 narrows its value, and the result column has the
/// expression's `type`.
public struct CompiledExpression: Sendable {
    public let text: String
    public let type: ValueType
    /// The input columns the expression reads, in the order `evaluate` takes them.
    public let columns: [(name: String, type: ValueType)]
    let root: Node

    /// Compiles `text` against the columns `scope` offers (name → type); with `as`, the
    /// result is cast to that type (a derived feature's declared type).
    /// - Throws: `ExpressionError` at the offset of the first problem: syntax, an unknown or
    ///   ambiguous name (with the closest candidates), a type that does not fit an operator
    ///   or function, a wrong number of arguments, a result `as` cannot hold.
    ///
    /// - Parameter ambiguous: names that are not in `scope` because several inputs have them
    ///   (a feature of two source views), each with the names that tell them apart; using
    ///   one is an error that lists them.
    public static func compile(
        _ text: String, scope: [(name: String, type: ValueType)], as result: ValueType? = nil,
        ambiguous: [String: [String]] = [:]
    )
        throws(ExpressionError) -> CompiledExpression
    {
        let parsed = try ExpressionParser.parse(text)
        var checker = TypeChecker(scope: scope)
        checker.ambiguous = ambiguous
        var root = try checker.check(parsed)
        // An expression that can only be NULL (`NULL`, `CASE … THEN NULL END`) is an int64 null.
        if root.type == TypeChecker.nullType { root = .cast(root, result ?? .int64) }
        if let result, root.type != result {
            guard TypeChecker.castable(root.type, result) else {
                throw ExpressionError("the expression is \(root.type.name), which \(result.name) cannot hold", at: 0)
            }
            root = .cast(root, result)
        }
        return CompiledExpression(text: text, type: root.type, columns: checker.used, root: RowEvaluator.fold(root))
    }
}

/// A checked expression node: what to compute and the type it gives.
indirect enum Node: Sendable {
    case constant(Constant, ValueType)
    case column(Int, ValueType)
    case negate(Node, ValueType)
    case arithmetic(BinaryOperator, Node, Node, ValueType)
    case compare(BinaryOperator, Node, Node)
    case and(Node, Node)
    case or(Node, Node)
    case not(Node)
    case isNull(Node, negated: Bool)
    case concat(Node, Node)
    case caseWhen([(Node, Node)], otherwise: Node?, ValueType)
    case cast(Node, ValueType)
    case call(Function, [Node], ValueType)
    /// A timestamp moved by an interval: calendar months, then microseconds.
    case shift(Node, months: Int64, micros: Int64)
    /// `date_trunc` / `date_diff` with their (constant) unit.
    case dateTrunc(TimeUnit, Node)
    case dateDiff(TimeUnit, Node, Node)

    var type: ValueType {
        switch self {
        case .constant(_, let t), .column(_, let t), .negate(_, let t), .arithmetic(_, _, _, let t),
            .caseWhen(_, _, let t), .cast(_, let t), .call(_, _, let t):
            t
        case .compare, .and, .or, .not, .isNull: .bool
        case .concat: .string
        case .shift, .dateTrunc: .timestamp
        case .dateDiff: .int64
        }
    }
}

enum Constant: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case float(Double)
    case string(String)
}

enum Function: String, Sendable, CaseIterable {
    case coalesce, nullif, least, greatest
    case abs, sign, round, floor, ceil, sqrt, exp, ln, log10, pow
    case lower, upper, length, substr, concat, trim, replace
    case startsWith = "starts_with", endsWith = "ends_with", contains, like
    case hour, minute, dayOfWeek = "day_of_week", dayOfMonth = "day_of_month", month, year
    case epochSeconds = "epoch_seconds"
    case listLength = "list_length", listElement = "list_element"
    case haversineKm = "haversine_km"
}

/// How values of a type compute: the internal kinds.
enum Kind: Equatable {
    case bool, integer, float, string, timestamp, null

    init(_ type: ValueType) {
        switch type {
        case .bool: self = .bool
        case .int32, .int64: self = .integer
        case .float32, .float64: self = .float
        case .string: self = .string
        case .timestamp: self = .timestamp
        case .bytes, .list: self = .null
        }
    }
}

struct TypeChecker {
    let scope: [(name: String, type: ValueType)]
    var used: [(name: String, type: ValueType)] = []
    var ambiguous: [String: [String]] = [:]
    /// The type NULL literals have until context gives them one.
    static let nullType = ValueType.bytes

    init(scope: [(name: String, type: ValueType)]) { self.scope = scope }

    static func isNull(_ node: Node) -> Bool {
        if case .constant(.null, _) = node { return true }
        return false
    }

    static func isNumeric(_ type: ValueType) -> Bool { [.int32, .int64, .float32, .float64].contains(type) }

    /// The type two branches or operands share: equal types, integers with floats as float64,
    /// int32 with int64 as int64, NULL with anything as the other.
    static func common(_ a: ValueType, _ b: ValueType) -> ValueType? {
        if a == b { return a }
        if a == nullType { return b }
        if b == nullType { return a }
        if isNumeric(a) && isNumeric(b) {
            return Kind(a) == .float || Kind(b) == .float ? .float64 : .int64
        }
        return nil
    }

    func describe(_ type: ValueType) -> String { type == TypeChecker.nullType ? "NULL" : type.name }

    mutating func check(_ e: Expression) throws(ExpressionError) -> Node {
        switch e.kind {
        case .null: return .constant(.null, TypeChecker.nullType)
        case .bool(let v): return .constant(.bool(v), .bool)
        case .integer(let v): return .constant(.integer(v), .int64)
        case .float(let v): return .constant(.float(v), .float64)
        case .string(let v): return .constant(.string(v), .string)
        case .column(let name): return try column(name, at: e.offset)
        case .negate(let inner):
            let node = try check(inner)
            guard TypeChecker.isNumeric(node.type) || node.type == TypeChecker.nullType else {
                throw ExpressionError("cannot negate a \(describe(node.type))", at: e.offset)
            }
            return .negate(
                node, node.type == TypeChecker.nullType ? .int64 : (Kind(node.type) == .float ? .float64 : .int64))
        case .not(let inner):
            return .not(try boolean(inner, "NOT"))
        case .binary(let op, let l, let r): return try binary(op, l, r, at: e.offset)
        case .isNull(let inner, let negated): return .isNull(try check(inner), negated: negated)
        case .inList(let subject, let list, let negated):
            // x IN (a, b) is x = a OR x = b, with SQL's nulls.
            var result: Node?
            for item in list {
                let test = try binary(.equal, subject, item, at: item.offset)
                result = result.map { .or($0, test) } ?? test
            }
            guard let result else { throw ExpressionError("IN needs at least one value", at: e.offset) }
            return negated ? .not(result) : result
        case .between(let subject, let low, let high, let negated):
            let inside = Node.and(
                try binary(.greaterOrEqual, subject, low, at: low.offset),
                try binary(.lessOrEqual, subject, high, at: high.offset))
            return negated ? .not(inside) : inside
        case .caseWhen(let whens, let otherwise):
            var branches: [(Node, Node)] = []
            var type = TypeChecker.nullType
            for when in whens {
                let condition = try boolean(when.condition, "WHEN")
                let value = try check(when.value)
                guard let shared = TypeChecker.common(type, value.type) else {
                    throw ExpressionError(
                        "this CASE branch is \(describe(value.type)) but an earlier one is \(describe(type))",
                        at: when.value.offset, hint: "CAST the branches to one type")
                }
                type = shared
                branches.append((condition, value))
            }
            var fallback: Node?
            if let otherwise {
                let value = try check(otherwise)
                guard let shared = TypeChecker.common(type, value.type) else {
                    throw ExpressionError(
                        "the ELSE branch is \(describe(value.type)) but the WHEN branches are \(describe(type))",
                        at: otherwise.offset, hint: "CAST the branches to one type")
                }
                type = shared
                fallback = value
            }
            return .caseWhen(branches, otherwise: fallback, type)
        case .cast(let inner, let type):
            let node = try check(inner)
            guard TypeChecker.castable(node.type, type) else {
                throw ExpressionError("cannot cast \(describe(node.type)) to \(type.name)", at: e.offset)
            }
            return .cast(node, type)
        case .call(let name, let arguments): return try call(name, arguments, at: e.offset)
        case .interval:
            throw ExpressionError(
                "an interval can only be added to or subtracted from a timestamp", at: e.offset,
                hint: "e.g. event_timestamp - INTERVAL '1 hour'")
        }
    }

    static func castable(_ from: ValueType, _ to: ValueType) -> Bool {
        if from == nullType || from == to { return true }
        switch (Kind(from), Kind(to)) {
        case (.integer, .integer), (.integer, .float), (.float, .integer), (.float, .float): return true
        case (.bool, .integer), (.integer, .bool), (.bool, .float), (.float, .bool): return true
        case (.string, .integer), (.string, .float), (.string, .bool), (.string, .timestamp): return true
        case (.integer, .string), (.float, .string), (.bool, .string), (.timestamp, .string): return true
        default: return false
        }
    }

    mutating func column(_ name: String, at offset: Int, list: Bool = false) throws(ExpressionError) -> Node {
        var matches = scope.filter { $0.name == name }
        if matches.isEmpty { matches = scope.filter { $0.name.lowercased() == name.lowercased() } }
        guard matches.count == 1, let found = matches.first else {
            if matches.isEmpty, let candidates = ambiguous[name] {
                throw ExpressionError(
                    "'\(name)' is ambiguous: \(candidates.map { "'\($0)'" }.joined(separator: ", "))", at: offset,
                    hint: "write one of them")
            }
            if matches.count > 1 {
                throw ExpressionError(
                    "'\(name)' is ambiguous: \(matches.map { "'\($0.name)'" }.joined(separator: ", "))", at: offset,
                    hint: "write the name with its exact case in double quotes")
            }
            throw ExpressionError(
                "no column named '\(name)'", at: offset,
                hint: Suggestions.hint(for: name, in: scope.map(\.name))
                    ?? "columns here: \(scope.map(\.name).joined(separator: ", "))")
        }
        if case .list(let element) = found.type {
            guard list else {
                throw ExpressionError(
                    "column '\(found.name)' is \(found.type.name): read it with list_length or list_element", at: offset
                )
            }
            guard Kind(element) != .null else {
                throw ExpressionError(
                    "column '\(found.name)' is \(found.type.name), whose elements expressions cannot use yet",
                    at: offset)
            }
        } else if Kind(found.type) == .null {
            throw ExpressionError(
                "column '\(found.name)' is \(found.type.name), which expressions cannot use yet", at: offset)
        }
        if let index = used.firstIndex(where: { $0.name == found.name }) { return .column(index, found.type) }
        used.append(found)
        return .column(used.count - 1, found.type)
    }

    mutating func boolean(_ e: Expression, _ role: String) throws(ExpressionError) -> Node {
        let node = try check(e)
        guard node.type == .bool || node.type == TypeChecker.nullType else {
            throw ExpressionError(
                "\(role) needs a bool, but this is \(describe(node.type))", at: e.offset,
                hint: node.type == .string ? nil : "compare it, e.g. x > 0")
        }
        return node
    }

    mutating func binary(_ op: BinaryOperator, _ l: Expression, _ r: Expression, at offset: Int)
        throws(ExpressionError) -> Node
    {
        if op == .and || op == .or {
            let left = try boolean(l, op.rawValue)
            let right = try boolean(r, op.rawValue)
            return op == .and ? .and(left, right) : .or(left, right)
        }
        // timestamp ± interval, interval + timestamp.
        if op == .add || op == .subtract {
            if case .interval(let months, let micros) = r.kind {
                let left = try check(l)
                guard left.type == .timestamp || left.type == TypeChecker.nullType else {
                    throw ExpressionError(
                        "an interval moves a timestamp, not \(describe(left.type))", at: offset,
                        hint: "CAST the other side to timestamp")
                }
                let sign: Int64 = op == .add ? 1 : -1
                return .shift(
                    left.type == .timestamp ? left : .cast(left, .timestamp), months: sign * months,
                    micros: sign &* micros)
            }
            if case .interval(let months, let micros) = l.kind, op == .add {
                let right = try check(r)
                guard right.type == .timestamp else {
                    throw ExpressionError("an interval moves a timestamp, not \(describe(right.type))", at: offset)
                }
                return .shift(right, months: months, micros: micros)
            }
        }
        let left = try check(l)
        let right = try check(r)
        let (a, b) = (left.type, right.type)
        if op.isComparison {
            let comparable =
                TypeChecker.common(a, b) != nil && !(op != .equal && op != .notEqual && (a == .bool) != (b == .bool))
            guard comparable else {
                throw ExpressionError(
                    "cannot compare \(describe(a)) with \(describe(b))", at: offset,
                    hint: "CAST one side to the other's type")
            }
            return .compare(op, left, right)
        }
        if op == .concat {
            guard (a == .string || a == TypeChecker.nullType) && (b == .string || b == TypeChecker.nullType) else {
                throw ExpressionError(
                    "|| joins strings, not \(describe(a)) and \(describe(b))", at: offset,
                    hint: "CAST the other side to string")
            }
            return .concat(left, right)
        }
        let numeric = { (t: ValueType) in TypeChecker.isNumeric(t) || t == TypeChecker.nullType }
        guard numeric(a) && numeric(b) else {
            throw ExpressionError(
                "'\(op.rawValue)' needs numbers, not \(describe(a)) and \(describe(b))", at: offset,
                hint: a == .string || b == .string ? "use || to join strings" : nil)
        }
        let float = Kind(a) == .float || Kind(b) == .float
        switch op {
        case .divide: return .arithmetic(op, left, right, .float64)
        case .integerDivide:
            guard !float else {
                throw ExpressionError(
                    "'//' divides integers; this side is a float", at: offset, hint: "use floor(a / b) for floats")
            }
            return .arithmetic(op, left, right, .int64)
        default: return .arithmetic(op, left, right, float ? .float64 : .int64)
        }
    }

    mutating func call(_ name: String, _ arguments: [Expression], at offset: Int) throws(ExpressionError) -> Node {
        if name == "if" {
            guard arguments.count == 3 else {
                throw ExpressionError(
                    "if takes 3 arguments (condition, then, else), not \(arguments.count)", at: offset)
            }
            let whens = [Expression.When(condition: arguments[0], value: arguments[1])]
            return try check(Expression(.caseWhen(whens, otherwise: arguments[2]), at: offset))
        }
        if name == "list_length" || name == "list_element" {
            let arity = name == "list_length" ? 1 : 2
            guard arguments.count == arity else {
                throw ExpressionError(
                    "\(name) takes \(arity == 1 ? "1 argument (a list column)" : "2 arguments (a list column, an index)"), not \(arguments.count)",
                    at: offset)
            }
            guard case .column(let column) = arguments[0].kind else {
                throw ExpressionError(
                    "the first argument of \(name) must be a list column", at: arguments[0].offset)
            }
            let list = try self.column(column, at: arguments[0].offset, list: true)
            guard case .list(let element) = list.type else {
                throw ExpressionError(
                    "\(name) reads a list column; '\(column)' is \(describe(list.type))", at: arguments[0].offset)
            }
            if arity == 1 { return .call(.listLength, [list], .int64) }
            let index = try check(arguments[1])
            guard Kind(index.type) == .integer || index.type == TypeChecker.nullType else {
                throw ExpressionError(
                    "the index of list_element must be an integer, not \(describe(index.type))",
                    at: arguments[1].offset, hint: "1 is the first element, -1 the last")
            }
            return .call(.listElement, [list, index], element)
        }
        if name == "date_trunc" || name == "date_diff" {
            let arity = name == "date_trunc" ? 2 : 3
            guard arguments.count == arity else {
                throw ExpressionError(
                    "\(name) takes \(arity) arguments (\(arity == 2 ? "'unit', timestamp" : "'unit', start, end")), not \(arguments.count)",
                    at: offset)
            }
            guard case .string(let spelling) = arguments[0].kind else {
                throw ExpressionError(
                    "the unit of \(name) must be a string constant", at: arguments[0].offset,
                    hint: "e.g. \(name)('hour', …); units: \(TimeUnit.spellings.joined(separator: ", "))")
            }
            guard let unit = TimeUnit(spelling: spelling) else {
                throw ExpressionError(
                    "'\(spelling)' is not a unit of \(name)", at: arguments[0].offset,
                    hint: Suggestions.hint(for: spelling, in: TimeUnit.spellings)
                        ?? "units: \(TimeUnit.spellings.joined(separator: ", "))")
            }
            var times: [Node] = []
            for argument in arguments.dropFirst() {
                let node = try check(argument)
                guard node.type == .timestamp || node.type == TypeChecker.nullType else {
                    throw ExpressionError(
                        "\(name) takes timestamps; this is \(describe(node.type))", at: argument.offset,
                        hint: "CAST it to timestamp")
                }
                times.append(node.type == .timestamp ? node : .cast(node, .timestamp))
            }
            return arity == 2 ? .dateTrunc(unit, times[0]) : .dateDiff(unit, times[0], times[1])
        }
        guard let function = Function(rawValue: name) else {
            throw ExpressionError(
                "unknown function '\(name)'", at: offset,
                hint: Suggestions.hint(
                    for: name, in: Function.allCases.map(\.rawValue) + ["if", "date_trunc", "date_diff"]))
        }
        let nodes = try arguments.map { (a) throws(ExpressionError) in try check(a) }
        let types = nodes.map(\.type)
        func arity(_ range: ClosedRange<Int>) throws(ExpressionError) {
            guard range.contains(nodes.count) else {
                let expected =
                    range.lowerBound == range.upperBound
                    ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
                throw ExpressionError(
                    "\(name) takes \(expected) argument\(range.upperBound == 1 ? "" : "s"), not \(nodes.count)",
                    at: offset)
            }
        }
        func expect(_ i: Int, _ ok: (ValueType) -> Bool, _ what: String) throws(ExpressionError) {
            guard ok(types[i]) || types[i] == TypeChecker.nullType else {
                throw ExpressionError(
                    "argument \(i + 1) of \(name) must be \(what), not \(describe(types[i]))", at: arguments[i].offset)
            }
        }
        let numeric = TypeChecker.isNumeric
        let string = { (t: ValueType) in t == .string }
        switch function {
        case .listLength, .listElement:
            // Checked with their list column above, before the arguments are.
            throw ExpressionError("\(name) reads a list column", at: offset)
        case .coalesce, .least, .greatest:
            try arity(1...64)
            var type = TypeChecker.nullType
            for (i, t) in types.enumerated() {
                guard let shared = TypeChecker.common(type, t) else {
                    throw ExpressionError(
                        "argument \(i + 1) of \(name) is \(describe(t)) but earlier ones are \(describe(type))",
                        at: arguments[i].offset, hint: "CAST the arguments to one type")
                }
                type = shared
            }
            return .call(function, nodes, type)
        case .nullif:
            try arity(2...2)
            guard TypeChecker.common(types[0], types[1]) != nil else {
                throw ExpressionError("cannot compare \(describe(types[0])) with \(describe(types[1]))", at: offset)
            }
            return .call(function, nodes, TypeChecker.common(types[0], types[1]) ?? types[0])
        case .abs, .round, .floor, .ceil:
            try arity(function == .round ? 1...2 : 1...1)
            try expect(0, numeric, "a number")
            if nodes.count == 2 { try expect(1, { Kind($0) == .integer }, "an integer (the digits)") }
            return .call(function, nodes, Kind(types[0]) == .float ? .float64 : .int64)
        case .sign:
            try arity(1...1)
            try expect(0, numeric, "a number")
            return .call(function, nodes, .int64)
        case .sqrt, .exp, .ln, .log10:
            try arity(1...1)
            try expect(0, numeric, "a number")
            return .call(function, nodes, .float64)
        case .pow:
            try arity(2...2)
            try expect(0, numeric, "a number")
            try expect(1, numeric, "a number")
            return .call(function, nodes, .float64)
        case .haversineKm:
            try arity(4...4)
            for i in 0..<4 { try expect(i, numeric, "a number (degrees)") }
            return .call(function, nodes, .float64)
        case .lower, .upper, .trim:
            try arity(1...1)
            try expect(0, string, "a string")
            return .call(function, nodes, .string)
        case .length:
            try arity(1...1)
            try expect(0, string, "a string")
            return .call(function, nodes, .int64)
        case .substr:
            try arity(2...3)
            try expect(0, string, "a string")
            for i in 1..<nodes.count { try expect(i, { Kind($0) == .integer }, "an integer") }
            return .call(function, nodes, .string)
        case .concat:
            try arity(1...64)
            for i in nodes.indices { try expect(i, string, "a string") }
            return .call(function, nodes, .string)
        case .replace:
            try arity(3...3)
            for i in 0..<3 { try expect(i, string, "a string") }
            return .call(function, nodes, .string)
        case .startsWith, .endsWith, .contains, .like:
            try arity(2...2)
            for i in 0..<2 { try expect(i, string, "a string") }
            return .call(function, nodes, .bool)
        case .hour, .minute, .dayOfWeek, .dayOfMonth, .month, .year, .epochSeconds:
            try arity(1...1)
            try expect(0, { $0 == .timestamp }, "a timestamp")
            return .call(function, nodes, .int64)
        }
    }
}
