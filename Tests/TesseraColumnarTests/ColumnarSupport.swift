import PropertyBased
import TesseraColumnar
import TesseraCore
import Testing

/// Generators and plain reference implementations for the kernel tests.
enum Sample {
    /// Columns of a few types with nulls, built through `ColumnBuilder` from optional values.
    static func column(_ type: ValueType, _ values: [ScalarValue]) -> Column {
        var builder = ColumnBuilder(type: type)
        for value in values { builder.append(value) }
        return builder.finish()
    }

    static let int64s = Gen.int64(in: -3...3).optional(valueRate: 0.8).array(of: 0...25)
        .map { values in column(.int64, values.map { $0.map(ScalarValue.int64) ?? .null }) }
    static let pool = ["", "a", "b", "ab", "é", "zz"]
    static let strings = Gen.int(in: 0...5).map { pool[$0] }.optional(valueRate: 0.8).array(of: 0...25)
        .map { values in column(.string, values.map { $0.map(ScalarValue.string) ?? .null }) }
    static let doublePool: [Double] = [0.0, -0.0, 1.5, -2, .nan, .infinity, -.infinity, 3]
    static let doubles = Gen.int(in: 0...7).map { doublePool[$0] }.optional(valueRate: 0.8)
        .array(of: 0...25)
        .map { values in column(.float64, values.map { $0.map(ScalarValue.float64) ?? .null }) }
    static let lists = Gen.int32(in: -2...2).optional(valueRate: 0.8).array(of: 0...3).optional(valueRate: 0.8)
        .array(of: 0...20)
        .map { rows in
            column(
                .list(.int32),
                rows.map { row in row.map { .list($0.map { $0.map(ScalarValue.int32) ?? .null }) } ?? .null })
        }
    static let bools = Gen.bool.optional(valueRate: 0.8).array(of: 0...25)
        .map { values in column(.bool, values.map { $0.map(ScalarValue.bool) ?? .null }) }

    /// Any of the above: a kind and a seed, so that shrinking goes to simpler kinds and seeds.
    static let anyColumn = Gen.int(in: 0...4).map { $0 }.array(of: 2).map { pair in
        var random = rng(pair[1] &* 7919 &+ pair[0])
        return column(kind: pair[0], &random)
    }

    /// A random column of kind 0 (int64), 1 (string), 2 (float64), 3 (list<int32>) or 4 (bool).
    static func column(kind: Int, _ random: inout Xoshiro) -> Column {
        switch kind {
        case 0: int64s.run(using: &random)
        case 1: strings.run(using: &random)
        case 2: doubles.run(using: &random)
        case 3: lists.run(using: &random)
        default: bools.run(using: &random)
        }
    }

    /// A seeded generator (xoshiro must not start from all zeros).
    static func rng(_ seed: Int) -> Xoshiro {
        Xoshiro(seed: (UInt64(bitPattern: Int64(seed)) ^ 0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9, 1, 2))
    }

    /// Values equal as the columns store them (NaN equal to NaN, -0 and 0 apart by sign).
    static func same(_ a: [ScalarValue], _ b: [ScalarValue]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                switch (x, y) {
                case (.float64(let p), .float64(let q)): p.bitPattern == q.bitPattern || (p.isNaN && q.isNaN)
                default: x == y
                }
            }
    }
}
