import Foundation
import TesseraColumnar
import TesseraCore

/// `CAST` and the implicit widenings: int → float as the hardware converts (to nearest),
/// float → int to the nearest, ties to even (as DuckDB; Spark truncates); a value outside the
/// target's range, NaN, ±inf or a string that does not parse is null.
enum Casts {
    static func cast(_ v: Vector, from: ValueType, to: ValueType) -> Vector {
        if from == to { return v }
        let n = v.count
        var valid = v.valid
        if from == TypeChecker.nullType {
            return Vector(payload: empty(to, n), valid: Array(repeating: false, count: n))
        }
        switch (Kind(from), Kind(to)) {
        case (.integer, .integer), (.bool, .integer):
            var values = v.integers
            if to == .int32 {
                for i in 0..<n where valid[i] && Int32(exactly: values[i]) == nil {
                    valid[i] = false
                    values[i] = 0
                }
            }
            return Vector(payload: .integer(values), valid: valid)
        case (.integer, .float), (.bool, .float), (.float, .float):
            var values = v.floats
            if to == .float32 { values = values.map { Double(Float($0)) } }
            return Vector(payload: .float(values), valid: valid)
        case (.float, .integer):
            let x = v.floats
            var values = [Int64](repeating: 0, count: n)
            for i in 0..<n where valid[i] {
                let r = x[i].rounded(.toNearestOrEven)
                if let exact = Int64(exactly: r), to != .int32 || Int32(exactly: exact) != nil {
                    values[i] = exact
                } else {
                    valid[i] = false
                }
            }
            return Vector(payload: .integer(values), valid: valid)
        case (.integer, .bool): return Vector(payload: .bool(v.integers.map { $0 != 0 }), valid: valid)
        case (.float, .bool): return Vector(payload: .bool(v.floats.map { $0 != 0 }), valid: valid)
        case (.string, _):
            let s = v.strings
            switch Kind(to) {
            case .integer:
                var values = [Int64](repeating: 0, count: n)
                for i in 0..<n where valid[i] {
                    let text = String(decoding: s.bytes(at: i), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    if let x = Int64(text), to != .int32 || Int32(exactly: x) != nil {
                        values[i] = x
                    } else {
                        valid[i] = false
                    }
                }
                return Vector(payload: .integer(values), valid: valid)
            case .float:
                var values = [Double](repeating: 0, count: n)
                for i in 0..<n where valid[i] {
                    let text = String(decoding: s.bytes(at: i), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    if let x = Double(text) {
                        values[i] = to == .float32 ? Double(Float(x)) : x
                    } else {
                        valid[i] = false
                    }
                }
                return Vector(payload: .float(values), valid: valid)
            case .bool:
                var values = [Bool](repeating: false, count: n)
                for i in 0..<n where valid[i] {
                    switch String(decoding: s.bytes(at: i), as: UTF8.self).trimmingCharacters(in: .whitespaces)
                        .lowercased()
                    {
                    case "true", "t", "1", "yes", "y": values[i] = true
                    case "false", "f", "0", "no", "n": values[i] = false
                    default: valid[i] = false
                    }
                }
                return Vector(payload: .bool(values), valid: valid)
            case .timestamp:
                var values = [Int64](repeating: 0, count: n)
                for i in 0..<n where valid[i] {
                    let text = String(decoding: s.bytes(at: i), as: UTF8.self)
                    if let t = Timestamp(parsing: text) { values[i] = t.microseconds } else { valid[i] = false }
                }
                return Vector(payload: .integer(values), valid: valid)
            default: return v
            }
        case (_, .string):
            var out = BinaryData()
            for i in 0..<n {
                guard valid[i] else {
                    out.appendEmpty()
                    continue
                }
                switch v.payload {
                case .bool(let x): out.append(x[i] ? "true" : "false")
                case .integer(let x):
                    out.append(Kind(from) == .timestamp ? Timestamp(microseconds: x[i]).iso8601 : String(x[i]))
                case .float(let x): out.append(from == .float32 ? String(Float(x[i])) : String(x[i]))
                case .string(let x): out.append(bytes: x.bytes(at: i))
                case .list: out.appendEmpty()  // never: lists are not cast
                }
            }
            return Vector(payload: .string(out), valid: valid)
        default: return v
        }
    }

    static func empty(_ type: ValueType, _ n: Int) -> Vector.Payload {
        switch Kind(type) {
        case .bool: return .bool(Array(repeating: false, count: n))
        case .float: return .float(Array(repeating: 0, count: n))
        case .string:
            var data = BinaryData()
            for _ in 0..<n { data.appendEmpty() }
            return .string(data)
        default: return .integer(Array(repeating: 0, count: n))
        }
    }
}

/// The built-in functions, each over whole vectors.
enum Functions {
    static func call(_ function: Function, _ a: [Vector], _ type: ValueType) -> Vector {
        let n = a.first?.count ?? 0
        switch function {
        case .listLength, .listElement:
            guard case .list(let offsets, let values) = a[0].payload else {
                return Vector(payload: Casts.empty(type, n), valid: Array(repeating: false, count: n))
            }
            if function == .listLength {
                let lengths = (0..<n).map { Int64(offsets[$0 + 1] - offsets[$0]) }
                return Vector(payload: .integer(lengths), valid: a[0].valid)
            }
            // 1 is the first element, -1 the last; 0 and beyond either end are null (DuckDB's).
            let index = a[1].integers
            let picks = (0..<n).map { i -> Int in
                guard a[0].valid[i] && a[1].valid[i] else { return -1 }
                let count = offsets[i + 1] - offsets[i]
                let k = index[i]
                if k >= 1 && k <= Int64(count) { return offsets[i] + Int(k) - 1 }
                if k <= -1 && -k <= Int64(count) { return offsets[i + 1] + Int(k) }
                return -1
            }
            return Evaluator.vector(values.take(picks))
        case .coalesce:
            var pick = [Int](repeating: -1, count: n)
            for (k, v) in a.enumerated() {
                for i in 0..<n where pick[i] < 0 && v.valid[i] { pick[i] = k }
            }
            return gather(a, pick, type)
        case .least, .greatest:
            // Nulls are skipped (as DuckDB and Spark): null only when every argument is.
            var pick = [Int](repeating: -1, count: n)
            let wantLess = function == .least
            for (k, v) in a.enumerated() {
                for i in 0..<n where v.valid[i] {
                    guard pick[i] >= 0 else {
                        pick[i] = k
                        continue
                    }
                    let order = compare(v, a[pick[i]], i, type)
                    if wantLess ? order < 0 : order > 0 { pick[i] = k }
                }
            }
            return gather(a, pick, type)
        case .nullif:
            var valid = a[0].valid
            for i in 0..<n where valid[i] && a[1].valid[i] && compare(a[0], a[1], i, type) == 0 { valid[i] = false }
            var out = a[0]
            out.valid = valid
            return Kind(type) == .float ? Vector(payload: .float(out.floats), valid: valid) : out
        case .abs:
            if Kind(type) == .float { return map(a[0]) { Swift.abs($0) } }
            var valid = a[0].valid
            let values = a[0].integers.enumerated().map { i, x -> Int64 in
                if x == Int64.min {
                    valid[i] = false
                    return 0
                }
                return Swift.abs(x)
            }
            return Vector(payload: .integer(values), valid: valid)
        case .sign:
            let x = a[0].floats
            return Vector(payload: .integer(x.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }), valid: a[0].valid)
        case .round, .floor, .ceil:
            guard Kind(type) == .float else { return a[0] }
            let rule: FloatingPointRoundingRule =
                function == .round ? .toNearestOrAwayFromZero : (function == .floor ? .down : .up)
            if a.count == 2 {
                let digits = a[1].integers
                var valid = zip(a[0].valid, a[1].valid).map { $0 && $1 }
                let x = a[0].floats
                let values = (0..<n).map { i -> Double in
                    guard valid[i] else { return 0 }
                    let d = max(-308, min(308, digits[i]))
                    let scale = Foundation.pow(10.0, Double(Swift.abs(d)))
                    let r = d >= 0 ? Functions.scaled(x[i], scale, rule) / scale : (x[i] / scale).rounded(rule) * scale
                    if !r.isFinite && x[i].isFinite { valid[i] = false }
                    return r
                }
                return Vector(payload: .float(values), valid: valid)
            }
            return map(a[0]) { $0.rounded(rule) }
        // IEEE outside the domains, as DuckDB: sqrt(-1) and ln(-1) are NaN, ln(0) is -inf.
        case .sqrt: return map(a[0]) { $0.squareRoot() }
        case .exp: return map(a[0]) { Foundation.exp($0) }
        case .ln: return map(a[0]) { Foundation.log($0) }
        case .log10: return map(a[0]) { Foundation.log10($0) }
        case .pow:
            let (x, y) = (a[0].floats, a[1].floats)
            return Vector(
                payload: .float((0..<n).map { Foundation.pow(x[$0], y[$0]) }),
                valid: zip(a[0].valid, a[1].valid).map { $0 && $1 })
        case .haversineKm:
            let v = a.map(\.floats)
            let valid = (0..<n).map { i in a.allSatisfy { $0.valid[i] } }
            let values = (0..<n).map { i -> Double in
                let radians = Double.pi / 180
                let (lat1, lat2) = (v[0][i] * radians, v[2][i] * radians)
                let dLat = lat2 - lat1
                let dLon = (v[3][i] - v[1][i]) * radians
                let h =
                    Foundation.sin(dLat / 2) * Foundation.sin(dLat / 2) + Foundation.cos(lat1) * Foundation.cos(lat2)
                    * Foundation.sin(dLon / 2) * Foundation.sin(dLon / 2)
                return 2 * 6371.0088 * Foundation.asin(Swift.min(1, h.squareRoot()))
            }
            return Vector(payload: .float(values), valid: valid)
        case .lower: return strings(a[0]) { $0.lowercased() }
        case .upper: return strings(a[0]) { $0.uppercased() }
        case .trim: return strings(a[0]) { $0.trimmingCharacters(in: .whitespaces) }
        case .length:
            let s = a[0].strings
            return Vector(
                payload: .integer(
                    (0..<n).map { Int64(String(decoding: s.bytes(at: $0), as: UTF8.self).unicodeScalars.count) }),
                valid: a[0].valid)
        case .substr:
            let s = a[0].strings
            let start = a[1].integers
            let length = a.count > 2 ? a[2].integers : nil
            let valid = (0..<n).map { i in a.allSatisfy { $0.valid[i] } }
            var out = BinaryData()
            for i in 0..<n {
                guard valid[i] else {
                    out.appendEmpty()
                    continue
                }
                let scalars = Array(String(decoding: s.bytes(at: i), as: UTF8.self).unicodeScalars)
                // 1-based; a start of 0 or below counts positions before the string (SQL).
                // A negative start counts from the end (DuckDB's substr).
                let from = start[i] < 0 ? Int64(scalars.count) &+ start[i] : start[i] - 1
                let to = length.map { from &+ Swift.max(0, $0[i]) } ?? Int64(scalars.count)
                let lo = Int(Swift.max(0, Swift.min(Int64(scalars.count), from)))
                let hi = Int(Swift.max(Int64(lo), Swift.min(Int64(scalars.count), to)))
                var text = String.UnicodeScalarView()
                text.append(contentsOf: scalars[lo..<hi])
                out.append(String(text))
            }
            return Vector(payload: .string(out), valid: valid)
        case .concat:
            // NULL arguments are skipped (as DuckDB's concat; `||` gives NULL instead).
            var out = BinaryData()
            let parts = a.map(\.strings)
            for i in 0..<n {
                for (k, part) in parts.enumerated() where a[k].valid[i] {
                    out.bytes.append(contentsOf: part.bytes(at: i))
                }
                out.offsets.append(out.bytes.count)
            }
            return Vector(payload: .string(out), valid: Array(repeating: true, count: n))
        case .replace:
            let s = a.map(\.strings)
            let valid = (0..<n).map { i in a.allSatisfy { $0.valid[i] } }
            var out = BinaryData()
            for i in 0..<n {
                guard valid[i] else {
                    out.appendEmpty()
                    continue
                }
                let text = String(decoding: s[0].bytes(at: i), as: UTF8.self)
                let from = String(decoding: s[1].bytes(at: i), as: UTF8.self)
                let to = String(decoding: s[2].bytes(at: i), as: UTF8.self)
                out.append(from.isEmpty ? text : text.replacingOccurrences(of: from, with: to))
            }
            return Vector(payload: .string(out), valid: valid)
        case .like:
            let (x, y) = (a[0].strings, a[1].strings)
            let valid = zip(a[0].valid, a[1].valid).map { $0 && $1 }
            let values = (0..<n).map { i -> Bool in
                valid[i] && Functions.like(x.bytes(at: i), y.bytes(at: i))
            }
            return Vector(payload: .bool(values), valid: valid)
        case .startsWith, .endsWith, .contains:
            let (x, y) = (a[0].strings, a[1].strings)
            let valid = zip(a[0].valid, a[1].valid).map { $0 && $1 }
            let values = (0..<n).map { i -> Bool in
                guard valid[i] else { return false }
                let (s, p) = (Array(x.bytes(at: i)), Array(y.bytes(at: i)))
                switch function {
                case .startsWith: return s.starts(with: p)
                case .endsWith: return s.reversed().starts(with: p.reversed())
                default:
                    return p.isEmpty
                        || (s.count >= p.count
                            && (0...(s.count - p.count)).contains { Array(s[$0..<$0 + p.count]) == p })
                }
            }
            return Vector(payload: .bool(values), valid: valid)
        case .hour, .minute, .dayOfWeek, .dayOfMonth, .month, .year, .epochSeconds:
            let t = a[0].integers
            let values = t.map { micros -> Int64 in
                let seconds = micros >= 0 ? micros / 1_000_000 : -((-micros + 999_999) / 1_000_000)
                let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
                let inDay = seconds - days * 86_400
                switch function {
                case .hour: return inDay / 3_600
                case .minute: return inDay % 3_600 / 60
                // 1970-01-01 was a Thursday; Sunday is 0 (DuckDB's dayofweek).
                case .dayOfWeek: return ((days + 4) % 7 + 7) % 7
                case .dayOfMonth: return Timestamp.civilFromDays(days).day
                case .month: return Timestamp.civilFromDays(days).month
                case .year: return Timestamp.civilFromDays(days).year
                default: return seconds
                }
            }
            return Vector(payload: .integer(values), valid: a[0].valid)
        }
    }

    /// `x × scale` rounded by `rule` as the exact product rounds: when the computed product
    /// lands on a tie (or an integer) only because of its own rounding, the product's error
    /// (from a fused multiply-add) decides, so round(123.455, 2) is 123.45 (123.455 is
    /// 123.45499999… as a double), as DuckDB gives.
    static func scaled(_ x: Double, _ scale: Double, _ rule: FloatingPointRoundingRule) -> Double {
        let p = x * scale
        guard p.isFinite else { return p }
        let error = (-p).addingProduct(x, scale)  // x·scale − p, exactly
        if error == 0 { return p.rounded(rule) }
        let r = p.rounded(rule)
        switch rule {
        case .down: return p == r && error < 0 ? r - 1 : r
        case .up: return p == r && error > 0 ? r + 1 : r
        default:
            // A tie of p: the exact product is above or below it.
            guard p - p.rounded(.down) == 0.5 else { return r }
            return error > 0 ? p.rounded(.up) : p.rounded(.down)
        }
    }

    static func gather(_ a: [Vector], _ pick: [Int], _ type: ValueType) -> Vector {
        let n = pick.count
        let valid = pick.map { $0 >= 0 }
        switch Kind(type) {
        case .float:
            let f = a.map(\.floats)
            return Vector(payload: .float((0..<n).map { pick[$0] >= 0 ? f[pick[$0]][$0] : 0 }), valid: valid)
        case .bool:
            let f = a.map(\.bools)
            return Vector(payload: .bool((0..<n).map { pick[$0] >= 0 ? f[pick[$0]][$0] : false }), valid: valid)
        case .string:
            let f = a.map(\.strings)
            var out = BinaryData()
            for i in 0..<n {
                if pick[i] >= 0 { out.append(bytes: f[pick[i]].bytes(at: i)) } else { out.appendEmpty() }
            }
            return Vector(payload: .string(out), valid: valid)
        default:
            let f = a.map(\.integers)
            return Vector(payload: .integer((0..<n).map { pick[$0] >= 0 ? f[pick[$0]][$0] : 0 }), valid: valid)
        }
    }

    /// Row `i` of two vectors of `type`'s kind, in the expressions' order (both payloads are
    /// already of that kind, so no conversion runs per row).
    static func compare(_ x: Vector, _ y: Vector, _ i: Int, _ type: ValueType) -> Int {
        switch Kind(type) {
        case .float: return Evaluator.order(x.floats[i], y.floats[i])
        case .string:
            let (p, q) = (x.strings.bytes(at: i), y.strings.bytes(at: i))
            return p == q ? 0 : (p.lexicographicallyPrecedes(q) ? -1 : 1)
        case .bool: return (x.bools[i] ? 1 : 0) - (y.bools[i] ? 1 : 0)
        default:
            let (p, q) = (x.integers[i], y.integers[i])
            return p < q ? -1 : (p > q ? 1 : 0)
        }
    }

    /// `f` over every row (null rows too: their slot is never read, and a loop without the
    /// validity test is SIMD). Inlined so each function's body becomes the loop's.
    @inline(__always)
    static func map(_ v: Vector, _ f: (Double) -> Double) -> Vector {
        let x = v.floats
        return Vector(payload: .float(Kernels.map(x, rows: x.count, f)), valid: v.valid)
    }

    static func strings(_ v: Vector, _ f: (String) -> String) -> Vector {
        let s = v.strings
        var out = BinaryData()
        for i in 0..<v.count {
            if v.valid[i] { out.append(f(String(decoding: s.bytes(at: i), as: UTF8.self))) } else { out.appendEmpty() }
        }
        return Vector(payload: .string(out), valid: v.valid)
    }

    /// SQL LIKE over Unicode scalars: `%` matches any run (also empty), `_` exactly one
    /// character, everything else itself (case-sensitive, no escape character). Linear
    /// backtracking to the last `%`, so no pattern is exponential.
    static func like<S: Collection, P: Collection>(_ text: S, _ pattern: P) -> Bool
    where S.Element == UInt8, P.Element == UInt8 {
        let s = Array(String(decoding: text, as: UTF8.self).unicodeScalars)
        let p = Array(String(decoding: pattern, as: UTF8.self).unicodeScalars)
        var i = 0
        var j = 0
        var star = -1
        var mark = 0
        while i < s.count {
            if j < p.count && p[j] == "%" {
                star = j
                mark = i
                j += 1
            } else if j < p.count && (p[j] == "_" || p[j] == s[i]) {
                i += 1
                j += 1
            } else if star >= 0 {
                j = star + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while j < p.count && p[j] == "%" { j += 1 }
        return j == p.count
    }
}
