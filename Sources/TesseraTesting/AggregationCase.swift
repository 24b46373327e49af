import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import Testing

/// A random window-aggregation case for comparing an offline engine with the native one:
/// source rows over few keys and seconds (ties, windows' edges and empty windows are
/// common), with the values exact sums and orders trip on — signed zeros, infinities, NaN,
/// subnormals, 1e300 beside 1e-300, 0.1 + 0.2, int64's limits, strings whose byte order is
/// not a collation's — and entity rows with null keys and times.
public struct AggregationCase {
    public static let base: Int64 = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z
    public static let names = ["driver_id", "ts", "value", "n", "m", "name", "flag", "f", "at"]

    public var rows: RecordBatch
    public var entities: RecordBatch
    public var stringKeys: Bool
    /// The views' filter, or `nil`.
    public var filter: String?

    /// Filters over the columns: comparisons (strings by their bytes, NaN equal to itself),
    /// three-valued logic, IN and BETWEEN; the last uses arithmetic, which the SQL engines
    /// leave to the native engine.
    public static let filters = [
        "value > 0.5 AND name <> 'a'", "n IS NOT NULL OR flag", "name IN ('b', 'ç', 'Z') OR m >= 10",
        "NOT (value < 3)", "name > 'Z'", "value = value", "f BETWEEN -2 AND 1.5", "m NOT IN (1, 2, 3) AND NOT flag",
        "value / 2 > 1",
    ]
    public static let untranslatedFilter = "value / 2 > 1"

    static let doubles: [Double] = [
        0.1, 0.2, 0.3, -0.0, 0.0, 1e300, -1e300, 1e-300, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        2.2250738585072014e-308, .infinity,
        -.infinity, .nan, 1.5, -2.75, 123456.789, 3e-5, 1e16, 1.0000000000000002, -1e16, 7,
    ]
    static let integers: [Int64] = [0, 1, -1, 42, Int64.max, Int64.min, Int64.max - 1, 1 << 53 + 1, -(1 << 60)]
    static let floats: [Float] = [0, -0.0, 1.5, -3.25, .infinity, .nan, Float(bitPattern: 0x0001_0000), 3.4e38, 0.1]

    public init(seed: UInt64) throws {
        var rng = SplitMixRNG(seed: seed)
        stringKeys = rng.below(4) == 0
        filter = rng.below(5) < 2 ? nil : Self.filters[rng.below(Self.filters.count)]
        let strings = stringKeys
        func maybe(_ value: ScalarValue, nullOneIn n: Int) -> ScalarValue { rng.below(n) == 0 ? .null : value }
        func key(_ k: Int) -> ScalarValue { strings ? .string("k\(k)") : .int64(Int64(k)) }
        func instant(_ seconds: Int) -> ScalarValue {
            .timestamp(Timestamp(microseconds: Self.base + Int64(seconds) * 1_000_000))
        }
        // Mostly ordinary values, so that sums are not all infinite or NaN.
        let wild = rng.below(3) == 0
        func double() -> Double {
            if wild || rng.below(4) == 0 { return Self.doubles[rng.below(Self.doubles.count)] }
            return Double(rng.below(100_000)) / 64 - 700
        }
        var columns: [[ScalarValue]] = Array(repeating: [], count: Self.names.count)
        for _ in 0..<(rng.below(50) + 1) {
            columns[0].append(maybe(key(rng.below(5)), nullOneIn: 12))
            columns[1].append(maybe(instant(rng.below(12)), nullOneIn: 15))
            columns[2].append(maybe(.float64(double()), nullOneIn: 5))
            let big = rng.below(5) == 0
            columns[3].append(
                maybe(
                    .int64(big ? Self.integers[rng.below(Self.integers.count)] : Int64(rng.below(200)) - 100),
                    nullOneIn: 5))
            columns[4].append(maybe(.int32(Int32(rng.below(2000)) - 1000), nullOneIn: 5))
            columns[5].append(maybe(.string(["a", "b", "ç", "a b", "", "Z", "é"][rng.below(7)]), nullOneIn: 5))
            columns[6].append(maybe(.bool(rng.below(2) == 0), nullOneIn: 5))
            columns[7].append(
                maybe(
                    .float32(
                        rng.below(3) == 0 ? Self.floats[rng.below(Self.floats.count)] : Float(rng.below(64)) / 4 - 8),
                    nullOneIn: 5))
            columns[8].append(maybe(instant(rng.below(1000) - 500), nullOneIn: 5))
        }
        let types: [ValueType] = [
            strings ? .string : .int64, .timestamp, .float64, .int64, .int32, .string, .bool, .float32, .timestamp,
        ]
        rows = try RecordBatch(
            schema: Schema(zip(Self.names, types).map { Field($0, $1) }),
            columns: try zip(types, columns).map { type, values in try #require(Column(type: type, scalars: values)) })
        var keys: [ScalarValue] = []
        var times: [ScalarValue] = []
        for _ in 0..<(rng.below(30) + 1) {
            keys.append(maybe(key(rng.below(6)), nullOneIn: 10))
            times.append(maybe(instant(rng.below(16)), nullOneIn: 10))
        }
        let keyColumn = try #require(Column(type: strings ? .string : .int64, scalars: keys))
        let timeColumn = try #require(Column(type: .timestamp, scalars: times))
        entities = try RecordBatch(
            schema: Schema([Field("driver_id", keyColumn.type), Field("event_timestamp", .timestamp)]),
            columns: [keyColumn, timeColumn])
    }

    /// The view `driver_aggs` over source `stats` (`kind`), with every function a SQL
    /// engine computes, over 2 s, 5 s and lifetime windows, the view `driver_sketches`
    /// with one it leaves to the native engine beside one it computes, and `driver_latest`,
    /// plain features with a 5 s ttl; all with the case's filter.
    public func definitions(_ kind: SourceKind) -> Definitions {
        let windows: [AggregationWindow] = [.length(.seconds(2)), .length(.seconds(5)), .lifetime]
        var features: [Feature] = []
        func add(_ column: String?, _ input: ValueType?, _ functions: [AggregateFunction]) {
            for function in functions {
                for window in windows {
                    let name = "\(column ?? "rows")_\(function.nameComponent)_\(window)"
                    features.append(
                        Feature(
                            name, function.resultType(input: input),
                            aggregation: Aggregation(
                                column: column, inputType: input, function: function, window: window)
                        ))
                }
            }
        }
        add(nil, nil, [.count])
        add("value", .float64, [.count, .sum, .mean, .min, .max, .variance, .stddev])
        add("n", .int64, [.sum, .mean, .min, .max, .variance])
        add("m", .int32, [.sum, .min, .max, .mean])
        add("name", .string, [.count, .min, .max])
        add("flag", .bool, [.min, .max])
        add("f", .float32, [.sum, .min, .max, .stddev])
        add("at", .timestamp, [.min, .max])
        let sketches = [
            Feature(
                "value_last", .float64,
                aggregation: Aggregation(column: "value", inputType: .float64, function: .last, window: .lifetime)),
            Feature(
                "value_sum_3s", .float64,
                aggregation: Aggregation(
                    column: "value", inputType: .float64, function: .sum, window: .length(.seconds(3)))),
        ]
        let latest = [
            Feature("value", .float64), Feature("name", .string), Feature("n", .int64), Feature("flag", .bool),
        ]
        var views = [
            FeatureView(name: "driver_aggs", entities: ["driver"], source: "stats", features: features),
            FeatureView(name: "driver_sketches", entities: ["driver"], source: "stats", features: sketches),
            FeatureView(
                name: "driver_latest", entities: ["driver"], source: "stats", features: latest, ttl: .seconds(5)),
        ]
        if let filter {
            for i in views.indices {
                views[i].filter = filter
                // What checking the definitions resolves from the source.
                views[i].expressionInputs = [
                    "value": .float64, "n": .int64, "m": .int32, "name": .string, "flag": .bool, "f": .float32,
                ]
            }
        }
        return Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", stringKeys ? .string : .int64)])],
            sources: [DataSource(name: "stats", kind: kind, timestampField: "ts")], featureViews: views)
    }

    /// The source as PostgreSQL statements (rows inserted in order).
    public func sql(table: String) -> String {
        let types = [
            // A linguistic collation ('a' < 'Z'), so that only byte order gives the native results.
            stringKeys ? "text" : "bigint", "timestamptz", "float8", "bigint", "integer", "text COLLATE \"und-x-icu\"",
            "boolean", "real", "timestamptz",
        ]
        var out =
            "CREATE TABLE \(table) (\(zip(Self.names, types).map { "\($0) \($1)" }.joined(separator: ", ")));\n"
        func literal(_ value: ScalarValue) -> String {
            switch value {
            case .null: return "NULL"
            case .string(let s): return "'\(s)'"
            case .int64(let v): return "\(v)"
            case .int32(let v): return "\(v)"
            case .bool(let v): return v ? "true" : "false"
            case .timestamp(let t): return "'\(t.iso8601)'"
            case .float64(let v):
                return v.isNaN ? "'NaN'" : (v.isInfinite ? (v < 0 ? "'-Infinity'" : "'Infinity'") : "'\(v)'")
            case .float32(let v):
                return v.isNaN ? "'NaN'" : (v.isInfinite ? (v < 0 ? "'-Infinity'" : "'Infinity'") : "'\(v)'")
            default: return "NULL"
            }
        }
        guard rows.rowCount > 0 else { return out }
        let values = (0..<rows.rowCount).map { r in
            "(" + rows.columns.map { literal($0.value(at: r)) }.joined(separator: ", ") + ")"
        }
        out += "INSERT INTO \(table) VALUES " + values.joined(separator: ", ") + ";\n"
        return out
    }

    /// Whether `--explain`'s `plan` says the native engine computes `view`.
    public static func runsNatively(_ view: String, _ plan: String) -> Bool {
        let lines = plan.split(separator: "\n").filter { $0.hasPrefix("-- \(view): ") }
        return !lines.isEmpty && lines.allSatisfy { $0.contains("by the native engine") }
    }

    /// The differences between two training sets, floats compared by their bits (any NaN
    /// equals any NaN; −0.0 and +0.0 differ).
    public static func differences(_ ours: RecordBatch, _ theirs: RecordBatch) -> [String] {
        guard ours.schema == theirs.schema, ours.rowCount == theirs.rowCount else {
            return [
                "shapes differ: \(ours.schema.names) × \(ours.rowCount) and \(theirs.schema.names) × \(theirs.rowCount)"
            ]
        }
        func same(_ a: ScalarValue, _ b: ScalarValue) -> Bool {
            switch (a, b) {
            case (.float64(let x), .float64(let y)): return (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
            case (.float32(let x), .float32(let y)): return (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
            default: return a == b
            }
        }
        var out: [String] = []
        for (field, (a, b)) in zip(ours.schema.fields, zip(ours.columns, theirs.columns)) {
            for r in 0..<a.count where !same(a.value(at: r), b.value(at: r)) {
                out.append("\(field.name) row \(r): \(a.value(at: r)) against \(b.value(at: r))")
            }
        }
        return out
    }
}
