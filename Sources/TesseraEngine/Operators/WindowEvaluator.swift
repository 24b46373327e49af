import Dispatch
import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// Aggregated features evaluated over source rows laid out per key in window order (by
/// event time): the one computation behind training sets and online reads, so both give
/// the same bits for the same rows.
///
/// Per group `g`, its rows are positions `starts[g] ..< starts[g + 1]` of `event`,
/// `created` and every input column. For each entity row (a group, or -1 for none, and a
/// time t) and feature, the value is the function over the group's rows with
/// `t − W <= event < t` (any earlier event for `lifetime`).
struct WindowEvaluator {
    let features: [Feature]
    let inputTypes: [ValueType]
    /// Per feature, its input's position in `columns` (`nil` for a bare `count`).
    let inputOf: [Int?]
    let starts: [Int]
    let event: [Int64]
    let created: [Int64]
    let columns: [Column]
    let threads: Int

    var groupCount: Int { max(0, starts.count - 1) }

    /// Every feature's column for the entity rows (`groupOfRow[i]`, `times[i]`), and which
    /// rows saw at least one source row in every window.
    func evaluate(groupOfRow: [Int32], times entityTimes: Column) throws -> (columns: [Column], matched: [Bool]) {
        let entityRows = entityTimes.count
        let kernels = features.enumerated().map { f, feature in
            WindowKernel.choose(feature.aggregation?.function ?? .count, type: inputOf[f].map { inputTypes[$0] })
        }
        // Each input laid out once in window order, in the forms its kernels read.
        var needs = [SortedInput.Needs?](repeating: nil, count: inputTypes.count)
        for (f, kernel) in kernels.enumerated() {
            guard let need = kernel.needs, let k = inputOf[f] else { continue }
            var merged = needs[k] ?? SortedInput.Needs()
            merged.merge(need)
            needs[k] = merged
        }
        let sortedInputs: [SortedInput?] = inputTypes.indices.map { k in
            needs[k].map { SortedInput(columns[k], needs: $0, threads: threads) }
        }
        let outputs = features.map { WindowOutput(type: $0.type, rows: entityRows) }
        var plans: [FeaturePlan] = []
        var general: [WindowFunction?] = []
        var spans: [Int64?] = []
        var totalSlots: [String: Int] = [:]
        for (f, feature) in features.enumerated() {
            var kernel = kernels[f]
            let input = inputOf[f].flatMap { sortedInputs[$0] }
            // A float sum whose values no fixed point holds goes the reference way (ExactSum).
            if case .sum = kernel, let input, !input.isInteger && input.scale == nil { kernel = .general }
            if case .mean = kernel, let input, !input.isInteger && input.scale == nil { kernel = .general }
            var span: Int64?
            if case .length(let length)? = feature.aggregation?.window { span = length.microseconds }
            var plan = FeaturePlan(kernel: kernel, span: span, input: input?.raw, output: outputs[f].slots)
            if let at = spans.firstIndex(of: span) {
                plan.spanIndex = at
            } else {
                plan.spanIndex = spans.count
                spans.append(span)
            }
            switch kernel {
            case .sum, .mean:
                let key = "\(inputOf[f] ?? -1)/\(plan.spanIndex)"
                plan.totalSlot = totalSlots[key] ?? totalSlots.count
                totalSlots[key] = plan.totalSlot
            default: break
            }
            plans.append(plan)
            if case .general = kernel {
                general.append(
                    WindowFunction(
                        function: feature.aggregation?.function ?? .count, input: inputOf[f].map { columns[$0] }))
            } else {
                general.append(nil)
            }
        }

        let matched = UnsafeMutableBufferPointer<Bool>.allocate(capacity: entityRows)
        matched.initialize(repeating: true)
        defer { matched.deallocate() }
        // Entity rows visited by key (a stable counting sort), so that each key's rows read its
        // sorted source rows while they are in cache: in input order every row missed.
        var visiting = [Int](repeating: 0, count: entityRows)
        do {
            var starts = [Int](repeating: 0, count: groupCount + 2)
            for i in 0..<entityRows { starts[Int(groupOfRow[i]) + 2] += 1 }
            for g in 1..<starts.count { starts[g] += starts[g - 1] }
            for i in 0..<entityRows {
                let slot = Int(groupOfRow[i]) + 1
                visiting[starts[slot]] = i
                starts[slot] += 1
            }
        }
        let visit = visiting
        // Everything a visit reads or writes per entity row is in visiting order: the rows'
        // groups and times are gathered first (independent loads), values are written at
        // the visiting position and put back at their entity rows once at the end. Indexed by
        // entity row, each of the ~16 reads and writes per row was a cache miss.
        let times = entityTimes.int64Values ?? []
        let visitGroup = visit.map { groupOfRow[$0] }
        let visitTime = visit.map { times.indices.contains($0) ? times[$0] : 0 }
        let visitValid = visit.map { entityTimes.isValid($0) }
        var positionOf = [Int](repeating: 0, count: entityRows)
        for (position, row) in visit.enumerated() { positionOf[row] = position }
        let chunks = Parallel.chunks(count: entityRows, threads: threads, minimum: 2048)
        let generalParts = ResultSlots<[ColumnBuilder]>(count: chunks.count)
        let slotCount = totalSlots.count
        let shared = UnsafeSendable((plans, general, matched, spans))
        DispatchQueue.concurrentPerform(iterations: max(1, chunks.count)) { c in
            guard chunks.indices.contains(c) else { return }
            let (plans, general, matched, spans) = shared.value
            var builders = features.indices.map { f in
                ColumnBuilder(type: features[f].type, capacity: general[f] == nil ? 0 : chunks[c].count)
            }
            var scratch = WindowScratch()
            scratch.totalRow = Array(repeating: -1, count: slotCount)
            scratch.totals = Array(repeating: (0, 0), count: slotCount)
            var los = [Int](repeating: 0, count: spans.count)
            event.withUnsafeBufferPointer { event in
                created.withUnsafeBufferPointer { created in
                    for position in chunks[c] {
                        // Written at `position` (see above): `i` is the visit's slot, not its entity row.
                        let i = position
                        let g = Int(visitGroup[position])
                        guard visitValid[position] else {
                            for f in plans.indices {
                                if general[f] != nil {
                                    builders[f].appendNull()
                                } else {
                                    plans[f].output.setNull(i)
                                }
                            }
                            matched[i] = false
                            continue
                        }
                        let t = visitTime[position]
                        let start = g >= 0 ? starts[g] : 0
                        let end = g >= 0 ? starts[g + 1] : 0
                        // First position with event >= t: the window's exclusive end.
                        let hi = WindowEvaluator.lowerBound(event, start, end, t)
                        for s in spans.indices {
                            los[s] =
                                spans[s].map { WindowEvaluator.lowerBound(event, start, hi, t &- $0) }
                                ?? start
                            if los[s] == hi { matched[i] = false }
                        }
                        for f in plans.indices {
                            let plan = plans[f]
                            let lo = los[plan.spanIndex]
                            if let function = general[f] {
                                let value = function.evaluate(event: event, created: created, range: lo..<hi)
                                if !builders[f].append(value) { builders[f].appendNull() }
                            } else {
                                WindowEvaluator.evaluate(plan, lo: lo, hi: hi, row: i, scratch: &scratch)
                            }
                        }
                    }
                }
            }
            generalParts.set(c, builders)
        }
        let parts = generalParts.values
        var outColumns: [Column] = []
        for f in features.indices {
            if general[f] != nil {
                // Built in visiting order: put each value back at its entity row.
                let pieces = parts.compactMap { $0?[f].finish() }
                let visited = pieces.isEmpty ? Column(empty: features[f].type) : try Column.concatenate(pieces)
                outColumns.append(visited.take(positionOf))
            } else {
                outColumns.append(outputs[f].finish(gathering: positionOf))
            }
        }
        withExtendedLifetime(sortedInputs) {}
        return (columns: outColumns, matched: positionOf.map { matched[$0] })
    }

    /// One feature's value for entity row `i` over the sorted positions `lo ..< hi`.
    @inline(__always)
    static func evaluate(_ plan: FeaturePlan, lo: Int, hi: Int, row i: Int, scratch: inout WindowScratch) {
        let output = plan.output
        if case .countRows = plan.kernel { return output.set(i, int: Int64(hi - lo)) }
        guard let input = plan.input, let valid = input.valid else { return output.setNull(i) }
        switch plan.kernel {
        case .countRows, .general: break
        case .countValid:
            var n: Int64 = 0
            for p in lo..<hi where valid[p] { n += 1 }
            output.set(i, int: n)
        case .sum:
            let (total, n) = scratch.total(plan, input, lo, hi, row: i)
            guard n > 0 else { return output.setNull(i) }
            if input.isInteger {
                guard let value = Int64(exactly: total) else { return output.setNull(i) }
                output.set(i, int: value)
            } else {
                output.set(i, double: input.double(total))
            }
        case .mean:
            let (total, n) = scratch.total(plan, input, lo, hi, row: i)
            guard n > 0 else { return output.setNull(i) }
            output.set(i, double: input.double(total) / Double(n))
        case .extreme(let max):
            if let integers = input.integers {
                var best: Int64?
                for p in lo..<hi where valid[p] {
                    let x = integers[p]
                    if let held = best { if max ? x > held : x < held { best = x } } else { best = x }
                }
                if let best { output.set(i, int: best) } else { output.setNull(i) }
            } else if let doubles = input.doubles {
                var best: Double?
                for p in lo..<hi where valid[p] {
                    let x = doubles[p]
                    if let held = best {
                        let order = WindowFunction.compareDoubles(x, held)
                        if max ? order > 0 : order < 0 { best = x }
                    } else {
                        best = x
                    }
                }
                if let best { output.set(i, double: best) } else { output.setNull(i) }
            } else {
                output.setNull(i)
            }
        case .distinct:
            guard let registers = input.registers else { return output.setNull(i) }
            let estimate = scratch.distinct(registers, valid, lo, hi)
            if let estimate { output.set(i, int: estimate) } else { output.setNull(i) }
        case .percentile(let q):
            guard let keys = input.quantileKeys else { return output.setNull(i) }
            scratch.keys.removeAll(keepingCapacity: true)
            for p in lo..<hi where keys[p] != Int32.min { scratch.keys.append(keys[p]) }
            let value = scratch.keys.withUnsafeMutableBufferPointer { QuantileSketch.quantile(q, keys: $0) }
            if let value { output.set(i, double: value) } else { output.setNull(i) }
        }
    }

    /// The first position in `start..<end` whose event is `>= time` (events are sorted).
    @inline(__always)
    static func lowerBound(_ event: UnsafeBufferPointer<Int64>, _ start: Int, _ end: Int, _ time: Int64) -> Int {
        var lo = start
        var hi = end
        while lo < hi {
            let mid = (lo + hi) >> 1
            if event[mid] < time { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
