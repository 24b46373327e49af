import TesseraColumnar
import TesseraCore
import TesseraExpressions
import TesseraTesting
import Testing

/// Parse and type errors name the place (a column in the expression) and what was expected;
/// semantics the DuckDB oracle does not cover are pinned here.
@Suite struct ExpressionCheckTests {
    static let scope: [(name: String, type: ValueType)] = [
        ("fare", .float64), ("distance_km", .float64), ("status", .string), ("trips", .int64),
        ("event_timestamp", .timestamp), ("Fare", .int32),
    ]

    static func error(_ text: String) -> String {
        do {
            _ = try CompiledExpression.compile(text, scope: scope)
            return "no error"
        } catch {
            return "\(error.column(in: text)): \(error.message)" + (error.hint.map { " | \($0)" } ?? "")
        }
    }

    @Test(arguments: [
        ("fare +", "7: expected a value, a column or '(', found the end"),
        ("fare / nullif(distanc_km, 0)", "15: no column named 'distanc_km' | did you mean 'distance_km'?"),
        ("status = 'done", "10: this string is not closed | end it with ' (write '' for a quote inside)"),
        ("status + 1", "8: '+' needs numbers, not string and int64 | use || to join strings"),
        ("fare > 'x'", "6: cannot compare float64 with string | CAST one side to the other's type"),
        ("trips // 2.5", "7: '//' divides integers; this side is a float | use floor(a / b) for floats"),
        ("sqrtt(fare)", "1: unknown function 'sqrtt' | did you mean 'sqrt'?"),
        ("hour(fare)", "6: argument 1 of hour must be a timestamp, not float64"),
        (
            "CASE WHEN fare > 1 THEN 'a' ELSE 2 END",
            "34: the ELSE branch is int64 but the WHEN branches are string | CAST the branches to one type"
        ),
        (
            "fare::money",
            "7: unknown type 'money' | types: bool, int32 (int), int64 (bigint), float32 (real), float64 (double), string (varchar), timestamp"
        ),
        (
            "fare fare",
            "6: unexpected fare after a complete expression | an operator (AND, +, =, …) or the end was expected"
        ),
        ("NOT trips", "5: NOT needs a bool, but this is int64 | compare it, e.g. x > 0"),
        ("'é' || x", "8: no column named 'x' | columns here: fare, distance_km, status, trips, event_timestamp, Fare"),
        ("nullif(fare)", "1: nullif takes 2 arguments, not 1"),
        ("date_trunc('hourz', event_timestamp)", "12: 'hourz' is not a unit of date_trunc | did you mean 'hour'?"),
        (
            "date_diff(status, event_timestamp, event_timestamp)",
            "11: the unit of date_diff must be a string constant | e.g. date_diff('hour', …); units: microsecond, millisecond, second, minute, hour, day, week, month, quarter, year"
        ),
        (
            "date_diff('day', fare, event_timestamp)",
            "18: date_diff takes timestamps; this is float64 | CAST it to timestamp"
        ),
        (
            "INTERVAL '1 hour'",
            "1: an interval can only be added to or subtracted from a timestamp | e.g. event_timestamp - INTERVAL '1 hour'"
        ),
        ("event_timestamp + INTERVAL '1 fortnight'", "19: INTERVAL '1 fortnight': 'fortnight' is not a unit"),
        ("fare - INTERVAL '1 day'", "6: an interval moves a timestamp, not float64 | CAST the other side to timestamp"),
        (
            "99999999999999999999",
            "1: the integer 99999999999999999999 does not fit 64 bits | write it as a float (99999999999999999999.0) if that is what you mean"
        ),
    ])
    func errorsPointIntoTheExpression(_ text: String, _ expected: String) {
        #expect(ExpressionCheckTests.error(text) == expected)
    }

    static func values(_ text: String, _ columns: [(String, Column)]) throws -> [ScalarValue] {
        let compiled = try CompiledExpression.compile(text, scope: columns.map { ($0.0, $0.1.type) })
        let inputs = compiled.columns.map { used in columns.first { $0.0 == used.name }?.1 ?? Column(empty: used.type) }
        return compiled.evaluate(inputs, rows: columns.first?.1.count ?? 1).values
    }

    @Test func overflowAndIntegerDivisionByZeroAreNullFloatsAreIEEE() throws {
        let big = Column.int64([Int64.max, 7, -7, Int64.min])
        let zero = Column.int64([1, 0, 2, -1])
        #expect(
            try Self.values("n + 1", [("n", big), ("z", zero)]) == [
                .null, .int64(8), .int64(-6), .int64(Int64.min + 1),
            ])
        #expect(try Self.values("n // z", [("n", big), ("z", zero)]) == [.int64(Int64.max), .null, .int64(-3), .null])
        #expect(try Self.values("n % z", [("n", big), ("z", zero)]) == [.int64(0), .null, .int64(-1), .null])
        #expect(try Self.values("abs(n)", [("n", big)]) == [.int64(Int64.max), .int64(7), .int64(7), .null])
        let f = Column.float64([1, -1, 0, 2.5])
        let values = try Self.values("f / (f - f)", [("f", f)])
        #expect(values[0] == .float64(.infinity) && values[1] == .float64(-.infinity))
        if case .float64(let nan) = values[2] { #expect(nan.isNaN) } else { Issue.record("0/0 is \(values[2])") }
        #expect(try Self.values("CAST(f AS int64)", [("f", f)]) == [.int64(1), .int64(-1), .int64(0), .int64(2)])
        #expect(try Self.values("floor(f)", [("f", f)]) == [.float64(1), .float64(-1), .float64(0), .float64(2)])
        #expect(try Self.values("floor(n)", [("n", big)]) == big.values)
    }

    @Test func threeValuedLogicAndTheIssuesExamples() throws {
        let a = Column(type: .bool, data: .bool([true, false, false]), validity: Bitmap([true, true, false]))
        #expect(try Self.values("a AND NULL", [("a", a)]) == [.null, .bool(false), .null])
        #expect(try Self.values("a OR NULL", [("a", a)]) == [.bool(true), .null, .null])
        #expect(try Self.values("a IS NULL", [("a", a)]) == [.bool(false), .bool(false), .bool(true)])
        let status = Column.string(["completed", "cancelled", "completed"])
        let fare = Column.float64([10, 20, 30])
        let km = Column.float64([4, 0, 20])
        let rows = [("status", status), ("fare", fare), ("distance_km", km)]
        #expect(
            try Self.values("status = 'completed' AND distance_km > 0", rows) == [
                .bool(true), .bool(false), .bool(true),
            ])
        #expect(try Self.values("fare / nullif(distance_km, 0)", rows) == [.float64(2.5), .null, .float64(1.5)])
        #expect(
            try Self.values("fare * (status = 'completed')::int", rows) == [.float64(10), .float64(0), .float64(30)])
        #expect(
            try Self.values("status IN ('premium', 'completed')", rows) == [.bool(true), .bool(false), .bool(true)])
        let t = Column.timestamp([Timestamp(parsing: "2026-12-01T13:45:00Z")?.microseconds ?? 0])
        #expect(try Self.values("hour(t) * 100 + minute(t)", [("t", t)]) == [.int64(1345)])
        #expect(try Self.values("day_of_week(t)", [("t", t)]) == [.int64(2)])
        #expect(try Self.values("t > TIMESTAMP '2026-01-01 00:00:00' -- a comment", [("t", t)]) == [.bool(true)])
    }

    /// Long inputs are evaluated in chunks: the answer must be the rows' answers one by one.
    /// LIKE: `%` any run, `_` one character (not one byte), case-sensitive, nulls propagate;
    /// a pattern of many `%` stays linear.
    @Test func likeMatchesCharactersWithWildcards() throws {
        let s =
            Column(
                type: .string, scalars: [.string("héllo"), .string("hello"), .string(""), .null, .string("Abc")])
            ?? Column(empty: .string)
        #expect(
            try Self.values("s LIKE 'h_llo'", [("s", s)]) == [
                .bool(true), .bool(true), .bool(false), .null, .bool(false),
            ])
        #expect(
            try Self.values("s LIKE '%'", [("s", s)]) == [.bool(true), .bool(true), .bool(true), .null, .bool(true)])
        #expect(
            try Self.values("s NOT LIKE 'a%'", [("s", s)]) == [
                .bool(true), .bool(true), .bool(true), .null, .bool(true),
            ])
        #expect(
            try Self.values("s LIKE '%l%o'", [("s", s)]) == [
                .bool(true), .bool(true), .bool(false), .null, .bool(false),
            ])
        #expect(try Self.values("s LIKE NULL", [("s", s)]) == [.null, .null, .null, .null, .null])
        let long =
            Column(type: .string, scalars: [.string(String(repeating: "a", count: 5_000))]) ?? Column(empty: .string)
        #expect(try Self.values("s LIKE '%a%a%a%a%a%a%a%b'", [("s", long)]) == [.bool(false)])
        #expect(
            ExpressionCheckTests.error("status LIKE 3").contains("a string"),
            "\(ExpressionCheckTests.error("status LIKE 3"))")
    }

    /// list_length and list_element over random lists (null lists, null elements, every index
    /// from -6 to 6, more rows than a chunk) equal a brute force; lists are read only by them.
    @Test func listFunctionsMatchABruteForce() throws {
        var rng = SplitMixRNG(seed: 0x11575)
        let n = 20_000
        var lists: [ScalarValue] = []
        var words: [ScalarValue] = []
        var indexes: [ScalarValue] = []
        for _ in 0..<n {
            if rng.below(10) == 0 {
                lists.append(.null)
                words.append(.null)
            } else {
                let count = rng.below(5)
                lists.append(
                    .list((0..<count).map { _ in rng.below(6) == 0 ? .null : .int64(Int64(rng.below(100)) - 50) }))
                words.append(.list((0..<count).map { _ in .string(["a", "bé", "c"][rng.below(3)]) }))
            }
            indexes.append(rng.below(12) == 0 ? .null : .int64(Int64(rng.below(13)) - 6))
        }
        let l = try #require(Column(type: .list(.int64), scalars: lists))
        let w = try #require(Column(type: .list(.string), scalars: words))
        let i = try #require(Column(type: .int64, scalars: indexes))
        let scope: [(name: String, type: ValueType)] = [("l", .list(.int64)), ("w", .list(.string)), ("i", .int64)]
        func run(_ text: String) throws -> [ScalarValue] {
            let compiled = try CompiledExpression.compile(text, scope: scope)
            let inputs = compiled.columns.map { c in c.name == "l" ? l : c.name == "w" ? w : i }
            return compiled.evaluate(inputs, rows: n).values
        }
        func element(_ list: ScalarValue, _ index: ScalarValue) -> ScalarValue {
            guard case .list(let items) = list, case .int64(let k) = index else { return .null }
            if k >= 1 && k <= Int64(items.count) { return items[Int(k) - 1] }
            if k <= -1 && -k <= Int64(items.count) { return items[items.count + Int(k)] }
            return .null
        }
        let lengths = try run("list_length(l)")
        let elements = try run("list_element(l, i)")
        let last = try run("list_element(l, -1) * 2")
        let upper = try run("upper(list_element(w, i))")
        for row in 0..<n {
            guard case .list(let items) = lists[row] else {
                #expect(lengths[row] == .null && elements[row] == .null && last[row] == .null, "row \(row)")
                continue
            }
            #expect(lengths[row] == .int64(Int64(items.count)), "row \(row)")
            #expect(elements[row] == element(lists[row], indexes[row]), "row \(row)")
            let lastValue: ScalarValue = {
                if case .int64(let v) = element(lists[row], .int64(-1)) { return .int64(v * 2) }
                return .null
            }()
            #expect(last[row] == lastValue, "row \(row)")
            var word = element(words[row], indexes[row])
            if case .string(let text) = word { word = .string(text.uppercased()) }
            #expect(upper[row] == word, "row \(row)")
        }
        func error(_ text: String) -> String {
            do {
                _ = try CompiledExpression.compile(text, scope: scope)
                return "no error"
            } catch {
                return "\(error.column(in: text)): \(error.message)"
            }
        }
        #expect(error("l + 1") == "1: column 'l' is list<int64>: read it with list_length or list_element")
        #expect(error("list_length(i)") == "13: list_length reads a list column; 'i' is int64")
        #expect(error("list_element(l, 'x')") == "17: the index of list_element must be an integer, not string")
        #expect(error("list_length(l, 1)") == "1: list_length takes 1 argument (a list column), not 2")
    }

    @Test func chunkedEvaluationEqualsRowByRow() throws {
        let n = 20_011
        var rng = SplitMixRNG(seed: 99)
        let x = Column(
            type: .float64, data: .float64((0..<n).map { _ in Double(rng.below(2000)) / 8 - 100 }),
            validity: Bitmap((0..<n).map { _ in rng.below(9) != 0 }))
        let a = Column.int64((0..<n).map { _ in Int64(rng.below(50)) - 25 })
        let s = Column.string((0..<n).map { _ in ["ab", "", "héllo", "x"][rng.below(4)] })
        let scope: [(name: String, type: ValueType)] = [("x", .float64), ("a", .int64), ("s", .string)]
        for text in [
            "CASE WHEN x > 0.5 THEN (x * 2.0 + a) / (a + 1.5) ELSE abs(x - a) * 0.25 END + a * 3",
            "s || upper(s) || CAST(a // nullif(a % 7, 0) AS string)", "coalesce(x, a) > 3 AND s <> 'x'",
            "a * 3 + a // nullif(a % 5, 0)",
        ] {
            let compiled = try CompiledExpression.compile(text, scope: scope)
            let inputs = compiled.columns.map { used in [("x", x), ("a", a), ("s", s)].first { $0.0 == used.name }!.1 }
            let whole = compiled.evaluate(inputs, rows: n)
            #expect(whole.count == n)
            for row in stride(from: 0, to: n, by: 97) {
                let one = compiled.evaluate(inputs.map { $0.take([row]) }, rows: 1)
                #expect(whole.value(at: row) == one.value(at: 0), "\(text) row \(row)")
            }
        }
    }
}
