import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraTesting
import Testing

@testable import TesseraEngine

/// Merging several pushes into a key's state at once (what reads of pending pushes and
/// folds do) against merging them one after another (what a push into the state did): the
/// same values of every feature at every time, to the bit, over random pushes with ties, late and expired rows, nulls, strings, retries of
/// earlier pushes (taken once) and log marks.
@Suite struct AggregationMergeTests {
    static let hour: Int64 = 3_600_000_000

    static let program: AggregationProgram = {
        let window = AggregationWindow.length(.init(microseconds: 24 * hour))
        let features = [
            Feature("rows", .int64, aggregation: Aggregation(column: nil, function: .count, window: window)),
            Feature(
                "fare_sum", .float64,
                aggregation: Aggregation(column: "fare", inputType: .float64, function: .sum, window: window)),
            Feature(
                "n_max", .int64,
                aggregation: Aggregation(column: "n", inputType: .int64, function: .max, window: window)),
            Feature(
                "rider_last", .string,
                aggregation: Aggregation(column: "rider", inputType: .string, function: .last, window: window)),
        ]
        return AggregationProgram(view: FeatureView(name: "v", entities: ["driver"], source: "s", features: features))
    }()

    /// One push of `count` rows, some for other keys (so `rows` picks this key's).
    static func part(_ rng: inout SplitMixRNG, now: Int64, id: String) -> AggregationProgram.Part {
        let count = 1 + rng.below(6)
        var event: [Int64] = []
        var created: [Int64] = []
        var fares: [ScalarValue] = []
        var ns: [ScalarValue] = []
        var riders: [ScalarValue] = []
        for _ in 0..<count {
            // Few distinct times (ties), some before the 24h horizon (expired).
            event.append(now - Int64(rng.below(30)) * hour)
            created.append(rng.below(3) == 0 ? Int64.min : Int64(rng.below(3)))
            fares.append(rng.below(5) == 0 ? .null : .float64(Double(rng.below(1000)) / 8))
            ns.append(rng.below(5) == 0 ? .null : .int64(Int64(rng.below(100)) - 50))
            riders.append(rng.below(5) == 0 ? .null : .string("r\(rng.below(7))"))
        }
        let inputs = [
            Column(type: .float64, scalars: fares) ?? Column(empty: .float64),
            Column(type: .int64, scalars: ns) ?? Column(empty: .int64),
            Column(type: .string, scalars: riders) ?? Column(empty: .string),
        ]
        let rows = (0..<count).filter { _ in rng.below(4) != 0 }
        return AggregationProgram.Part(
            events: AggregationProgram.Events(event: event, created: created, inputs: inputs), rows: rows[...], push: id
        )
    }

    @Test func oneMergeOfManyPushesEqualsOneAfterAnother() {
        var rng = SplitMixRNG(seed: 42)
        let now: Int64 = 1_767_225_600_000_000
        let program = Self.program
        for trial in 0..<300 {
            var parts: [AggregationProgram.Part] = []
            for i in 0..<(1 + rng.below(45)) {
                // Some retries of an earlier push (same id, same rows).
                if i > 0 && rng.below(6) == 0, let earlier = parts.randomElement(using: &rng) {
                    parts.append(earlier)
                } else {
                    parts.append(Self.part(&rng, now: now, id: "p\(trial)-\(i)"))
                }
            }
            // A held state from some earlier pushes, or none.
            var held: [UInt8]? = nil
            for i in 0..<rng.below(3) {
                held = program.merged(
                    held, parts: [Self.part(&rng, now: now - Self.hour, id: "h\(trial)-\(i)")], now: now - Self.hour)
            }
            if rng.below(3) == 0, let state = held {
                parts.append(
                    AggregationProgram.Part(events: parts[0].events, rows: parts[0].rows, push: "h\(trial)-0"));
                held = state
            }
            var sequential = held
            for part in parts {
                sequential = program.merged(sequential, with: part.events, rows: part.rows, now: now, push: part.push)
            }
            let mark = Int64(rng.below(1000))
            let once = program.merged(held, parts: parts, now: now, mark: mark)
            #expect((once == nil) == (sequential == nil), "trial \(trial): a state or none")
            #expect(once.map { program.logMark($0) } == sequential.map { _ in mark }, "trial \(trial): the mark")
            let all = Array(program.features.indices)
            for t in [now, now + 1, now + Self.hour, now + 12 * Self.hour, now + 23 * Self.hour] {
                let a = program.values([once], selected: all, at: t).values
                let b = program.values([sequential], selected: all, at: t).values
                let same =
                    a.count == b.count
                    && zip(a, b).allSatisfy { x, y in
                        if case .float64(let p) = x, case .float64(let q) = y { return p.bitPattern == q.bitPattern }
                        return x == y
                    }
                #expect(
                    same,
                    "trial \(trial), \(parts.count) pushes, t = now + \(t - now) µs: \(a) at once, \(b) one by one")
            }
        }
    }

    @Test func marksSurviveMergesAndOlderStatesReadAsUnmarked() {
        var rng = SplitMixRNG(seed: 7)
        let now: Int64 = 1_767_225_600_000_000
        let program = Self.program
        let first = program.merged(nil, parts: [Self.part(&rng, now: now, id: "a")], now: now, mark: 17)
        #expect(first.map { program.logMark($0) } == 17)
        // A merge without a mark keeps the held one; with one, records it.
        let kept = program.merged(first, parts: [Self.part(&rng, now: now, id: "b")], now: now)
        #expect(kept.map { program.logMark($0) } == 17)
        let moved = kept.map { program.marked($0, 99) }
        #expect(moved.map { program.logMark($0) } == 99)
        // Bytes that are not a state read as mark 0.
        #expect(program.logMark([2, 0, 0]) == 0)
    }
}
