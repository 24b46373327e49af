import Foundation
import TesseraColumnar
import TesseraCore
import TesseraExpressions
import TesseraFormats
import TesseraTesting
import Testing

/// Random expressions over random typed columns with nulls, evaluated by Tessera and by
/// DuckDB (`scripts/checks/expression_oracle.py`): equal row by row, floats to the bit.
@Suite struct ExpressionOracleTests {
    static let rows = 120

    struct Generator {
        var rng: SplitMixRNG

        mutating func pick<T>(_ options: [T]) -> T { options[rng.below(options.count)] }

        /// (Tessera's text, DuckDB's) of an expression of `kind` with at most `depth` levels.
        mutating func make(_ kind: String, _ depth: Int) -> (String, String) {
            if depth == 0 || rng.below(4) == 0 { return leaf(kind) }
            let d = depth - 1
            switch kind {
            case "int":
                switch rng.below(11) {
                case 0, 1, 2:
                    let op = pick(["+", "-", "*"])
                    return binary(make("int", d), op, make("int", d))
                case 3:
                    let op = pick(["//", "%"])
                    let (l, r) = (make("int", d), make("int", d))
                    return ("(\(l.0) \(op) nullif(\(r.0), 0))", "(\(l.1) \(op) nullif(\(r.1), 0))")
                case 4: return call("abs", [make("int", d)])
                case 5:
                    return call(pick(["coalesce", "least", "greatest", "nullif"]), [make("int", d), make("int", d)])
                case 6: return caseWhen(make("bool", d), make("int", d), make("int", d))
                case 7: return call("length", [make("string", d)])
                case 8:
                    let v = make("int", d)
                    return ("(- \(v.0))", "(- \(v.1))")
                // floor, ceil and round of integers are integers here, doubles in DuckDB (unit tests).
                case 9: return call("abs", [make("int", d)])
                default:
                    let v = make("bool", d)
                    return ("CAST(\(v.0) AS bigint)", "CAST(\(v.1) AS BIGINT)")
                }
            case "float":
                switch rng.below(9) {
                case 0, 1, 2:
                    let op = pick(["+", "-", "*", "/"])
                    return rng.below(3) == 0
                        ? binary(make("int", d), op, make("float", d)) : binary(make("float", d), op, make("float", d))
                case 3: return call(pick(["round", "floor", "ceil", "abs"]), [make("float", d)])
                case 4:
                    let v = make("float", d)
                    return ("sqrt(abs(\(v.0)))", "sqrt(abs(\(v.1)))")
                case 5:
                    return call(
                        pick(["coalesce", "least", "greatest", "nullif"]), [make("float", d), make("float", d)])
                case 6: return caseWhen(make("bool", d), make("float", d), make("int", d))
                case 7:
                    let (v, digits) = (make("float", d), Int(rng.below(4)))
                    return ("round(\(v.0), \(digits))", "round(\(v.1), \(digits))")
                default:
                    let v = make("int", d)
                    return ("(\(v.0) / 4)", "(\(v.1) / 4::BIGINT)")
                }
            case "bool":
                switch rng.below(10) {
                case 0, 1:
                    let op = pick(["=", "<>", "<", "<=", ">", ">="])
                    let side = pick(["int", "float", "string"])
                    return binary(make(side, d), op, make(side == "string" ? "string" : pick(["int", "float"]), d))
                case 2, 3:
                    return binary(make("bool", d), pick(["AND", "OR"]), make("bool", d))
                case 4:
                    let v = make("bool", d)
                    return ("(NOT \(v.0))", "(NOT \(v.1))")
                case 5:
                    let v = make(pick(["int", "float", "string", "bool"]), d)
                    let not = rng.below(2) == 0 ? "" : " NOT"
                    return ("(\(v.0) IS\(not) NULL)", "(\(v.1) IS\(not) NULL)")
                case 6:
                    let v = make("int", d)
                    let items = (0..<3).map { _ in leaf("int") }
                    return (
                        "(\(v.0) IN (\(items.map(\.0).joined(separator: ", "))))",
                        "(\(v.1) IN (\(items.map(\.1).joined(separator: ", "))))"
                    )
                case 7:
                    let (v, lo, hi) = (make("float", d), leaf("int"), leaf("float"))
                    return ("(\(v.0) BETWEEN \(lo.0) AND \(hi.0))", "(\(v.1) BETWEEN \(lo.1) AND \(hi.1))")
                case 8:
                    if rng.below(2) == 0 {
                        let v = make("string", d)
                        let pattern = pick([
                            "'a%'", "'%b'", "'_b%'", "'%'", "''", "'A_'", "'h_llo'", "'%b%'", "'_'", "'%_c'",
                        ])
                        let not = rng.below(3) == 0 ? " NOT" : ""
                        return ("(\(v.0)\(not) LIKE \(pattern))", "(\(v.1)\(not) LIKE \(pattern))")
                    }
                    return call(pick(["starts_with", "contains", "ends_with"]), [make("string", d), leaf("string")])
                default: return caseWhen(make("bool", d), make("bool", d), make("bool", d))
                }
            default:
                switch rng.below(6) {
                case 0: return binary(make("string", d), "||", make("string", d))
                case 1: return call(pick(["lower", "upper", "trim"]), [make("string", d)])
                case 2:
                    let (v, start, length) = (make("string", d), Int(rng.below(7)) - 3, Int(rng.below(4)))
                    return ("substr(\(v.0), \(start), \(length))", "substr(\(v.1), \(start), \(length))")
                case 3: return call("coalesce", [make("string", d), make("string", d)])
                case 4: return call("concat", [make("string", d), make("string", d)])
                default: return caseWhen(make("bool", d), make("string", d), make("string", d))
                }
            }
        }

        mutating func leaf(_ kind: String) -> (String, String) {
            switch kind {
            case "int":
                if rng.below(2) == 0 { return same(pick(["a", "b"])) }
                let v = Int(rng.below(201)) - 100
                return ("\(v)", "CAST(\(v) AS BIGINT)")
            case "float":
                if rng.below(2) == 0 { return same(pick(["x", "y"])) }
                let v = pick(["0.5", "2.25", "-3.75", "0.1", "100.0", "-0.0", "1e-3"])
                // DuckDB reads -0.0 as a decimal (which has no negative zero): negate the double.
                return (v, v.hasPrefix("-") ? "(-CAST(\(v.dropFirst()) AS DOUBLE))" : "CAST(\(v) AS DOUBLE)")
            case "bool":
                if rng.below(2) == 0 { return same("p") }
                return same(pick(["TRUE", "FALSE", "NULL"]))
            default:
                if rng.below(2) == 0 { return same(pick(["s", "t"])) }
                return same(pick(["'ab'", "''", "'B'", "'héllo'", "' x '"]))
            }
        }

        func same(_ text: String) -> (String, String) { (text, text) }
        func binary(_ l: (String, String), _ op: String, _ r: (String, String)) -> (String, String) {
            ("(\(l.0) \(op) \(r.0))", "(\(l.1) \(op) \(r.1))")
        }
        func call(_ name: String, _ args: [(String, String)]) -> (String, String) {
            ("\(name)(\(args.map(\.0).joined(separator: ", ")))", "\(name)(\(args.map(\.1).joined(separator: ", ")))")
        }
        func caseWhen(_ c: (String, String), _ a: (String, String), _ b: (String, String)) -> (String, String) {
            ("(CASE WHEN \(c.0) THEN \(a.0) ELSE \(b.0) END)", "(CASE WHEN \(c.1) THEN \(a.1) ELSE \(b.1) END)")
        }
    }

    static func data(seed: UInt64) -> [(name: String, column: Column)] {
        var rng = SplitMixRNG(seed: seed)
        func nulls() -> Bitmap { Bitmap((0..<rows).map { _ in rng.below(7) != 0 }) }
        let floats = [0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 3.14159, -7.25, 1e-3, 123.456, 1000.0, 0.1, 0.2]
        let strings = ["", "ab", "Ab", "B", "héllo", " x ", "abc", "b"]
        func ints(_ range: Int, _ shift: Int) -> Column {
            Column(
                type: .int64, data: .int64((0..<rows).map { _ in Int64(rng.below(range) - shift) }), validity: nulls())
        }
        func text() -> Column {
            let values = (0..<rows).map { _ in strings[rng.below(strings.count)] }
            return Column(type: .string, data: .binary(BinaryData(strings: values)), validity: nulls())
        }
        let a = ints(201, 100)
        let b = ints(21, 10)
        let x = Column(
            type: .float64, data: .float64((0..<rows).map { _ in floats[rng.below(floats.count)] }), validity: nulls())
        let y = Column(
            type: .float64, data: .float64((0..<rows).map { _ in Double(rng.below(20001) - 10000) / 64 }),
            validity: nulls())
        let s = text()
        let t = text()
        let p = Column(type: .bool, data: .bool((0..<rows).map { _ in rng.below(2) == 0 }), validity: nulls())
        return [("a", a), ("b", b), ("x", x), ("y", y), ("s", s), ("t", t), ("p", p)]
    }

    static func show(_ value: ScalarValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let v): v ? "true" : "false"
        case .int32(let v): String(v)
        case .int64(let v): String(v)
        case .float32(let v): "f:\(v)"
        case .float64(let v): "f:\(v)"
        case .string(let v):
            "s:" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
        default: "\(value)"
        }
    }

    /// Whether Tessera's value (as `show` writes it) is DuckDB's: floats to the bit.
    static func agree(_ ours: String, _ theirs: String) -> Bool {
        if ours == theirs { return true }
        guard ours.hasPrefix("f:") else {
            // floor and ceil of an integer are integers here, doubles in DuckDB: equal values.
            guard let a = Int64(ours), let b = Double(theirs) else { return false }
            return Double(a) == b
        }
        guard let a = Double(ours.dropFirst(2)), let b = Double(theirs) else { return false }
        return (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
    }

    /// DuckDB's answer line for each of `sql` over `columns` (written to Parquet in `dir`).
    static func duckDB(_ columns: [(name: String, column: Column)], _ sql: [String], in dir: TemporaryDirectory)
        throws -> [String]
    {
        let batch = try RecordBatch(
            schema: Schema(columns.map { Field($0.name, $0.column.type) }), columns: columns.map(\.column))
        let writer = try ParquetWriter(path: dir.file("data.parquet"), schema: batch.schema)
        try writer.write(batch)
        try writer.close()
        try sql.joined(separator: "\n").appending("\n")
            .write(toFile: dir.file("expressions.txt"), atomically: true, encoding: .utf8)
        let script = PythonOracle.packageRoot.appendingPathComponent("scripts/checks/expression_oracle.py").path
        let output = try PythonOracle.runFile(
            script, arguments: [dir.file("data.parquet"), dir.file("expressions.txt")])
        return output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomExpressionsAgreeWithDuckDB(seed: UInt64) throws {
        let dir = try TemporaryDirectory()
        let columns = ExpressionOracleTests.data(seed: seed)
        var generator = Generator(rng: SplitMixRNG(seed: seed &* 7919))
        let kinds = ["int", "float", "bool", "string"]
        let expressions = (0..<400).map { i in generator.make(kinds[i % 4], 3) }
        let answers = try ExpressionOracleTests.duckDB(columns, expressions.map(\.1), in: dir)
        let scope = columns.map { (name: $0.name, type: $0.column.type) }
        var compared = 0
        var rowByRow = 0
        for (index, expression) in expressions.enumerated() {
            let answer = answers.indices.contains(index) ? answers[index] : "error: no answer"
            // DuckDB refuses a few (an out-of-range cast of a float): none of them may crash Tessera.
            let compiled: CompiledExpression
            do {
                compiled = try CompiledExpression.compile(expression.0, scope: scope)
            } catch {
                Issue.record("\(expression.0): \(error)")
                continue
            }
            let inputs = compiled.columns.map { used in columns.first { $0.name == used.name }!.column }
            let result = compiled.evaluate(inputs, rows: ExpressionOracleTests.rows)
            #expect(result.count == ExpressionOracleTests.rows)
            if compiled.evaluatesRowByRow {
                rowByRow += 1
                ExpressionOracleTests.checkRowByRow(compiled, inputs, result, expression.0)
            }
            if answer.hasPrefix("error:") { continue }
            compared += 1
            let theirs = answer.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(theirs.count == ExpressionOracleTests.rows, "\(expression.1)")
            for row in 0..<min(theirs.count, result.count) {
                let ours = ExpressionOracleTests.show(result.value(at: row))
                if !ExpressionOracleTests.agree(ours, theirs[row]) {
                    Issue.record("row \(row) of \(expression.0): tessera \(ours), duckdb \(theirs[row])")
                    break
                }
            }
        }
        #expect(compared >= expressions.count * 9 / 10, "DuckDB answered only \(compared) of \(expressions.count)")
        #expect(rowByRow >= expressions.count / 3, "only \(rowByRow) expressions ran row by row")
    }

    /// The row evaluator gives the vector evaluator's value on every row (floats to the bit).
    static func checkRowByRow(_ compiled: CompiledExpression, _ inputs: [Column], _ result: Column, _ text: String) {
        for row in 0..<result.count {
            let one = compiled.value(row: inputs.map { $0.value(at: row) })
            let whole = result.value(at: row)
            let same: Bool
            switch (one, whole) {
            case (.float64(let a), .float64(let b)): same = a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
            case (.float32(let a), .float32(let b)): same = a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
            default: same = one == whole
            }
            if !same {
                Issue.record("row \(row) of \(text): row by row \(one), vectors \(whole)")
                return
            }
        }
    }

    /// `date_trunc`, `date_diff` and interval arithmetic over random timestamps from 1900 to
    /// 2100 (microseconds, nulls, times before 1970), every unit, against DuckDB row by row.
    /// Timestamps are compared as microseconds from the epoch (`date_diff('microsecond', …)`).
    @Test func dateFunctionsAgreeWithDuckDB() throws {
        let dir = try TemporaryDirectory()
        var rng = SplitMixRNG(seed: 0xDA7E)
        let lo = Timestamp.daysFromCivil(year: 1900, month: 1, day: 1) * 86_400_000_000
        let hi = Timestamp.daysFromCivil(year: 2100, month: 1, day: 1) * 86_400_000_000
        func times() -> Column {
            let values = (0..<ExpressionOracleTests.rows).map { i -> Int64 in
                // Every fourth row sits on a month end or the epoch, where calendars differ.
                switch i % 8 {
                case 0:
                    return Timestamp.daysFromCivil(year: 2024, month: Int64(1 + rng.below(12)), day: 31)
                        * 86_400_000_000
                case 4: return Int64(rng.below(2_000_001)) - 1_000_000
                default: return lo + Int64(rng.below(Int(hi - lo)))
                }
            }
            return Column(
                type: .timestamp, data: .int64(values),
                validity: Bitmap((0..<ExpressionOracleTests.rows).map { _ in rng.below(9) != 0 }))
        }
        let columns: [(name: String, column: Column)] = [("t", times()), ("u", times())]
        let epoch = "TIMESTAMP '1970-01-01 00:00:00'"
        let units = [
            "microsecond", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year",
        ]
        var expressions: [(String, String)] = []
        for unit in units {
            expressions.append(
                (
                    "date_diff('microsecond', \(epoch), date_trunc('\(unit)', t))",
                    "date_diff('microsecond', \(epoch), date_trunc('\(unit)', t::TIMESTAMP))"
                ))
            expressions.append(("date_diff('\(unit)', t, u)", "date_diff('\(unit)', t::TIMESTAMP, u::TIMESTAMP)"))
        }
        for interval in [
            "'1 month'", "'-13 months'", "'1 year'", "'90 minutes'", "'2 days 3 hours'", "'1 quarter'", "'-1 week'",
            "'1 month 1 day'",
        ] {
            expressions.append(
                (
                    "date_diff('microsecond', \(epoch), t + INTERVAL \(interval))",
                    "date_diff('microsecond', \(epoch), t::TIMESTAMP + INTERVAL \(interval))"
                ))
            expressions.append(
                (
                    "date_diff('microsecond', \(epoch), t - INTERVAL \(interval))",
                    "date_diff('microsecond', \(epoch), t::TIMESTAMP - INTERVAL \(interval))"
                ))
        }
        expressions.append(("hour(t - INTERVAL 90 MINUTE)", "hour(t::TIMESTAMP - INTERVAL 90 MINUTE)"))
        expressions.append(
            (
                "t - INTERVAL '1 day' < date_trunc('day', u)",
                "t::TIMESTAMP - INTERVAL '1 day' < date_trunc('day', u::TIMESTAMP)"
            ))
        let answers = try ExpressionOracleTests.duckDB(columns, expressions.map(\.1), in: dir)
        let scope = columns.map { (name: $0.name, type: $0.column.type) }
        var rowByRow = 0
        defer { #expect(rowByRow == expressions.count - 1, "hour() is the one call here") }
        for (index, expression) in expressions.enumerated() {
            let answer = answers.indices.contains(index) ? answers[index] : "error: no answer"
            #expect(!answer.hasPrefix("error"), "DuckDB: \(expression.1): \(answer)")
            let compiled = try CompiledExpression.compile(expression.0, scope: scope)
            let result = compiled.evaluate(columns.map(\.column), rows: ExpressionOracleTests.rows)
            if compiled.evaluatesRowByRow {
                rowByRow += 1
                ExpressionOracleTests.checkRowByRow(
                    compiled,
                    compiled.columns.map { used in
                        columns.first { $0.name == used.name }?.column ?? Column(empty: used.type)
                    }, result, expression.0)
            }
            let theirs = answer.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(theirs.count == ExpressionOracleTests.rows, "\(expression.0)")
            for row in 0..<min(theirs.count, ExpressionOracleTests.rows) {
                let ours = ExpressionOracleTests.show(result.value(at: row))
                #expect(ours == theirs[row], "\(expression.0) row \(row): t=\(columns[0].column.value(at: row))")
            }
        }
    }
}
