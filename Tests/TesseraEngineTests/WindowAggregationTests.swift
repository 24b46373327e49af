import PropertyBased
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import Testing

/// Window aggregations in training sets against a brute-force oracle: for every entity row
/// and feature, the function computed directly over the rows with `t − W <= event < t`.
@Suite struct WindowAggregationTests {
    static let functions: [AggregateFunction] = [
        .sum, .count, .mean, .min, .max, .first, .last, .lastN(3), .stddev, .variance, .approxCountDistinct,
        .approxPercentile(0.5), .approxPercentile(0.9),
    ]
    static let windows: [AggregationWindow] = [
        .length(.init(microseconds: 1)), .length(.init(microseconds: 5)), .lifetime,
    ]

    /// A view over `s` with every function over `fare` (float64) and `n` (int64), and a bare count, per window.
    static func definitions() -> Definitions {
        var features: [Feature] = []
        for (w, window) in windows.enumerated() {
            features.append(
                Feature("count_\(w)", .int64, aggregation: Aggregation(column: nil, function: .count, window: window)))
            for (f, function) in functions.enumerated() {
                for (column, type) in [("fare", ValueType.float64), ("n", ValueType.int64)] {
                    features.append(
                        Feature(
                            "\(column)_\(f)_\(w)", function.resultType(input: type),
                            aggregation: Aggregation(
                                column: column, inputType: type, function: function, window: window)))
                }
            }
        }
        return Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
            sources: [
                DataSource(
                    name: "s", kind: .file(path: "s", format: .parquet), timestampField: "ts",
                    createdTimestampField: "created")
            ],
            featureViews: [FeatureView(name: "v", entities: ["driver"], source: "s", features: features, online: false)]
        )
    }

    struct Event {
        var key: Int64
        var time: Int64
        var created: Int64
        var fare: Double?
        var n: Int64?
    }

    /// The function over `rows` (already the window's), the obvious way.
    static func oracle(_ function: AggregateFunction, _ rows: [Event], column: String) -> ScalarValue {
        let present = rows.filter { column == "fare" ? $0.fare != nil : $0.n != nil }
        func double(_ e: Event) -> Double { column == "fare" ? e.fare ?? 0 : Double(e.n ?? 0) }
        func scalar(_ e: Event) -> ScalarValue { column == "fare" ? .float64(e.fare ?? 0) : .int64(e.n ?? 0) }
        if function == .count { return .int64(Int64(present.count)) }
        guard !present.isEmpty else { return .null }
        // Fares are multiples of 0.25 below 64: every sum of them is exact in any order.
        let total = present.reduce(0.0) { $0 + double($1) }
        let ordered = present.sorted {
            ($0.time, $0.created, double($0)) < ($1.time, $1.created, double($1))
        }
        switch function {
        case .sum: return column == "fare" ? .float64(total) : .int64(present.reduce(0) { $0 + ($1.n ?? 0) })
        case .mean: return .float64(total / Double(present.count))
        case .min:
            return column == "fare"
                ? .float64(present.map(double).min() ?? 0) : .int64(present.map { $0.n ?? 0 }.min() ?? 0)
        case .max:
            return column == "fare"
                ? .float64(present.map(double).max() ?? 0) : .int64(present.map { $0.n ?? 0 }.max() ?? 0)
        case .first: return scalar(ordered[0])
        case .last: return scalar(ordered[ordered.count - 1])
        case .lastN(let k): return .list(ordered.reversed().prefix(k).map(scalar))
        case .variance, .stddev:
            guard present.count >= 2 else { return .null }
            // In quarters, as integers: n·Σx² − (Σx)² is exact.
            let q = present.map { Int64((double($0) * 4).rounded()) }
            let n = Int64(q.count)
            let numerator = n * q.reduce(0) { $0 + $1 * $1 } - q.reduce(0, +) * q.reduce(0, +)
            let variance = Double(numerator) / 16 / (Double(n) * Double(n - 1))
            return .float64(function == .variance ? variance : variance.squareRoot())
        default: return .null
        }
    }

    static func batches(_ events: [Event], seed: UInt64) throws -> [RecordBatch] {
        var rng = SplitMix(seed: seed)
        var out: [RecordBatch] = []
        var at = 0
        while at < events.count {
            let part = Array(events[at..<min(events.count, at + 1 + rng.below(6))])
            at += part.count
            out.append(
                try RecordBatch([
                    "driver_id": .int64(part.map(\.key)), "ts": .timestamp(part.map(\.time)),
                    "created": .timestamp(part.map(\.created)),
                    "fare": Column(type: .float64, scalars: part.map { $0.fare.map(ScalarValue.float64) ?? .null })
                        ?? Column(empty: .float64),
                    "n": Column(type: .int64, scalars: part.map { $0.n.map(ScalarValue.int64) ?? .null })
                        ?? Column(empty: .int64),
                ]))
        }
        return out
    }

    @Test func everyFunctionEqualsTheBruteForceOverItsWindow() async throws {
        let definitions = Self.definitions()
        let view = definitions.featureViews[0]
        await propertyCheck(count: 150, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: UInt64(seed))
            let events = (0..<rng.below(40)).map { _ in
                Event(
                    key: Int64(rng.below(4)), time: Int64(rng.below(12)), created: Int64(rng.below(3)),
                    fare: rng.below(6) == 0 ? nil : Double(rng.below(256)) / 4,
                    n: rng.below(6) == 0 ? nil : Int64(rng.below(50)) - 10)
            }
            let entityCount = 1 + rng.below(15)
            let keys = (0..<entityCount).map { _ in Int64(rng.below(5)) }
            let times = (0..<entityCount).map { _ in Int64(rng.below(14)) }
            let entities = try! RecordBatch(["driver_id": .int64(keys), "event_timestamp": .timestamp(times)])
            let sourceBatches = try! Self.batches(events, seed: UInt64(seed) &+ 1)
            let readers: @Sendable (DataSource) throws -> [any SourceReader] = { _ in
                [MemorySourceReader(sourceBatches, schema: sourceBatches.first?.schema)]
            }
            let result = try! TrainingSetBuilder(definitions: definitions, readers: readers).build(
                TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["v"])))
            for (i, (key, t)) in zip(keys, times).enumerated() {
                for feature in view.features {
                    guard let aggregation = feature.aggregation else { continue }
                    let low: Int64
                    switch aggregation.window {
                    case .lifetime: low = Int64.min
                    case .length(let span): low = t - span.microseconds
                    }
                    let window = events.filter { $0.key == key && $0.time >= low && $0.time < t }
                    let got = result.batch.column(named: feature.name)?.value(at: i) ?? .null
                    let expected: ScalarValue
                    if let column = aggregation.column {
                        expected = Self.oracle(aggregation.function, window, column: column)
                    } else {
                        expected = .int64(Int64(window.count))
                    }
                    switch aggregation.function {
                    case .approxCountDistinct:
                        let present = window.filter { aggregation.column == "fare" ? $0.fare != nil : $0.n != nil }
                        let exact = Set(
                            present.map { aggregation.column == "fare" ? ($0.fare ?? 0) : Double($0.n ?? 0) }
                        ).count
                        if exact == 0 {
                            #expect(got == .null, "seed \(seed) \(feature.name) row \(i)")
                        } else if case .int64(let estimate) = got {
                            #expect(
                                abs(Int(estimate) - exact) <= 1, "seed \(seed) \(feature.name): \(estimate) vs \(exact)"
                            )
                        } else {
                            Issue.record("seed \(seed) \(feature.name): \(got)")
                        }
                    case .approxPercentile(let q):
                        let values = window.compactMap {
                            aggregation.column == "fare" ? $0.fare : $0.n.map(Double.init)
                        }.sorted()
                        if values.isEmpty {
                            #expect(got == .null)
                        } else if case .float64(let estimate) = got {
                            let truth = values[Int((q * Double(values.count - 1)).rounded(.down))]
                            #expect(
                                abs(estimate - truth) <= abs(truth) * 0.0102 + 1e-12,
                                "seed \(seed) \(feature.name): \(estimate) vs \(truth)")
                        } else {
                            Issue.record("seed \(seed) \(feature.name): \(got)")
                        }
                    default:
                        #expect(got == expected, "seed \(seed) \(feature.name) row \(i) t \(t) key \(key)")
                    }
                }
            }
        }
    }

    /// The window ends before t: an event exactly at t is not counted; one exactly at t − W is.
    @Test func windowsIncludeTheirStartAndExcludeTheQueryTime() throws {
        let definitions = Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
            sources: [DataSource(name: "s", kind: .file(path: "s", format: .parquet), timestampField: "ts")],
            featureViews: [
                FeatureView(
                    name: "v", entities: ["driver"], source: "s",
                    features: [
                        Feature(
                            "c", .int64,
                            aggregation: Aggregation(
                                column: nil, function: .count, window: .length(.init(microseconds: 10)))),
                        Feature(
                            "s", .int64,
                            aggregation: Aggregation(
                                column: "x", inputType: .int64, function: .sum, window: .length(.init(microseconds: 10))
                            )),
                    ], online: false)
            ])
        let source = try RecordBatch([
            "driver_id": .int64([1, 1, 1, 1]), "ts": .timestamp([90, 100, 105, 110]), "x": .int64([1, 2, 4, 8]),
        ])
        let entities = try RecordBatch([
            "driver_id": .int64([1, 1, 2]), "event_timestamp": .timestamp([110, 111, 110]),
        ])
        let result = try TrainingSetBuilder(definitions: definitions) { _ in [MemorySourceReader([source])] }.build(
            TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["v"])))
        // t = 110: [100, 110) holds 100 and 105; t = 111: [101, 111) holds 105 and 110; key 2: nothing.
        #expect(result.batch.column(named: "c")?.values == [.int64(2), .int64(2), .int64(0)])
        #expect(result.batch.column(named: "s")?.values == [.int64(6), .int64(12), .null])
    }
}
