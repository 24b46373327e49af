import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraTesting
import Testing

@testable import TesseraEngine

/// Online `lifetime` windows: a state folds the rows older than its fold boundary into
/// running aggregates. Events arrive in random batches (many late, some exactly on the
/// boundary), each merged at a later `now`; every lifetime feature read afterwards must
/// equal, to the bit, the reference function over all the events — and a duration window
/// beside them the reference over its window — while the state holds few rows raw.
@Suite struct LifetimeStateTests {
    static let hour: Int64 = 3_600_000_000

    static let functions: [AggregateFunction] = [
        .count, .sum, .mean, .min, .max, .first, .last, .lastN(3), .variance, .stddev, .approxCountDistinct,
        .approxPercentile(0.5), .approxPercentile(0.9),
    ]

    static func feature(
        _ name: String, _ column: String?, _ type: ValueType?, _ function: AggregateFunction,
        _ window: AggregationWindow
    )
        -> Feature
    {
        Feature(
            name, function.resultType(input: type),
            aggregation: Aggregation(column: column, inputType: type, function: function, window: window))
    }

    static func view(extra: Bool = false) -> FeatureView {
        var features = [
            feature("rows_lifetime", nil, nil, .count, .lifetime),
            feature("fare_sum_2h", "fare", .float64, .sum, .length(.init(microseconds: 2 * hour))),
            feature("n_max_2h", "n", .int64, .max, .length(.init(microseconds: 2 * hour))),
        ]
        for function in functions {
            features.append(feature("fare_\(function)", "fare", .float64, function, .lifetime))
        }
        for function in [
            AggregateFunction.count, .sum, .mean, .min, .max, .first, .last, .lastN(2), .approxCountDistinct,
        ] {
            features.append(feature("n_\(function)", "n", .int64, function, .lifetime))
        }
        for function in [AggregateFunction.count, .min, .max, .first, .last, .lastN(2), .approxCountDistinct] {
            features.append(feature("rider_\(function)", "rider", .string, function, .lifetime))
        }
        if extra { features.append(feature("n_var", "n", .int64, .variance, .lifetime)) }
        return FeatureView(name: "v", entities: ["driver"], source: "s", features: features)
    }

    struct Event {
        var time: Int64
        var created: Int64
        var fare: Double?
        var n: Int64?
        var rider: String?
    }

    static func events(_ list: [Event], program: AggregationProgram) throws -> AggregationProgram.Events {
        let inputs = try program.inputColumns.map { input -> Column in
            let scalars: [ScalarValue] = list.map { event in
                switch input.name {
                case "fare": event.fare.map(ScalarValue.float64) ?? .null
                case "n": event.n.map(ScalarValue.int64) ?? .null
                default: event.rider.map(ScalarValue.string) ?? .null
                }
            }
            return try #require(Column(type: input.type, scalars: scalars))
        }
        return AggregationProgram.Events(event: list.map(\.time), created: list.map(\.created), inputs: inputs)
    }

    static func same(_ a: ScalarValue, _ b: ScalarValue) -> Bool {
        switch (a, b) {
        case (.float64(let x), .float64(let y)): x.bitPattern == y.bitPattern
        case (.list(let x), .list(let y)): x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        default: a == b
        }
    }

    /// The reference: each feature's function over every event in its window before `t`.
    static func reference(_ all: [Event], view: FeatureView, program: AggregationProgram, at t: Int64) throws
        -> [ScalarValue]
    {
        // Window order: (event, created); full ties keep arrival order (values break them).
        let sorted = all.enumerated().sorted {
            ($0.element.time, $0.element.created, $0.offset) < ($1.element.time, $1.element.created, $1.offset)
        }.map(\.element)
        let events = try Self.events(sorted, program: program)
        let hi = sorted.firstIndex { $0.time >= t } ?? sorted.count
        return view.features.map { feature in
            guard let aggregation = feature.aggregation else { return .null }
            var lo = 0
            if case .length(let w) = aggregation.window {
                lo = sorted.firstIndex { $0.time >= t - w.microseconds } ?? sorted.count
            }
            let input = aggregation.column.flatMap { name in
                program.inputColumns.firstIndex { $0.name == name }.map { events.inputs[$0] }
            }
            return events.event.withUnsafeBufferPointer { e in
                events.created.withUnsafeBufferPointer { c in
                    WindowFunction(function: aggregation.function, input: input).evaluate(
                        event: e, created: c, range: lo..<max(lo, hi))
                }
            }
        }
    }

    static func fare(_ rng: inout SplitMixRNG, special: Bool) -> Double? {
        let x = Double(rng.below(100_000)) / 100
        switch rng.below(special ? 12 : 9) {
        case 0: return nil
        case 1: return -0.0
        case 2: return x * 1e-3
        case 9: return x * 1e300
        case 10: return .infinity
        case 11: return .nan
        default: return rng.below(3) == 0 ? -x : x
        }
    }

    @Test(arguments: [false, true])
    func runningAggregatesPlusHeldRowsEqualTheReference(special: Bool) throws {
        let view = Self.view()
        let program = AggregationProgram(view: view)
        var rng = SplitMixRNG(seed: special ? 41 : 42)
        var folds = 0
        for trial in 0..<30 {
            let count = 1 + rng.below(trial % 5 == 0 ? 4 : 120)
            let start = 100 * Self.hour
            var now = start + 48 * Self.hour
            var all: [Event] = []
            var state: [UInt8]?
            var boundary = Int64.min
            while all.count < count {
                // A batch merged at a later now; its events anywhere before it (late ones
                // too), on the current fold boundary or whole minutes (ties).
                now += Int64(rng.below(6)) * Self.hour + Int64(rng.below(60)) * 60_000_000
                let size = 1 + rng.below(12)
                var batch: [Event] = []
                for _ in 0..<min(size, count - all.count) {
                    var time = now - Int64(rng.below(50 * 60)) * 60_000_000
                    if rng.below(8) == 0, boundary > Int64.min { time = boundary + Int64(rng.below(3)) - 1 }
                    let created = rng.below(3) == 0 ? Int64.min : Int64(rng.below(3))
                    batch.append(
                        Event(
                            time: time, created: created, fare: Self.fare(&rng, special: special),
                            n: rng.below(7) == 0 ? nil : Int64(rng.below(2_000)) - 500,
                            rider: rng.below(6) == 0 ? nil : "r\(rng.below(25))"))
                }
                all += batch
                state = program.merged(state, with: try Self.events(batch, program: program), now: now)
                if let state {
                    boundary = state.withUnsafeBytes {
                        StateView($0, inputs: program.stateInputs)?.foldBoundary ?? Int64.min
                    }
                }
            }
            let held = try #require(state, "trial \(trial): a lifetime state is never dropped")
            try held.withUnsafeBytes { raw in
                let parsed = try #require(StateView(raw, inputs: program.stateInputs))
                #expect(parsed.foldBoundary == now - 2 * Self.hour, "the boundary is now minus the longest window")
                #expect(Int(parsed.foldedRows) + parsed.count == all.count, "every row is held raw or folded")
                #expect((0..<parsed.count).allSatisfy { parsed.event($0) >= parsed.foldBoundary })
                if parsed.foldedRows > 0 { folds += 1 }
            }
            for t in [now, now + 1, now + Self.hour, now + 2 * Self.hour + 1] {
                let (values, newest) = program.values([held], features: view.features.map(\.name), at: t)
                let expected = try Self.reference(all, view: view, program: program, at: t)
                #expect(newest[0] == all.map(\.time).max())
                for (f, feature) in view.features.enumerated() {
                    #expect(
                        Self.same(values[f][0], expected[f]),
                        "trial \(trial), \(feature.name) at now + \(Double(t - now) / Double(Self.hour))h: read \(values[f][0]), reference \(expected[f])"
                    )
                }
            }
        }
        #expect(folds > 20, "only \(folds) trials folded rows")
    }

    /// The bytes a state is built from do not matter: all the events merged at once at the
    /// end give the same values as the batches merged along the way.
    @Test func oneMergeAtTheEndReadsAsManyMergesAlongTheWay() throws {
        let view = Self.view()
        let program = AggregationProgram(view: view)
        var rng = SplitMixRNG(seed: 5)
        let now = 200 * Self.hour
        var batches: [[Event]] = []
        for _ in 0..<10 {
            batches.append(
                (0..<(1 + rng.below(20))).map { _ in
                    Event(
                        time: now - Int64(rng.below(80 * 60)) * 60_000_000, created: Int64.min,
                        fare: Self.fare(&rng, special: false), n: Int64(rng.below(100)), rider: "r\(rng.below(9))")
                })
        }
        var stepwise: [UInt8]?
        for (i, batch) in batches.enumerated() {
            stepwise = program.merged(
                stepwise, with: try Self.events(batch, program: program), now: now - Int64(9 - i) * Self.hour)
        }
        let once = program.merged(nil, with: try Self.events(batches.flatMap { $0 }, program: program), now: now)
        let names = view.features.map(\.name)
        let a = program.values([stepwise], features: names, at: now).values
        let b = program.values([once], features: names, at: now).values
        for (f, name) in names.enumerated() {
            #expect(Self.same(a[f][0], b[f][0]), "\(name): stepwise \(a[f][0]), at once \(b[f][0])")
        }
    }

    /// A lifetime feature added to a view after its states folded rows has no running
    /// aggregate: it reads null until a materialization rebuilds the states, while the
    /// others keep theirs.
    @Test func aLifetimeFeatureAddedAfterAFoldReadsNullUntilRebuilt() throws {
        let before = AggregationProgram(view: Self.view())
        let after = AggregationProgram(view: Self.view(extra: true))
        let now = 100 * Self.hour
        let events = [
            Event(time: now - 10 * Self.hour, created: Int64.min, fare: 1.5, n: 4, rider: "a"),
            Event(time: now - 9 * Self.hour, created: Int64.min, fare: 2.5, n: 8, rider: "b"),
            Event(time: now - 1, created: Int64.min, fare: 4, n: 1, rider: "c"),
        ]
        let state = try #require(before.merged(nil, with: try Self.events(events, program: before), now: now))
        let read = after.values([state], features: ["n_var", "n_sum", "rows_lifetime"], at: now).values
        #expect(read[0][0] == .null)
        #expect(read[1][0] == .int64(13))
        #expect(read[2][0] == .int64(3))
        // Merged by the new program, the missing one stays missing; the rest go on.
        let more = [Event(time: now, created: Int64.min, fare: 1, n: 2, rider: "d")]
        let merged = try #require(after.merged(state, with: try Self.events(more, program: after), now: now + 1))
        let again = after.values([merged], features: ["n_var", "n_sum", "rows_lifetime"], at: now + 2).values
        #expect(again[0][0] == .null)
        #expect(again[1][0] == .int64(15))
        #expect(again[2][0] == .int64(4))
        // A rebuild from every event has it again.
        let rebuilt = try #require(
            after.merged(nil, with: try Self.events(events + more, program: after), now: now + 1))
        let fresh = after.values([rebuilt], features: ["n_var"], at: now + 2).values
        #expect(fresh[0][0] == .float64(ExactMoments.sampleVariance([4, 8, 1, 2])))
    }
}

extension LifetimeStateTests {
    /// A view that gains a lifetime window over an input it already had: its states (version
    /// 3) dropped the rows older than their longest window, so its lifetime features read
    /// null — before and after later merges — until a rebuild from every event.
    @Test func statesWrittenWithoutLifetimeWindowsReadNullUntilRebuilt() throws {
        let hour = Self.hour
        let oneHour = AggregationWindow.length(.init(microseconds: hour))
        let plain = FeatureView(
            name: "v", entities: ["driver"], source: "s",
            features: [Self.feature("n_sum_1h", "n", .int64, .sum, oneHour)])
        let grown = FeatureView(
            name: "v", entities: ["driver"], source: "s",
            features: [
                Self.feature("n_sum_1h", "n", .int64, .sum, oneHour),
                Self.feature("n_sum_lifetime", "n", .int64, .sum, .lifetime),
            ])
        let before = AggregationProgram(view: plain)
        let after = AggregationProgram(view: grown)
        let now = 100 * hour
        let old = [
            Event(time: now - 5 * hour, created: Int64.min, fare: nil, n: 7, rider: nil),
            Event(time: now - 10, created: Int64.min, fare: nil, n: 2, rider: nil),
        ]
        let state = try #require(before.merged(nil, with: try Self.events(old, program: before), now: now))
        let names = ["n_sum_1h", "n_sum_lifetime"]
        #expect(after.values([state], features: names, at: now).values.map { $0[0] } == [.int64(2), .null])
        let more = [Event(time: now + 5, created: Int64.min, fare: nil, n: 1, rider: nil)]
        var merged = try #require(after.merged(state, with: try Self.events(more, program: after), now: now + 10))
        #expect(after.values([merged], features: names, at: now + 10).values.map { $0[0] } == [.int64(3), .null])
        // Hours later the raw rows have passed the boundary: the state still says it lacks rows.
        merged = try #require(after.merged(merged, with: try Self.events([], program: after), now: now + 9 * hour))
        #expect(after.values([merged], features: names, at: now + 9 * hour).values.map { $0[0] } == [.null, .null])
        let rebuilt = try #require(after.merged(nil, with: try Self.events(old + more, program: after), now: now + 10))
        #expect(after.values([rebuilt], features: names, at: now + 10).values.map { $0[0] } == [.int64(3), .int64(10)])
    }

    /// Damaged state bytes never trap: every read and merge of a mutated state returns.
    @Test func damagedStatesNeitherTrapNorHang() throws {
        let program = AggregationProgram(view: Self.view())
        var rng = SplitMixRNG(seed: 77)
        let now = 300 * Self.hour
        let events = (0..<80).map { _ in
            Event(
                time: now - Int64(rng.below(20 * 60)) * 60_000_000, created: Int64.min,
                fare: Self.fare(&rng, special: true), n: Int64(rng.below(100)), rider: "r\(rng.below(9))")
        }
        let state = try #require(program.merged(nil, with: try Self.events(events, program: program), now: now))
        let names = program.features.map(\.name)
        let more = try Self.events(Array(events.prefix(3)), program: program)
        for trial in 0..<400 {
            var bytes = state
            switch trial % 3 {
            case 0: bytes.removeLast(rng.below(bytes.count))
            case 1: for _ in 0..<(1 + rng.below(4)) { bytes[rng.below(bytes.count)] = UInt8(rng.below(256)) }
            default:
                // The tail's numbers: counts, ranks, lengths.
                let at = bytes.count - 1 - rng.below(min(bytes.count, 400))
                bytes[at] = [0, 0xFF, 0x7F, 0x80, 66][rng.below(5)]
            }
            _ = program.values([bytes], features: names, at: now)
            _ = program.merged(bytes, with: more, now: now + Self.hour)
        }
    }
}

extension ExactMoments {
    /// The sample variance of `values` as `ExactMoments` computes it.
    fileprivate static func sampleVariance(_ values: [Double]) -> Double {
        var moments = ExactMoments()
        for value in values { moments.add(value) }
        return moments.variance ?? .nan
    }
}
