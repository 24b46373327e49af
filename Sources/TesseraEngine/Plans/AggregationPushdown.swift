import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// One view's window aggregations, as the builder hands them to a pushdown.
public struct AggregationStep {
    public var view: FeatureView
    /// The requested aggregated features of the view.
    public var features: [Feature]
    public var keys: [JoinKey]
    /// The entity rows' key values, one column per key, already of the keys' types.
    public var entityKeys: [Column]
    public var entityTimes: Column
    /// The smallest and largest entity time.
    public var timeRange: (Int64, Int64)
    public var definitions: Definitions
}

/// What a remote engine computes for a view's window aggregations: per entity row (and per
/// binary band of the summed floats), partial states that merge exactly — counts, exact
/// integer sums, the extremes — from which `AggregationCollector` makes each feature's
/// value with the native engine's arithmetic. The engine never rounds a float sum: it sums
/// each value's integer mantissa at a fixed binary scale (its band), exactly, in decimal,
/// and Tessera rounds the total once, as `ExactSum` does for the native engine.
public struct AggregationPartials: Sendable {
    /// One partial-state column of the remote query.
    public enum Part: Hashable, Sendable {
        /// Rows in the window (a bare `count`, and whether the entity row matched).
        case rows(window: Int)
        /// Rows whose input is not null.
        case valid(input: Int, window: Int)
        /// The exact sum of an integer input, as decimal text.
        case integerSum(input: Int, window: Int)
        /// The exact sum, in the group's band, of a float input's scaled mantissas, as decimal text.
        case bandSum(input: Int, window: Int)
        /// Which of +∞ (bit 1), −∞ (bit 2) and NaN (bit 4) the input has in the window.
        case special(input: Int, window: Int)
        /// One of the three exact pieces of the band's sum of squares (`AggregationPartials.squarePieces`).
        case squareSum(input: Int, window: Int, piece: Int)
        /// The smallest or largest input value, by SQL order.
        case extreme(input: Int, window: Int, max: Bool)
        /// Signed zeros, which SQL orders as equal: for `min`, −1 when a −0.0 is in the
        /// window; for `max`, 1 when a +0.0 is.
        case zero(input: Int, window: Int, max: Bool)
    }

    /// What a feature reads from the merged parts (positions in `parts`).
    enum Output: Sendable {
        case count(Int)
        case integerSum(sum: Int, valid: Int, mean: Bool)
        case floatSum(band: Int, specials: Int, valid: Int, mean: Bool)
        case moments(band: Int, squares: [Int], specials: Int, valid: Int, deviation: Bool)
        case extreme(Int, zero: Int?, max: Bool)
    }

    /// The band width in bits: a mantissa (53 bits) at a scale below 2^32 and summed over
    /// fewer than 2^40 rows stays below 2^125, inside a 38-digit decimal.
    public static let bandBits = 32

    /// A squared mantissa `m² = a²·2^52 + 2ab·2^26 + b²` (`m = a·2^26 + b`) is summed as its
    /// three pieces, each below 2^54; with `x = m·2^s` for `s = 16·band + r`, the square is
    /// `pieces · 2^(2r) · 2^(32·band − 2148)`, so inputs with squares use bands of 16 bits.
    public static let squarePieces = [52, 26, 0]

    public let inputs: [(name: String, type: ValueType)]
    /// The distinct windows (span in microseconds; `nil` for lifetime).
    public let windows: [Int64?]
    public private(set) var parts: [Part] = []
    /// The inputs whose values are decomposed into bands, in the order of the group columns.
    public private(set) var banded: [Int] = []
    /// The banded inputs whose squares are summed too (`var`, `stddev`): their bands are 16 bits.
    public private(set) var squared: [Int] = []
    let outputs: [Output]
    /// Per window, its `rows` part.
    let rowParts: [Int]

    /// The partials of `features`, or why a remote engine cannot compute them all exactly.
    public init(features: [Feature]) throws(NativeReason) {
        let layout = AggregationInputsLayout(features)
        inputs = layout.inputs
        var windows: [Int64?] = []
        func window(_ feature: Feature) -> Int {
            let span: Int64?
            switch feature.aggregation?.window {
            case .length(let length)?: span = length.microseconds
            default: span = nil
            }
            if let at = windows.firstIndex(of: span) { return at }
            windows.append(span)
            return windows.count - 1
        }
        var parts: [Part] = []
        var banded: [Int] = []
        var squared: [Int] = []
        func part(_ part: Part) -> Int {
            if let at = parts.firstIndex(of: part) { return at }
            parts.append(part)
            if case .bandSum(let input, _) = part, !banded.contains(input) { banded.append(input) }
            return parts.count - 1
        }
        var outputs: [Output] = []
        for (feature, input) in zip(features, layout.inputOf) {
            guard let aggregation = feature.aggregation else {
                throw NativeReason("'\(feature.name)' is not aggregated")
            }
            let w = window(feature)
            guard let k = input else {
                outputs.append(.count(part(.rows(window: w))))
                continue
            }
            let type = layout.inputs[k].type
            let integer = type == .int32 || type == .int64
            func floatSum(mean: Bool) -> Output {
                .floatSum(
                    band: part(.bandSum(input: k, window: w)),
                    specials: part(.special(input: k, window: w)),
                    valid: part(.valid(input: k, window: w)), mean: mean)
            }
            switch aggregation.function {
            case .count: outputs.append(.count(part(.valid(input: k, window: w))))
            case .sum where integer, .mean where integer:
                outputs.append(
                    .integerSum(
                        sum: part(.integerSum(input: k, window: w)), valid: part(.valid(input: k, window: w)),
                        mean: aggregation.function == .mean))
            case .sum where type.isNumeric: outputs.append(floatSum(mean: false))
            case .variance where type.isNumeric, .stddev where type.isNumeric:
                if !squared.contains(k) { squared.append(k) }
                outputs.append(
                    .moments(
                        band: part(.bandSum(input: k, window: w)),
                        squares: Self.squarePieces.indices.map { part(.squareSum(input: k, window: w, piece: $0)) },
                        specials: part(.special(input: k, window: w)), valid: part(.valid(input: k, window: w)),
                        deviation: aggregation.function == .stddev))
            case .mean where type.isNumeric: outputs.append(floatSum(mean: true))
            case .min, .max:
                let max = aggregation.function == .max
                guard type != .bytes, !type.isList else {
                    throw NativeReason("\(aggregation.function) of \(type.name) is computed natively")
                }
                let floating = type == .float32 || type == .float64
                outputs.append(
                    .extreme(
                        part(.extreme(input: k, window: w, max: max)),
                        zero: floating ? part(.zero(input: k, window: w, max: max)) : nil, max: max))
            default:
                throw NativeReason("\(aggregation.function) is not expressed in SQL yet")
            }
        }
        rowParts = windows.indices.map { part(.rows(window: $0)) }
        self.windows = windows
        self.parts = parts
        self.banded = banded
        self.squared = squared
        self.outputs = outputs
    }

    /// The width in bits of `input`'s bands.
    public func bandBits(of input: Int) -> Int { squared.contains(input) ? 16 : Self.bandBits }

    /// `features` split into those a remote engine can compute exactly and the others.
    public static func split(_ features: [Feature]) -> (remote: [Feature], local: [Feature]) {
        var remote: [Feature] = []
        var local: [Feature] = []
        for feature in features {
            if (try? AggregationPartials(features: [feature])) != nil {
                remote.append(feature)
            } else {
                local.append(feature)
            }
        }
        return (remote, local)
    }

    /// Why the first feature of `features` a remote engine cannot compute stays native.
    public static func reason(_ features: [Feature]) -> NativeReason? {
        for feature in features {
            do {
                _ = try AggregationPartials(features: [feature])
            } catch {
                return error
            }
        }
        return nil
    }

    /// Whether a remote engine's values of `type` aggregate as the native engine's values of
    /// the input type `input` (which it casts them to first) do: the same type, or a cast
    /// that keeps order and exact sums (a wider integer or float, an integer to float64,
    /// which the engine's SQL casts to a double the same way).
    public static func reads(_ type: ValueType, as input: ValueType) -> Bool {
        switch (type, input) {
        case _ where type == input: true
        case (.int32, .int64), (.float32, .float64), (.int32, .float64), (.int64, .float64): true
        default: false
        }
    }

    /// The earliest event any window of an entity row at `earliest` reaches (`nil`: lifetime).
    public func lower(earliest: Int64) -> Int64? { widest.flatMap { windows[$0] }.map { earliest &- $0 } }

    /// The widest window's index, `nil` when one is lifetime (then no lower bound at all).
    public var widest: Int? {
        guard !windows.contains(where: { $0 == nil }) else { return nil }
        return windows.indices.max { (windows[$0] ?? 0) < (windows[$1] ?? 0) }
    }
}

/// Gathers a remote engine's partial states, batch by batch, and makes the features: each
/// result row is one group (an entity row and, for summed floats, one band per banded input).
public struct AggregationCollector {
    let partials: AggregationPartials
    let features: [Feature]
    let entityTimes: Column
    private var rows: [Int] = []
    private var bands: [[Column]]
    private var parts: [[Column]]

    public init(partials: AggregationPartials, features: [Feature], entityTimes: Column) {
        self.partials = partials
        self.features = features
        self.entityTimes = entityTimes
        bands = Array(repeating: [], count: partials.banded.count)
        parts = Array(repeating: [], count: partials.parts.count)
    }

    /// Adds one batch: per result row its entity row, the band of each banded input (an
    /// integer, null for a group without finite values) and the parts (integer counts and
    /// zero flags, text sums, extremes of a type that casts to the input's).
    public mutating func add(rows: [Int], bands: [Column], parts: [Column], view: String) throws(TrainingSetError) {
        guard bands.count == self.bands.count, parts.count == self.parts.count else {
            throw TrainingSetError("the engine returned \(bands.count + parts.count + 1) columns for \(view)")
        }
        for row in rows where row < 0 || row >= entityTimes.count {
            throw TrainingSetError("the engine returned entity row \(row) for \(view), which the request does not have")
        }
        self.rows += rows
        for (k, column) in bands.enumerated() {
            self.bands[k].append(column.type == .int64 ? column : column.cast(to: .int64) ?? column)
        }
        // Engines return some parts in a narrower type (an int32 column's minimum, a count as int32).
        for (k, column) in parts.enumerated() {
            let type = Self.type(of: partials.parts[k], inputs: partials.inputs)
            self.parts[k].append(column.type == type ? column : column.cast(to: type) ?? column)
        }
    }

    /// The features, aligned with the entity rows, and which entity rows saw a row in every window.
    public func result(view: String) throws -> PushdownResult {
        let entityRows = entityTimes.count
        let groups = rows.count
        let bandValid = try bands.map { try Self.whole($0, type: .int64) }
        let band = bandValid.map { $0.int64Values ?? Array(repeating: 0, count: groups) }
        let columns = try parts.enumerated().map { k, chunks in
            try Self.whole(chunks, type: Self.type(of: partials.parts[k], inputs: partials.inputs))
        }
        // The groups of each entity row, as linked lists.
        var head = [Int](repeating: -1, count: entityRows)
        var next = [Int](repeating: -1, count: groups)
        for g in stride(from: groups - 1, through: 0, by: -1) {
            next[g] = head[rows[g]]
            head[rows[g]] = g
        }
        /// An integer part merged over entity row `i`'s groups.
        func merged(_ part: Int, _ i: Int, _ combine: (Int64, Int64) -> Int64) -> Int64 {
            var out: Int64 = 0
            var g = head[i]
            let column = columns[part]
            let values = column.int64Values ?? []
            while g >= 0 {
                if column.isValid(g) { out = combine(out, values[g]) }
                g = next[g]
            }
            return out
        }
        func count(_ part: Int, _ i: Int) -> Int64 { merged(part, i, &+) }
        func flags(_ part: Int, _ i: Int) -> Int64 { merged(part, i, |) }
        func total(_ part: Int, _ i: Int) throws -> Int128 {
            var sum: Int128 = 0
            var g = head[i]
            while g >= 0 {
                if let value = try Self.integer(columns[part], g, view: view) { sum &+= value }
                g = next[g]
            }
            return sum
        }
        let timeValid = (0..<entityRows).map { entityTimes.isValid($0) }
        var matched = [Bool](repeating: true, count: entityRows)
        for i in 0..<entityRows {
            if head[i] < 0 { matched[i] = false }
            for part in partials.rowParts where matched[i] && count(part, i) == 0 { matched[i] = false }
        }
        var out: [Column] = []
        var exact = ExactSum()
        for (feature, output) in zip(features, partials.outputs) {
            let column: Column
            switch output {
            case .count(let part):
                var values = [Int64](repeating: 0, count: entityRows)
                for i in 0..<entityRows where head[i] >= 0 { values[i] = count(part, i) }
                column = .int64(values, validity: Bitmap(timeValid))
            case .integerSum(let part, let valid, false):
                var values = [Int64](repeating: 0, count: entityRows)
                var present = [Bool](repeating: false, count: entityRows)
                for i in 0..<entityRows where head[i] >= 0 && count(valid, i) > 0 {
                    if let value = Int64(exactly: try total(part, i)) {
                        values[i] = value
                        present[i] = true
                    }
                }
                column = .int64(values, validity: Bitmap(present))
            case .integerSum(let part, let valid, true):
                // The exact total rounded once, divided by the count, as natively.
                var values = [Double](repeating: 0, count: entityRows)
                var present = [Bool](repeating: false, count: entityRows)
                for i in 0..<entityRows where head[i] >= 0 {
                    let n = count(valid, i)
                    guard n > 0 else { continue }
                    values[i] = FixedPointScale.nearest(try total(part, i)) / Double(n)
                    present[i] = true
                }
                column = Column(type: .float64, data: .float64(values), validity: Bitmap(present))
            case .floatSum(let part, let specials, let valid, let mean):
                guard case .bandSum(let input, _) = partials.parts[part],
                    let b = partials.banded.firstIndex(of: input)
                else { throw TrainingSetError("no band column for \(feature.name) of \(view)") }
                var values = [Double](repeating: 0, count: entityRows)
                var present = [Bool](repeating: false, count: entityRows)
                for i in 0..<entityRows where head[i] >= 0 {
                    let n = count(valid, i)
                    guard n > 0 else { continue }
                    exact.removeAll()
                    var g = head[i]
                    while g >= 0 {
                        if bandValid[b].isValid(g), let value = try Self.integer(columns[part], g, view: view) {
                            let scale = Int(band[b][g]) * partials.bandBits(of: input) - 1074
                            exact.add(value, exponent: scale)
                        }
                        g = next[g]
                    }
                    Self.addSpecials(flags(specials, i), to: &exact)
                    values[i] = mean ? exact.value / Double(n) : exact.value
                    present[i] = true
                }
                column = Column(type: .float64, data: .float64(values), validity: Bitmap(present))
            case .moments(let part, let squares, let specials, let valid, let deviation):
                guard case .bandSum(let input, _) = partials.parts[part],
                    let b = partials.banded.firstIndex(of: input)
                else { throw TrainingSetError("no band column for \(feature.name) of \(view)") }
                var values = [Double](repeating: 0, count: entityRows)
                var present = [Bool](repeating: false, count: entityRows)
                var squaresSum = ExactSum()
                for i in 0..<entityRows where head[i] >= 0 {
                    let n = count(valid, i)
                    guard n > 1 else { continue }
                    exact.removeAll()
                    squaresSum.removeAll()
                    var g = head[i]
                    while g >= 0 {
                        if bandValid[b].isValid(g) {
                            let base = Int(band[b][g]) * partials.bandBits(of: input)
                            if let value = try Self.integer(columns[part], g, view: view) {
                                exact.add(value, exponent: base - 1074)
                            }
                            for (piece, shift) in zip(squares, AggregationPartials.squarePieces) {
                                if let value = try Self.integer(columns[piece], g, view: view) {
                                    squaresSum.add(value, exponent: 2 * base - 2148 + shift)
                                }
                            }
                        }
                        g = next[g]
                    }
                    Self.addSpecials(flags(specials, i), to: &exact)
                    let moments = ExactMoments(count: Int(n), sum: exact, squares: squaresSum)
                    if let value = deviation ? moments.standardDeviation : moments.variance {
                        values[i] = value
                        present[i] = true
                    }
                }
                column = Column(type: .float64, data: .float64(values), validity: Bitmap(present))
            case .extreme(let part, let zero, let max):
                let source = columns[part]
                var picked = [Int](repeating: -1, count: entityRows)
                for i in 0..<entityRows {
                    var g = head[i]
                    while g >= 0 {
                        if source.isValid(g) {
                            let best = picked[i]
                            if best < 0 {
                                picked[i] = g
                            } else {
                                let order = WindowFunction.compare(source.value(at: g), source.value(at: best))
                                if max ? order > 0 : order < 0 { picked[i] = g }
                            }
                        }
                        g = next[g]
                    }
                }
                var taken = source.take(picked)
                if let zero { taken = Self.signZeros(taken, flags: columns[zero], head: head, next: next, max: max) }
                column = taken
            }
            out.append(column.type == feature.type ? column : column.cast(to: feature.type) ?? column)
        }
        return PushdownResult(matched: matched, columns: out, rowsReturned: groups)
    }

    /// The type of a part's column.
    static func type(of part: AggregationPartials.Part, inputs: [(name: String, type: ValueType)]) -> ValueType {
        switch part {
        case .integerSum, .bandSum, .squareSum: .string
        case .extreme(let input, _, _): inputs[input].type
        default: .int64
        }
    }

    static func whole(_ chunks: [Column], type: ValueType) throws -> Column {
        chunks.isEmpty ? Column(empty: type) : try Column.concatenate(chunks)
    }

    /// Adds the infinities and NaN a `special` part's bits say occur: `ExactSum.add` keeps
    /// them apart as their IEEE sum, as it does natively.
    static func addSpecials(_ kinds: Int64, to sum: inout ExactSum) {
        for (bit, value) in [(Int64(1), Double.infinity), (2, -Double.infinity), (4, Double.nan)]
        where kinds & bit != 0 {
            sum.add(value)
        }
    }

    /// A decimal integer of a text column (`nil` for null).
    static func integer(_ column: Column, _ row: Int, view: String) throws(TrainingSetError) -> Int128? {
        guard column.isValid(row), case .binary(let data) = column.data else { return nil }
        let bytes = data.bytes(at: row)
        var value: Int128 = 0
        var negative = false
        var digits = 0
        for (offset, byte) in bytes.enumerated() {
            if offset == 0 && (byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")) {
                negative = byte == UInt8(ascii: "-")
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw TrainingSetError(
                    "the engine returned '\(String(decoding: bytes, as: UTF8.self))' as an exact sum for \(view)")
            }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(Int128(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else {
                throw TrainingSetError("the engine returned an exact sum beyond 128 bits for \(view)")
            }
            value = plus
            digits += 1
        }
        guard digits > 0 else { throw TrainingSetError("the engine returned an empty exact sum for \(view)") }
        return negative ? -value : value
    }

    /// Extremes that are zero given the sign the window's zeros decide (SQL orders −0.0 and
    /// +0.0 as equal; the native order puts −0.0 first).
    static func signZeros(_ column: Column, flags: Column, head: [Int], next: [Int], max: Bool) -> Column {
        let flag = flags.int64Values ?? []
        func decided(_ i: Int) -> Bool {
            var g = head[i]
            while g >= 0 {
                if flags.isValid(g), flag[g] == (max ? 1 : -1) { return true }
                g = next[g]
            }
            return false
        }
        // min: −0.0 when some −0.0 is in the window; max: +0.0 when some +0.0 is.
        func zero(_ i: Int) -> Double { (decided(i) == max) ? 0.0 : -0.0 }
        switch column.data {
        case .float64(var values):
            for i in values.indices where column.isValid(i) && values[i] == 0 { values[i] = zero(i) }
            return Column(type: column.type, data: .float64(values), validity: column.validity)
        case .float32(var values):
            for i in values.indices where column.isValid(i) && values[i] == 0 { values[i] = Float(zero(i)) }
            return Column(type: column.type, data: .float32(values), validity: column.validity)
        default:
            return column
        }
    }
}
