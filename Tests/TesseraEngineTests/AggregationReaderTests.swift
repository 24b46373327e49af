import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraTesting
import Testing

@testable import TesseraEngine

/// Online reads of aggregated features (`AggregationReader`, which sums in fixed point when
/// a window's values allow and with `ExactSum` otherwise, and summarizes nested windows in
/// one pass) against the reference functions training sets fall back to, to the bit, over
/// values of every magnitude: moderate ones, ones far apart (1e300 beside 1e-300, which no
/// fixed-point scale holds), signed zeros, infinities, NaN and nulls.
@Suite struct AggregationReaderTests {
    static let hour: Int64 = 3_600_000_000
    static let windows: [Int64] = [hour, 24 * hour, 7 * 24 * hour]
    static let functions: [AggregateFunction] = [.sum, .mean, .min, .max, .count]

    static func view() -> FeatureView {
        var features: [Feature] = []
        for (w, window) in windows.enumerated() {
            features.append(
                Feature(
                    "rows_\(w)", .int64,
                    aggregation: Aggregation(
                        column: nil, function: .count, window: .length(.init(microseconds: window)))))
            for function in functions {
                for (column, type) in [("fare", ValueType.float64), ("n", ValueType.int64)] {
                    features.append(
                        Feature(
                            "\(column)_\(function)_\(w)", function.resultType(input: type),
                            aggregation: Aggregation(
                                column: column, inputType: type, function: function,
                                window: .length(.init(microseconds: window)))))
                }
            }
        }
        return FeatureView(name: "v", entities: ["driver"], source: "s", features: features)
    }

    /// A value of one of the kinds the reader must treat alike, by `kind`.
    static func fare(_ kind: Int, _ rng: inout SplitMixRNG) -> Double? {
        let x = Double(rng.below(1_000_000)) / 64
        switch kind {
        case 0: return nil
        case 1: return -0.0
        case 2: return 0.0
        case 3: return x * 1e300
        case 4: return -x * 1e-300
        case 5: return .infinity
        case 6: return -.infinity
        case 7: return .nan
        default: return rng.below(2) == 0 ? x : -x * 0.1
        }
    }

    static func same(_ a: ScalarValue, _ b: ScalarValue) -> Bool {
        if case .float64(let x) = a, case .float64(let y) = b { return x.bitPattern == y.bitPattern }
        return a == b
    }

    /// Per trial, which value kinds may appear: moderate only (the fixed-point path), far
    /// apart magnitudes (the `ExactSum` path), and everything.
    @Test(arguments: [[8, 9, 10, 0, 1, 2], [8, 9, 3, 4, 0], [8, 3, 4, 5, 6, 7, 0, 1, 2]])
    func readsEqualTheReferenceFunctions(kinds: [Int]) throws {
        let view = Self.view()
        let program = AggregationProgram(view: view)
        var rng = SplitMixRNG(seed: UInt64(kinds.count * 7919 + kinds[1]))
        let now: Int64 = 30 * 24 * Self.hour
        for trial in 0..<40 {
            let rows = 1 + rng.below(trial % 4 == 0 ? 3 : 60)
            // Events over the last 8 days, some on exact window edges of the read times below.
            var event: [Int64] = []
            var fares: [Double?] = []
            var ns: [Int64?] = []
            for _ in 0..<rows {
                let edge = rng.below(5) == 0
                event.append(
                    edge ? now - Self.windows[rng.below(3)] : now - Int64(rng.below(8 * 24 * 3600)) * 1_000_000)
                fares.append(Self.fare(kinds[rng.below(kinds.count)], &rng))
                ns.append(rng.below(6) == 0 ? nil : Int64(rng.below(2_000_001)) - 1_000_000)
            }
            let created = [Int64](repeating: Int64.min, count: rows)
            let inputs = try program.inputColumns.map { input -> Column in
                let scalars: [ScalarValue] =
                    input.name == "fare"
                    ? fares.map { $0.map(ScalarValue.float64) ?? .null } : ns.map { $0.map(ScalarValue.int64) ?? .null }
                return try #require(Column(type: input.type, scalars: scalars))
            }
            let events = AggregationProgram.Events(event: event, created: created, inputs: inputs)
            guard let state = program.merged(nil, with: events, now: now - 1) else {
                // Nothing to keep: every event is older than the longest window.
                #expect(event.allSatisfy { $0 < now - 1 - Self.windows[2] }, "trial \(trial): a state was dropped")
                continue
            }
            // The state's rows in window order, decoded, for the reference functions.
            let decoded = try #require(StateRows.decode(state, inputs: program.inputColumns))
            let held = decoded.events(inputs: program.inputColumns)
            for t in [now, now + 1, now - Self.hour, now + Self.hour / 2] {
                let (values, _) = program.values([state], features: view.features.map(\.name), at: t)
                let hi = held.event.partitionIndex { $0 >= t }
                for (f, feature) in view.features.enumerated() {
                    guard let aggregation = feature.aggregation, case .length(let w) = aggregation.window else {
                        continue
                    }
                    let lo = held.event.partitionIndex { $0 >= t - w.microseconds }
                    let input = aggregation.column.flatMap { name in
                        program.inputColumns.firstIndex { $0.name == name }.map { held.inputs[$0] }
                    }
                    let expected = held.event.withUnsafeBufferPointer { e in
                        held.created.withUnsafeBufferPointer { c in
                            WindowFunction(function: aggregation.function, input: input).evaluate(
                                event: e, created: c, range: lo..<max(lo, hi))
                        }
                    }
                    #expect(
                        Self.same(values[f][0], expected),
                        "trial \(trial), \(feature.name) at \(t): read \(values[f][0]), reference \(expected)")
                }
            }
        }
    }
}

extension Array where Element == Int64 {
    /// The first index whose element satisfies `belongs` (the elements are sorted so that
    /// it holds from some index on).
    fileprivate func partitionIndex(where belongs: (Int64) -> Bool) -> Int {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if belongs(self[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// The registers' estimate takes a shortcut (linear counting from a bitmap) while at most
/// half the registers can be set: it must equal the full estimate from the ranks on both
/// sides of that bound, with duplicate registers and ranks.
@Test func registerEstimateShortcutEqualsTheFullEstimate() {
    var rng = SplitMixRNG(seed: 11)
    let half = HyperLogLog.registerCount / 2
    for n in [1, 2, 23, 1_000, half - 1, half, half + 1, 3 * half / 2, 2 * half] {
        var scratch = WindowScratch()
        var best: [UInt16: UInt8] = [:]
        for _ in 0..<n {
            // Hashes drawn from a few thousand values: many registers repeat.
            let (index, rank) = HyperLogLog.register(ValueHash.hash(int: Int64(rng.below(3 * n + 1))))
            scratch.registers.append(UInt32(index) << 8 | UInt32(rank))
            best[index] = max(best[index] ?? 0, rank)
        }
        #expect(scratch.estimateRegisters() == HyperLogLog.estimate(ranks: best.values), "n \(n)")
        // The bitmap is left clear for the next estimate.
        #expect(scratch.seen.allSatisfy { $0 == 0 }, "n \(n)")
    }
}
