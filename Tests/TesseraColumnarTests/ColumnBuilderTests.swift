import TesseraColumnar
import TesseraCore
import Testing

@Suite("ColumnBuilder and RecordBatch")
struct ColumnBuilderTests {
    static let examples: [(ValueType, [ScalarValue])] = [
        (.bool, [.bool(true), .null, .bool(false)]),
        (.int32, [.int32(-5), .null, .int32(.max)]),
        (.int64, [.int64(.min), .null, .int64(3)]),
        (.float32, [.float32(0.5), .null, .float32(-.infinity)]),
        (.float64, [.float64(1e-300), .null, .float64(2)]),
        (.string, [.string("é"), .null, .string("")]),
        (.bytes, [.bytes([0, 255]), .null, .bytes([])]),
        (.timestamp, [.timestamp(Timestamp(microseconds: -1)), .null, .timestamp(Timestamp(seconds: 1_767_225_600))]),
        (.list(.int64), [.list([.int64(1), .null]), .null, .list([])]),
        (.list(.string), [.list([.string("a")]), .null, .list([.null])]),
    ]

    @Test func everyTypeWithNullsBuildsWhatWasAppended() {
        for (type, values) in Self.examples {
            var builder = ColumnBuilder(type: type, capacity: 2)
            for value in values {
                let appended = builder.append(value)
                #expect(appended)
            }
            let column = builder.finish()
            #expect(column.type == type)
            #expect(column.values == values, "\(type)")
            #expect(column.nullCount == 1)
            #expect(Column(type: type, scalars: values) == column)
        }
    }

    @Test func valuesThatDoNotFitAreRefusedAndAppendNothing() {
        var ints = ColumnBuilder(type: .int32)
        let appended1 = ints.append(.int64(Int64(Int32.max) + 1))
        #expect(!appended1)
        let appended2 = ints.append(.string("1"))
        #expect(!appended2)
        let appended3 = ints.append(.int64(7))  // narrows when it fits
        #expect(appended3)
        let appended4 = ints.append(.float64(8))  // an integral float fits
        #expect(appended4)
        let appended5 = ints.append(.float64(8.5))
        #expect(!appended5)
        #expect(ints.finish().values == [.int32(7), .int32(8)])

        var lists = ColumnBuilder(type: .list(.int32))
        let appended6 = lists.append(.list([.int32(1)]))
        #expect(appended6)
        let appended7 = lists.append(.list([.int32(2), .string("x")]))  // nothing of the bad list stays
        #expect(!appended7)
        let appended8 = lists.append(.int32(3))
        #expect(!appended8)
        let appended9 = lists.append(.list([.int64(4)]))
        #expect(appended9)
        #expect(lists.finish().values == [.list([.int32(1)]), .list([.int32(4)])])

        var timestamps = ColumnBuilder(type: .timestamp)
        let appended10 = timestamps.append(.int64(1))
        #expect(!appended10)
        let appended11 = timestamps.append(.timestamp(Timestamp(microseconds: 1)))
        #expect(appended11)
    }

    @Test func typedAppendsOnTheWrongLayoutDoNothing() {
        // Before the fix these added a validity bit without a value, and `finish` crashed.
        var builder = ColumnBuilder(type: .float64)
        builder.append(int64: 3)
        builder.append(string: "x")
        #expect(builder.count == 0)
        #expect(builder.finish().count == 0)
        var ints = ColumnBuilder(type: .int64)
        ints.append(int64: 3)
        var strings = ColumnBuilder(type: .string)
        strings.append(string: "x")
        #expect(ints.finish().values == [.int64(3)] && strings.finish().values == [.string("x")])
    }

    /// List building used to copy the whole element column per list: quadratic.
    @Test(.timeLimit(.minutes(1))) func buildingManyListsIsLinear() {
        var builder = ColumnBuilder(type: .list(.int64))
        for i in 0..<100_000 { builder.append(.list([.int64(Int64(i)), .int64(1)])) }
        let column = builder.finish()
        #expect(column.count == 100_000)
        #expect(column.value(at: 99_999) == .list([.int64(99_999), .int64(1)]))
    }

    @Test func nullColumnsAndEmptyColumns() {
        for (type, _) in Self.examples {
            let nulls = Column(nulls: type, count: 3)
            #expect(nulls.count == 3 && nulls.nullCount == 3 && nulls.values == [.null, .null, .null])
            #expect(Column(empty: type).count == 0)
        }
    }

    @Test func recordBatchShapeErrors() throws {
        #expect(throws: ColumnarError.shape("schema has 2 fields but 1 columns were given")) {
            try RecordBatch(schema: Schema([Field("a", .int64), Field("b", .int64)]), columns: [.int64([1])])
        }
        #expect(throws: ColumnarError.shape("column 'a' is int64 but the schema says string")) {
            try RecordBatch(schema: Schema([Field("a", .string)]), columns: [.int64([1])])
        }
        #expect(throws: ColumnarError.shape("column 'b' has 1 rows, expected 2")) {
            try RecordBatch(["a": .int64([1, 2]), "b": .int64([1])])
        }
        let batch = try RecordBatch(["driver_id": .int64([1]), "conv_rate": .float32([0.5])])
        #expect(try batch.project(["conv_rate"]).schema.names == ["conv_rate"])
        do {
            _ = try batch.project(["dirver_id"])
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description
                    == "no column named 'dirver_id'; did you mean 'driver_id'? (columns: driver_id, conv_rate)")
        }
        #expect(try batch.appending(Field("x", .bool), .bool([true])).schema.names == ["driver_id", "conv_rate", "x"])
        #expect(throws: ColumnarError.self) { try batch.appending(Field("x", .bool), .bool([true, false])) }
        #expect(RecordBatch(empty: batch.schema).rowCount == 0)
    }
}
