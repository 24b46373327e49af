import TesseraColumnar
import TesseraCore

/// Deterministic batches with every writable type, nulls, lists and edge values.
enum ParquetTestData {
    static let schema = Schema([
        Field("flag", .bool),
        Field("small", .int32),
        Field("id", .int64, nullable: false),
        Field("ratio", .float32),
        Field("score", .float64),
        Field("name", .string),
        Field("blob", .bytes),
        Field("at", .timestamp),
        Field("tags", .list(.string)),
        Field("counts", .list(.int64)),
        Field("weights", .list(.float32), nullable: false),
    ])

    static func batch(rows: Int, offset: Int = 0) -> RecordBatch {
        var builders = schema.fields.map { ColumnBuilder(type: $0.type, capacity: rows) }
        for k in 0..<rows {
            let i = k + offset
            func maybe(_ value: ScalarValue, every: Int) -> ScalarValue { i % every == 1 ? .null : value }
            let values: [ScalarValue] = [
                maybe(.bool(i % 3 == 0), every: 7),
                maybe(.int32(Int32(truncatingIfNeeded: i &* 7919) % 1000 - 500), every: 5),
                .int64(Int64(i) * 1_000_003 - 40_000_000 + (i == 3 ? Int64.min / 2 : 0)),
                maybe(.float32(i == 10 ? -0.0 : Float(i % 97) / 8), every: 6),
                maybe(.float64(i == 20 ? .infinity : Double(i) / 3 - 100), every: 9),
                maybe(.string(i % 11 == 0 ? "" : "name-\(i % 300)-é"), every: 4),
                maybe(.bytes([UInt8(i % 256), 0, 255, UInt8((i / 256) % 256)]), every: 8),
                maybe(.timestamp(Timestamp(microseconds: Workload_start + Int64(i) * 1_000_123)), every: 10),
                i % 6 == 2
                    ? .null : .list((0..<(i % 4)).map { j in (i + j) % 5 == 0 ? .null : .string("t\(j)-\(i % 13)") }),
                i % 5 == 3 ? .null : .list((0..<(i % 3)).map { j in .int64(Int64(i * 10 + j)) }),
                .list((0..<(i % 3)).map { j in .float32(Float(j) + 0.5) }),
            ]
            for (index, value) in values.enumerated() { builders[index].append(value) }
        }
        let columns = builders.map { $0.finish() }
        return (try? RecordBatch(schema: schema, columns: columns)) ?? RecordBatch(empty: schema)
    }

    static let Workload_start: Int64 = 1_767_225_600 * 1_000_000
}
