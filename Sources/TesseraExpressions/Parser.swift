import TesseraCore

/// One token of an expression, with its UTF-8 offset.
struct Token: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        /// A double-quoted identifier: never a keyword.
        case quoted(String)
        case integer(Int64)
        case float(Double)
        case string(String)
        case symbol(String)
        case end
    }

    var kind: Kind
    var offset: Int

    /// The keyword this token spells (upper-cased), if it is a bare identifier.
    var keyword: String? {
        if case .identifier(let name) = kind { return name.uppercased() }
        return nil
    }

    var text: String {
        switch kind {
        case .identifier(let name): name
        case .quoted(let name): "\"\(name)\""
        case .integer(let value): String(value)
        case .float(let value): String(value)
        case .string(let value): "'\(value)'"
        case .symbol(let symbol): symbol
        case .end: "the end"
        }
    }
}

enum Lexer {
    static let symbols = [
        "::", "<>", "!=", "<=", ">=", "||", "//", "+", "-", "*", "/", "%", "=", "<", ">", "(", ")", ",",
    ]

    static func tokens(_ text: String) throws(ExpressionError) -> [Token] {
        let bytes = Array(text.utf8)
        var out: [Token] = []
        var at = 0
        func isIdentifierStart(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        while at < bytes.count {
            let b = bytes[at]
            if b == 32 || b == 9 || b == 10 || b == 13 {
                at += 1
                continue
            }
            // `-- …` is a comment to the end of the line, as in SQL.
            if b == 45 && at + 1 < bytes.count && bytes[at + 1] == 45 {
                while at < bytes.count && bytes[at] != 10 { at += 1 }
                continue
            }
            let start = at
            if isIdentifierStart(b) {
                while at < bytes.count && (isIdentifierStart(bytes[at]) || isDigit(bytes[at])) { at += 1 }
                out.append(Token(kind: .identifier(String(decoding: bytes[start..<at], as: UTF8.self)), offset: start))
                continue
            }
            if isDigit(b) || (b == 46 && at + 1 < bytes.count && isDigit(bytes[at + 1])) {
                var isFloat = false
                while at < bytes.count && isDigit(bytes[at]) { at += 1 }
                if at < bytes.count && bytes[at] == 46 {
                    isFloat = true
                    at += 1
                    while at < bytes.count && isDigit(bytes[at]) { at += 1 }
                }
                if at < bytes.count && (bytes[at] == 101 || bytes[at] == 69) {
                    var e = at + 1
                    if e < bytes.count && (bytes[e] == 43 || bytes[e] == 45) { e += 1 }
                    if e < bytes.count && isDigit(bytes[e]) {
                        isFloat = true
                        at = e
                        while at < bytes.count && isDigit(bytes[at]) { at += 1 }
                    }
                }
                let literal = String(decoding: bytes[start..<at], as: UTF8.self)
                if isFloat {
                    guard let value = Double(literal), value.isFinite else {
                        throw ExpressionError("'\(literal)' is not a number a double can hold", at: start)
                    }
                    out.append(Token(kind: .float(value), offset: start))
                } else {
                    guard let value = Int64(literal) else {
                        throw ExpressionError(
                            "the integer \(literal) does not fit 64 bits", at: start,
                            hint: "write it as a float (\(literal).0) if that is what you mean")
                    }
                    out.append(Token(kind: .integer(value), offset: start))
                }
                continue
            }
            if b == 39 || b == 34 {
                // 'string' with '' for a quote; "identifier" with "" for a quote.
                var value: [UInt8] = []
                at += 1
                var closed = false
                while at < bytes.count {
                    if bytes[at] == b {
                        if at + 1 < bytes.count && bytes[at + 1] == b {
                            value.append(b)
                            at += 2
                            continue
                        }
                        at += 1
                        closed = true
                        break
                    }
                    value.append(bytes[at])
                    at += 1
                }
                guard closed else {
                    throw ExpressionError(
                        b == 39 ? "this string is not closed" : "this quoted name is not closed", at: start,
                        hint: b == 39 ? "end it with ' (write '' for a quote inside)" : "end it with \"")
                }
                let string = String(decoding: value, as: UTF8.self)
                out.append(Token(kind: b == 39 ? .string(string) : .quoted(string), offset: start))
                continue
            }
            if let symbol = symbols.first(where: { s in
                let u = Array(s.utf8)
                return at + u.count <= bytes.count && Array(bytes[at..<at + u.count]) == u
            }) {
                out.append(Token(kind: .symbol(symbol == "!=" ? "<>" : symbol), offset: start))
                at += symbol.utf8.count
                continue
            }
            var end = at + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            throw ExpressionError(
                "unexpected character '\(String(decoding: bytes[at..<end], as: UTF8.self))'", at: start)
        }
        out.append(Token(kind: .end, offset: bytes.count))
        return out
    }
}

/// Parses expression text into an `Expression` (precedence, lowest first: OR; AND; NOT;
/// comparisons, IS, IN, BETWEEN, LIKE; `||`; `+ -`; `* / // %`; unary minus; `::`).
public struct ExpressionParser {
    private let tokens: [Token]
    private var at = 0

    /// Words that cannot be column names without double quotes.
    static let reserved: Set<String> = [
        "AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "INTERVAL", "CASE", "WHEN", "THEN", "ELSE", "END",
        "CAST", "AS",
        "TRUE", "FALSE",
    ]

    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(tokens: try Lexer.tokens(text))
        if case .end = parser.peek.kind { throw ExpressionError("the expression is empty", at: 0) }
        let expression = try parser.or()
        guard case .end = parser.peek.kind else {
            throw ExpressionError(
                "unexpected \(parser.peek.text) after a complete expression", at: parser.peek.offset,
                hint: "an operator (AND, +, =, …) or the end was expected")
        }
        return expression
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var peek: Token { tokens[min(at, tokens.count - 1)] }

    private mutating func next() -> Token {
        defer { at = min(at + 1, tokens.count - 1) }
        return peek
    }

    private mutating func accept(keyword: String) -> Bool {
        guard peek.keyword == keyword else { return false }
        at += 1
        return true
    }

    private mutating func accept(symbol: String) -> Bool {
        guard peek.kind == .symbol(symbol) else { return false }
        at += 1
        return true
    }

    private mutating func expect(symbol: String, _ what: String) throws(ExpressionError) {
        guard accept(symbol: symbol) else {
            throw ExpressionError("expected '\(symbol)' \(what), found \(peek.text)", at: peek.offset)
        }
    }

    private mutating func expect(keyword: String, _ what: String) throws(ExpressionError) {
        guard accept(keyword: keyword) else {
            throw ExpressionError("expected \(keyword) \(what), found \(peek.text)", at: peek.offset)
        }
    }

    private mutating func or() throws(ExpressionError) -> Expression {
        var left = try and()
        while peek.keyword == "OR" {
            let offset = next().offset
            left = Expression(.binary(.or, left, try and()), at: offset)
        }
        return left
    }

    private mutating func and() throws(ExpressionError) -> Expression {
        var left = try not()
        while peek.keyword == "AND" {
            let offset = next().offset
            left = Expression(.binary(.and, left, try not()), at: offset)
        }
        return left
    }

    private mutating func not() throws(ExpressionError) -> Expression {
        if peek.keyword == "NOT" {
            let offset = next().offset
            return Expression(.not(try not()), at: offset)
        }
        return try comparison()
    }

    private mutating func comparison() throws(ExpressionError) -> Expression {
        let left = try concatenation()
        let token = peek
        if case .symbol(let s) = token.kind, let op = BinaryOperator(rawValue: s), op.isComparison {
            at += 1
            return Expression(.binary(op, left, try concatenation()), at: token.offset)
        }
        if accept(keyword: "IS") {
            let negated = accept(keyword: "NOT")
            try expect(keyword: "NULL", "after IS\(negated ? " NOT" : "")")
            return Expression(.isNull(left, negated: negated), at: token.offset)
        }
        var negated = false
        if token.keyword == "NOT", let after = tokens.dropFirst(at + 1).first?.keyword,
            after == "IN" || after == "BETWEEN" || after == "LIKE"
        {
            at += 1
            negated = true
        }
        if accept(keyword: "IN") {
            try expect(symbol: "(", "after IN")
            var list = [try or()]
            while accept(symbol: ",") { list.append(try or()) }
            try expect(symbol: ")", "to close the IN list")
            return Expression(.inList(left, list, negated: negated), at: token.offset)
        }
        if accept(keyword: "LIKE") {
            // x LIKE p is like(x, p): '%' matches any characters, '_' one; no escape character.
            let test = Expression(.call("like", [left, try concatenation()]), at: token.offset)
            return negated ? Expression(.not(test), at: token.offset) : test
        }
        if accept(keyword: "BETWEEN") {
            let low = try concatenation()
            try expect(keyword: "AND", "between the bounds of BETWEEN")
            let high = try concatenation()
            return Expression(.between(left, low, high, negated: negated), at: token.offset)
        }
        return left
    }

    private mutating func concatenation() throws(ExpressionError) -> Expression {
        var left = try additive()
        while peek.kind == .symbol("||") {
            let offset = next().offset
            left = Expression(.binary(.concat, left, try additive()), at: offset)
        }
        return left
    }

    private mutating func additive() throws(ExpressionError) -> Expression {
        var left = try multiplicative()
        while case .symbol(let s) = peek.kind, s == "+" || s == "-" {
            let offset = next().offset
            left = Expression(.binary(s == "+" ? .add : .subtract, left, try multiplicative()), at: offset)
        }
        return left
    }

    private mutating func multiplicative() throws(ExpressionError) -> Expression {
        var left = try unary()
        while case .symbol(let s) = peek.kind, let op = BinaryOperator(rawValue: s),
            op == .multiply || op == .divide || op == .integerDivide || op == .modulo
        {
            let offset = next().offset
            left = Expression(.binary(op, left, try unary()), at: offset)
        }
        return left
    }

    private mutating func unary() throws(ExpressionError) -> Expression {
        if peek.kind == .symbol("-") {
            let offset = next().offset
            // A negative literal is a literal (so -9223372036854775808 is an int64).
            if case .integer(let value) = peek.kind, peek.offset == offset + 1 {
                at += 1
                return try postfix(Expression(.integer(-value), at: offset))
            }
            return Expression(.negate(try unary()), at: offset)
        }
        if peek.kind == .symbol("+") {
            at += 1
            return try unary()
        }
        return try postfix(try primary())
    }

    private mutating func postfix(_ base: Expression) throws(ExpressionError) -> Expression {
        var expression = base
        while peek.kind == .symbol("::") {
            let offset = next().offset
            expression = Expression(.cast(expression, try typeName()), at: offset)
        }
        return expression
    }

    /// A type in `CAST(x AS type)` or `x::type`: Tessera's names and SQL's usual aliases.
    private mutating func typeName() throws(ExpressionError) -> ValueType {
        let token = next()
        guard case .identifier(let name) = token.kind else {
            throw ExpressionError("expected a type name, found \(token.text)", at: token.offset)
        }
        guard let type = ExpressionParser.types[name.lowercased()] else {
            throw ExpressionError(
                "unknown type '\(name)'", at: token.offset,
                hint:
                    "types: bool, int32 (int), int64 (bigint), float32 (real), float64 (double), string (varchar), timestamp"
            )
        }
        return type
    }

    static let types: [String: ValueType] = [
        "bool": .bool, "boolean": .bool, "int32": .int32, "int": .int32, "integer": .int32, "int64": .int64,
        "bigint": .int64, "float32": .float32, "real": .float32, "float": .float32, "float64": .float64,
        "double": .float64, "string": .string, "varchar": .string, "text": .string, "timestamp": .timestamp,
    ]

    private mutating func primary() throws(ExpressionError) -> Expression {
        let token = next()
        switch token.kind {
        case .integer(let value): return Expression(.integer(value), at: token.offset)
        case .float(let value): return Expression(.float(value), at: token.offset)
        case .string(let value): return Expression(.string(value), at: token.offset)
        case .quoted(let name): return Expression(.column(name), at: token.offset)
        case .symbol("("):
            let inner = try or()
            try expect(symbol: ")", "to close the parenthesis")
            return inner
        case .identifier(let name):
            switch name.uppercased() {
            case "NULL": return Expression(.null, at: token.offset)
            case "TRUE": return Expression(.bool(true), at: token.offset)
            case "FALSE": return Expression(.bool(false), at: token.offset)
            case "CASE": return try caseExpression(at: token.offset)
            case "CAST":
                try expect(symbol: "(", "after CAST")
                let value = try or()
                try expect(keyword: "AS", "in CAST(value AS type)")
                let type = try typeName()
                try expect(symbol: ")", "to close CAST")
                return Expression(.cast(value, type), at: token.offset)
            case "TIMESTAMP":
                guard case .string(let text) = peek.kind else { break }
                at += 1
                return Expression(.cast(Expression(.string(text), at: token.offset), .timestamp), at: token.offset)
            case "INTERVAL":
                // INTERVAL '90 minutes' or INTERVAL 90 MINUTE.
                var text: String
                switch peek.kind {
                case .string(let value):
                    text = value
                    at += 1
                case .integer(let value):
                    at += 1
                    guard case .identifier(let unit) = peek.kind else {
                        throw ExpressionError(
                            "expected a unit after INTERVAL \(value)", at: peek.offset, hint: "e.g. INTERVAL 2 HOUR")
                    }
                    at += 1
                    text = "\(value) \(unit)"
                default:
                    throw ExpressionError(
                        "expected an interval after INTERVAL", at: peek.offset,
                        hint: "write INTERVAL '90 minutes' or INTERVAL 2 HOUR")
                }
                switch Dates.interval(text) {
                case .success(let parts):
                    return Expression(.interval(months: parts.months, micros: parts.micros), at: token.offset)
                case .failure(let problem):
                    throw ExpressionError(
                        "INTERVAL '\(text)': \(problem.message)", at: token.offset, hint: problem.hint)
                }
            default: break
            }
            if accept(symbol: "(") {
                var arguments: [Expression] = []
                if !accept(symbol: ")") {
                    arguments.append(try or())
                    while accept(symbol: ",") { arguments.append(try or()) }
                    try expect(symbol: ")", "to close the arguments of \(name)")
                }
                return Expression(.call(name.lowercased(), arguments), at: token.offset)
            }
            guard !ExpressionParser.reserved.contains(name.uppercased()) else {
                throw ExpressionError(
                    "unexpected \(name.uppercased())", at: token.offset,
                    hint: "a value, a column or '(' was expected; quote a column with this name: \"\(name)\"")
            }
            return Expression(.column(name), at: token.offset)
        default: break
        }
        throw ExpressionError(
            "expected a value, a column or '(', found \(token.text)", at: token.offset)
    }

    private mutating func caseExpression(at offset: Int) throws(ExpressionError) -> Expression {
        // CASE x WHEN a THEN … is CASE WHEN x = a THEN …
        let subject: Expression? = peek.keyword == "WHEN" ? nil : try or()
        var whens: [Expression.When] = []
        while accept(keyword: "WHEN") {
            var condition = try or()
            if let subject { condition = Expression(.binary(.equal, subject, condition), at: condition.offset) }
            try expect(keyword: "THEN", "after the WHEN condition")
            whens.append(Expression.When(condition: condition, value: try or()))
        }
        guard !whens.isEmpty else {
            throw ExpressionError("expected WHEN in CASE, found \(peek.text)", at: peek.offset)
        }
        let otherwise: Expression? = accept(keyword: "ELSE") ? try or() : nil
        try expect(keyword: "END", "to close CASE")
        return Expression(.caseWhen(whens, otherwise: otherwise), at: offset)
    }
}
