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
    struct Compiled: Sendable {
        var kernel: WindowKernel
        var function: AggregateFunction
        var spanIndex: Int
        /// The state input the feature reads (`nil`: a bare count).
        var input: Int?
        var inputType: ValueType?
        var type: ValueType
    }

    let inputs: [(name: String, type: ValueType)]
    let compiled: [Compiled]
    /// The distinct window lengths (microseconds; `nil` for lifetime).
    let spans: [Int64?]
    let index: [String: Int]

    init(features: [Feature], layout: AggregationInputsLayout) {
        inputs = layout.inputs
        var spans: [Int64?] = []
        var compiled: [Compiled] = []
        var index: [String: Int] = [:]
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
                    kernel: WindowKernel.choose(function, type: inputType), function: function, spanIndex: spanIndex,
                    input: input, inputType: inputType, type: feature.type))
            index[feature.name] = f
        }
        self.spans = spans
        self.compiled = compiled
        self.index = index
    }

    /// Scratch space reused across the states of one read.
    struct Scratch {
        var sum = ExactSum()
        var window = WindowScratch()
        var los: [Int]

        init(spans: Int) { los = Array(repeating: 0, count: spans) }
    }

    /// The values of the features at `selected` (positions in view order) for each state at
    /// `t`, one array per feature, and each state's newest event time.
    func read(_ states: [[UInt8]?], selected: [Int], at t: Int64) -> (values: [[ScalarValue]], newest: [Int64?]) {
        var values = selected.map { _ in [ScalarValue](repeating: .null, count: states.count) }
        var newest = [Int64?](repeating: nil, count: states.count)
        var scratch = Scratch(spans: spans.count)
        for (row, state) in states.enumerated() {
            guard let state else {
                for (s, f) in selected.enumerated() { values[s][row] = empty(compiled[f]) }
                continue
            }
            state.withUnsafeBytes { raw in
                guard let view = StateView(raw, inputs: inputs) else {
                    for (s, f) in selected.enumerated() { values[s][row] = empty(compiled[f]) }
                    return
                }
                if view.count > 0 { newest[row] = view.event(view.count - 1) }
                let hi = view.lowerBound(t)
                for s in spans.indices { scratch.los[s] = spans[s].map { view.lowerBound(t &- $0, below: hi) } ?? 0 }
                var decoded: AggregationProgram.Events?
                for (s, f) in selected.enumerated() {
                    let feature = compiled[f]
                    let lo = scratch.los[feature.spanIndex]
                    if let value = evaluate(feature, view, lo, hi, &scratch) {
                        values[s][row] = value
                        continue
                    }
                    // No kernel: the reference function over the decoded rows.
                    if decoded == nil { decoded = StateRows.decode(state, inputs: inputs)?.events(inputs: inputs) }
                    guard let events = decoded else { continue }
                    let function = WindowFunction(
                        function: feature.function, input: feature.input.map { events.inputs[$0] })
                    values[s][row] = events.event.withUnsafeBufferPointer { event in
                        events.created.withUnsafeBufferPointer { created in
                            function.evaluate(event: event, created: created, range: lo..<hi)
                        }
                    }
                }
            }
        }
        return (values, newest)
    }

    /// A feature's value over no rows: counts are 0, everything else null.
    private func empty(_ feature: Compiled) -> ScalarValue {
        switch feature.kernel {
        case .countRows, .countValid: return output(feature, int: 0)
        default: return feature.function == .count ? output(feature, int: 0) : .null
        }
    }

    @inline(__always)
    private func output(_ feature: Compiled, int value: Int64) -> ScalarValue {
        feature.type == .int32 ? .int32(Int32(truncatingIfNeeded: value)) : .int64(value)
    }

    @inline(__always)
    private func output(_ feature: Compiled, double value: Double) -> ScalarValue {
        feature.type == .float32 ? .float32(Float(value)) : .float64(value)
    }

    /// The kernel's value over rows `lo ..< hi` of `view`, or `nil` when the feature has no
    /// kernel here.
    @inline(__always)
    private func evaluate(_ feature: Compiled, _ view: StateView, _ lo: Int, _ hi: Int, _ scratch: inout Scratch)
        -> ScalarValue?
    {
        if case .countRows = feature.kernel { return output(feature, int: Int64(hi - lo)) }
        guard let k = feature.input, let type = feature.inputType else { return nil }
        let isInteger = type == .int64 || type == .int32
        switch feature.kernel {
        case .countRows, .general: return nil
        case .countValid:
            var n: Int64 = 0
            for p in lo..<hi where view.isValid(k, p) { n += 1 }
            return output(feature, int: n)
        case .sum, .mean:
            var n = 0
            var total: Double
            if isInteger {
                var exact: Int128 = 0
                for p in lo..<hi where view.isValid(k, p) {
                    exact += Int128(view.word(k, p))
                    n += 1
                }
                guard n > 0 else { return .null }
                if case .sum = feature.kernel {
                    return Int64(exactly: exact).map { output(feature, int: $0) } ?? .null
                }
                // Int128 → Double rounds once to nearest, as the training set's total does.
                total = Int64(exactly: exact).map(Double.init) ?? Double(exact)
            } else {
                scratch.sum.removeAll()
                for p in lo..<hi where view.isValid(k, p) {
                    scratch.sum.add(view.double(k, p))
                    n += 1
                }
                guard n > 0 else { return .null }
                total = scratch.sum.value
            }
            if case .mean = feature.kernel { return output(feature, double: total / Double(n)) }
            return output(feature, double: total)
        case .extreme(let max):
            var found = false
            if isInteger {
                var best: Int64 = 0
                for p in lo..<hi where view.isValid(k, p) {
                    let x = view.word(k, p)
                    if !found || (max ? x > best : x < best) { best = x }
                    found = true
                }
                return found ? output(feature, int: best) : .null
            }
            var best = 0.0
            for p in lo..<hi where view.isValid(k, p) {
                let x = view.double(k, p)
                if found {
                    let order = WindowFunction.compareDoubles(x, best)
                    if max ? order > 0 : order < 0 { best = x }
                } else {
                    best = x
                }
                found = true
            }
            return found ? output(feature, double: best) : .null
        case .distinct:
            scratch.window.registers.removeAll(keepingCapacity: true)
            for p in lo..<hi where view.isValid(k, p) {
                let hash: UInt64
                switch type {
                case .float64, .float32: hash = ValueHash.hash(double: view.double(k, p))
                case .string, .bytes: hash = ValueHash.hash(bytes: view.binary(k, p))
                default: hash = ValueHash.hash(int: view.word(k, p))
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
