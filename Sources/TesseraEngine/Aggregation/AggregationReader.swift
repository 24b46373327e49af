import Synchronization
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// Online reads of aggregated features straight from a state's bytes: the typed kernels of
/// `WindowEvaluator` (counts, exact sums and means, extremes, sketch registers and keys)
/// run over the rows in place, so a lookup decodes nothing and builds no columns.
///
/// Every kernel computes what its training-set counterpart computes over the same rows:
/// sums are exact (integers in 128 bits, floats with `ExactSum`, which rounds once to the
/// double fixed-point sums give), extremes use the same total order, and the sketches see
/// the same hashes and keys. Functions without a kernel here (first, last, last_n, var,
/// stddev, extremes of non-numbers) decode the state and use `WindowFunction`.
struct AggregationReader: Sendable {
    /// How a kernel reads an input's state words.
    enum InputKind: UInt8, Sendable {
        case integer, floating, binary, other

        init(_ type: ValueType) {
            switch type {
            case .int64, .int32: self = .integer
            case .float64, .float32: self = .floating
            case .string, .bytes: self = .binary
            default: self = .other
            }
        }
    }

    /// One feature's read, trivially copyable (`ValueType` and `AggregateFunction` are not
    /// compared per read: a lookup evaluates every feature of every key).
    struct Compiled: Sendable {
        var kernel: WindowKernel
        var spanIndex: Int
        /// The state input the feature reads (`nil`: a bare count).
        var input: Int?
        var inputKind: InputKind
        /// The function is `count` (an empty window gives 0, not null).
        var isCount: Bool
        /// The output is int32 (integer kernels) or float32 (floating ones).
        var narrowOutput: Bool
    }

    let inputs: [(name: String, type: ValueType)]
    let stateInputs: StateView.Inputs
    let compiled: [Compiled]
    /// Per feature, its function: for features without a kernel here.
    let functions: [AggregateFunction]
    /// The distinct window lengths (microseconds; `nil` for lifetime).
    let spans: [Int64?]
    let index: [String: Int]
    /// Span positions from the shortest window to the longest (lifetime last).
    let byLength: [Int]
    /// The lifetime features, in view order, and per feature its position among them (-1
    /// for a duration window): states fold their oldest rows into running aggregates.
    let lifetime: [LifetimeFeature]
    let lifetimeOf: [Int]
    let pool = ScratchPool()

    init(features: [Feature], layout: AggregationInputsLayout) {
        inputs = layout.inputs
        stateInputs = StateView.Inputs(layout.inputs)
        var spans: [Int64?] = []
        var compiled: [Compiled] = []
        var functions: [AggregateFunction] = []
        var index: [String: Int] = [:]
        var lifetime: [LifetimeFeature] = []
        var lifetimeOf: [Int] = []
        for (f, feature) in features.enumerated() {
            var span: Int64?
            if case .length(let length)? = feature.aggregation?.window { span = length.microseconds }
            let spanIndex: Int
            if let at = spans.firstIndex(of: span) {
                spanIndex = at
            } else {
                spanIndex = spans.count
                spans.append(span)
            }
            let input = layout.inputOf[f]
            let inputType = input.map { layout.inputs[$0].type }
            let function = feature.aggregation?.function ?? .count
            compiled.append(
                Compiled(
                    kernel: WindowKernel.choose(function, type: inputType), spanIndex: spanIndex, input: input,
                    inputKind: inputType.map(InputKind.init) ?? .other, isCount: function == .count,
                    narrowOutput: feature.type == .int32 || feature.type == .float32))
            functions.append(function)
            index[feature.name] = f
            if feature.aggregation?.window == .lifetime {
                lifetimeOf.append(lifetime.count)
                lifetime.append(
                    LifetimeFeature(
                        feature: f, function: function, input: input, inputType: inputType,
                        spelling: feature.aggregation?.spelling ?? feature.name))
            } else {
                lifetimeOf.append(-1)
            }
        }
        self.lifetime = lifetime
        self.lifetimeOf = lifetimeOf
        self.spans = spans
        self.compiled = compiled
        self.functions = functions
        self.index = index
        byLength = spans.indices.sorted { (spans[$0] ?? .max, $0) < (spans[$1] ?? .max, $1) }
    }

    /// Scratch space reused across the states of one read.
    struct Scratch {
        var sum = ExactSum()
        var window = WindowScratch()
        var los: [Int]
        /// Per input and window (`input × spans + span`): the valid count, sums and extremes
        /// of the window's rows, computed for all windows in one pass (`summarize`) when a
        /// feature first needs them for the current state, whose ordinal `stamp` holds.
        var stamp: [Int]
        var counts: [Int]
        var doubles: [DoubleSummary]
        var integers: [IntegerSummary]

        struct DoubleSummary {
            var sum = 0.0
            var min = 0.0
            var max = 0.0
        }

        struct IntegerSummary {
            var sum: Int128 = 0
            var min: Int64 = 0
            var max: Int64 = 0
        }

        init(spans: Int, inputs: Int) {
            los = Array(repeating: 0, count: spans)
            stamp = Array(repeating: -1, count: inputs)
            counts = Array(repeating: 0, count: spans * inputs)
            doubles = Array(repeating: DoubleSummary(), count: spans * inputs)
            integers = Array(repeating: IntegerSummary(), count: spans * inputs)
        }
    }

    /// Scratch spaces kept between reads, so a lookup allocates none.
    final class ScratchPool: Sendable {
        private let free = Mutex<[Scratch]>([])

        func take(spans: Int, inputs: Int) -> Scratch {
            guard var scratch = free.withLock({ $0.popLast() }) else { return Scratch(spans: spans, inputs: inputs) }
            for k in scratch.stamp.indices { scratch.stamp[k] = -1 }
            return scratch
        }

        func give(_ scratch: Scratch) {
            free.withLock { if $0.count < 32 { $0.append(scratch) } }
        }
    }

    /// The values of the features at `selected` (positions in view order, `-1` for none:
    /// null) for each state at `t`, feature-major (`s × states.count + row`), and each
    /// state's newest event time.
    func read(_ states: [[UInt8]?], selected: [Int], at t: Int64) -> (values: [ScalarValue], newest: [Int64?]) {
        let rows = states.count
        var values = [ScalarValue](repeating: .null, count: selected.count * rows)
        var newest = [Int64?](repeating: nil, count: rows)
        var scratch = pool.take(spans: spans.count, inputs: inputs.count)
        defer { pool.give(scratch) }
        for (row, state) in states.enumerated() {
            guard let state else {
                for (s, f) in selected.enumerated() where f >= 0 { values[s * rows + row] = empty(compiled[f]) }
                continue
            }
            state.withUnsafeBytes { raw in
                guard let view = StateView(raw, inputs: stateInputs) else {
                    for (s, f) in selected.enumerated() where f >= 0 { values[s * rows + row] = empty(compiled[f]) }
                    return
                }
                if view.count > 0 {
                    newest[row] = view.event(view.count - 1)
                } else if view.foldedRows > 0 {
                    newest[row] = view.newestFolded
                }
                let hi = view.lowerBound(t)
                for s in spans.indices { scratch.los[s] = spans[s].map { view.lowerBound(t &- $0, below: hi) } ?? 0 }
                var decoded: AggregationProgram.Events?
                // Running aggregates of rows no longer held raw: a lifetime feature is its
                // aggregate with the held rows before `t` folded in.
                // (States without folded rows or missing aggregates read as raw rows alone.)
                var partials: [LifetimePartial]?
                if !lifetime.isEmpty {
                    let all = view.partials(lifetime)
                    if view.foldedRows > 0 || all.contains(.missing) { partials = all }
                }
                var held: AggregationProgram.Events?
                for (s, f) in selected.enumerated() where f >= 0 {
                    let feature = compiled[f]
                    if let partials, lifetimeOf[f] >= 0 {
                        let spec = lifetime[lifetimeOf[f]]
                        if held == nil { held = view.rows(0..<hi, inputs: inputs).events(inputs: inputs) }
                        var partial = partials[lifetimeOf[f]]
                        if let held { partial.fold(held, rows: 0..<hi, as: spec) }
                        values[s * rows + row] = partial.value(spec)
                        continue
                    }
                    let lo = scratch.los[feature.spanIndex]
                    if let value = evaluate(feature, view, lo, hi, row: row, &scratch) {
                        values[s * rows + row] = value
                        continue
                    }
                    // No kernel: the reference function over the decoded rows.
                    if decoded == nil { decoded = StateRows.decode(state, inputs: inputs)?.events(inputs: inputs) }
                    guard let events = decoded else { continue }
                    let function = WindowFunction(
                        function: functions[f], input: feature.input.map { events.inputs[$0] })
                    values[s * rows + row] = events.event.withUnsafeBufferPointer { event in
                        events.created.withUnsafeBufferPointer { created in
                            function.evaluate(event: event, created: created, range: lo..<hi)
                        }
                    }
                }
            }
        }
        return (values, newest)
    }

    /// Fills the scratch's counts, sums and extremes of input `k` for every window, in one
    /// pass from the newest row back: windows nest (a longer one starts no later), so each
    /// window's figures are the running ones when the pass reaches its first row. Sums are
    /// exact whatever the order; among equal extremes the earliest row wins, as in a
    /// forward scan.
    private func summarize(_ k: Int, _ kind: InputKind, _ view: StateView, _ hi: Int, _ scratch: inout Scratch) {
        var p = hi
        var n = 0
        let base = k * spans.count
        if kind == .integer {
            var exact: Int128 = 0
            var least: Int64 = 0
            var most: Int64 = 0
            for s in byLength {
                let lo = scratch.los[s]
                while p > lo {
                    p -= 1
                    guard view.isValid(k, p) else { continue }
                    let x = view.word(k, p)
                    exact += Int128(x)
                    if n == 0 {
                        least = x
                        most = x
                    } else {
                        least = min(least, x)
                        most = max(most, x)
                    }
                    n += 1
                }
                scratch.counts[base + s] = n
                scratch.integers[base + s] = Scratch.IntegerSummary(sum: exact, min: least, max: most)
            }
        } else {
            var least = 0.0
            var most = 0.0
            // Sums as integers of one fixed-point scale when the window's values have one (the
            // same correctly rounded double `ExactSum` gives, far cheaper), else `ExactSum`.
            var fitter = FixedPointScale.Fitter()
            for q in (byLength.last.map { scratch.los[$0] } ?? hi)..<hi where view.isValid(k, q) {
                fitter.add(view.double(k, q))
            }
            let scale = fitter.scale
            var exact: Int128 = 0
            scratch.sum.removeAll()
            for s in byLength {
                let lo = scratch.los[s]
                while p > lo {
                    p -= 1
                    guard view.isValid(k, p) else { continue }
                    let x = view.double(k, p)
                    if let scale { exact += scale.integer(x) } else { scratch.sum.add(x) }
                    if n == 0 {
                        least = x
                        most = x
                    } else {
                        if WindowFunction.compareDoubles(x, least) <= 0 { least = x }
                        if WindowFunction.compareDoubles(x, most) >= 0 { most = x }
                    }
                    n += 1
                }
                scratch.counts[base + s] = n
                let total = scale.map { $0.double(exact) } ?? (n > 0 ? scratch.sum.value : 0)
                scratch.doubles[base + s] = Scratch.DoubleSummary(sum: total, min: least, max: most)
            }
        }
    }

    /// A feature's value over no rows: counts are 0, everything else null.
    private func empty(_ feature: Compiled) -> ScalarValue {
        switch feature.kernel {
        case .countRows, .countValid: return output(feature, int: 0)
        default: return feature.isCount ? output(feature, int: 0) : .null
        }
    }

    @inline(__always)
    private func output(_ feature: Compiled, int value: Int64) -> ScalarValue {
        feature.narrowOutput ? .int32(Int32(truncatingIfNeeded: value)) : .int64(value)
    }

    @inline(__always)
    private func output(_ feature: Compiled, double value: Double) -> ScalarValue {
        feature.narrowOutput ? .float32(Float(value)) : .float64(value)
    }

    /// The kernel's value over rows `lo ..< hi` of `view` (the state of read row `row`), or
    /// `nil` when the feature has no kernel here.
    @inline(__always)
    private func evaluate(
        _ feature: Compiled, _ view: StateView, _ lo: Int, _ hi: Int, row: Int, _ scratch: inout Scratch
    ) -> ScalarValue? {
        if case .countRows = feature.kernel { return output(feature, int: Int64(hi - lo)) }
        guard let k = feature.input else { return nil }
        let kind = feature.inputKind
        let isInteger = kind == .integer
        switch feature.kernel {
        case .countRows, .general: return nil
        case .countValid, .sum, .mean, .extreme:
            if scratch.stamp[k] != row {
                summarize(k, kind, view, hi, &scratch)
                scratch.stamp[k] = row
            }
            let slot = k * spans.count + feature.spanIndex
            let n = scratch.counts[slot]
            if case .countValid = feature.kernel { return output(feature, int: Int64(n)) }
            guard n > 0 else { return .null }
            if isInteger {
                let summary = scratch.integers[slot]
                let (exact, least, most) = (summary.sum, summary.min, summary.max)
                switch feature.kernel {
                case .sum: return Int64(exactly: exact).map { output(feature, int: $0) } ?? .null
                case .extreme(let max): return output(feature, int: max ? most : least)
                default:
                    // Rounded once to nearest, as the training set's total is.
                    return output(feature, double: FixedPointScale.nearest(exact) / Double(n))
                }
            }
            let summary = scratch.doubles[slot]
            let (total, least, most) = (summary.sum, summary.min, summary.max)
            switch feature.kernel {
            case .sum: return output(feature, double: total)
            case .extreme(let max): return output(feature, double: max ? most : least)
            default: return output(feature, double: total / Double(n))
            }
        case .distinct:
            scratch.window.registers.removeAll(keepingCapacity: true)
            for p in lo..<hi where view.isValid(k, p) {
                let hash: UInt64
                switch kind {
                case .floating: hash = ValueHash.hash(double: view.double(k, p))
                case .binary: hash = ValueHash.hash(bytes: view.binary(k, p))
                case .integer, .other: hash = ValueHash.hash(int: view.word(k, p))
                }
                let (index, rank) = HyperLogLog.register(hash)
                scratch.window.registers.append(UInt32(index) << 8 | UInt32(rank))
            }
            return scratch.window.estimateRegisters().map { output(feature, int: $0) } ?? .null
        case .percentile(let q):
            scratch.window.keys.removeAll(keepingCapacity: true)
            for p in lo..<hi where view.isValid(k, p) {
                let value = isInteger ? Double(view.word(k, p)) : view.double(k, p)
                if let key = QuantileSketch.key(value) { scratch.window.keys.append(key) }
            }
            let value = scratch.window.keys.withUnsafeMutableBufferPointer { QuantileSketch.quantile(q, keys: $0) }
            return value.map { output(feature, double: $0) } ?? .null
        }
    }
}
