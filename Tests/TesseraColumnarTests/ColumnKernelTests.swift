import PropertyBased
import TesseraColumnar
import TesseraCore
import Testing

@Suite("Column kernels: take, filter, slice, concatenate")
struct ColumnKernelTests {
    @Test func takeGathersAndNegativeIndicesGiveNulls() async {
        await propertyCheck(count: 300, input: Sample.anyColumn, Gen.int(in: -1...30).array(of: 0...30)) {
            column, raw in
            let indices = raw.map { column.count == 0 ? -1 : ($0 < 0 ? -1 : $0 % column.count) }
            let taken = column.take(indices)
            let values = column.values
            #expect(taken.type == column.type)
            #expect(Sample.same(taken.values, indices.map { $0 < 0 ? .null : values[$0] }))
            #expect(taken.nullCount == taken.values.filter(\.isNull).count)
        }
    }

    @Test func takeOfHandMadeStringsAndLists() throws {
        let strings = Column.string(["a", "bb", "ccc"], validity: Bitmap([true, false, true]))
        #expect(strings.take([2, -1, 0, 1, 2]).values == [.string("ccc"), .null, .string("a"), .null, .string("ccc")])
        let lists = Sample.column(.list(.int64), [.list([.int64(1), .int64(2)]), .null, .list([])])
        #expect(
            lists.take([0, 0, -1, 2]).values == [
                .list([.int64(1), .int64(2)]), .list([.int64(1), .int64(2)]), .null, .list([]),
            ])
        #expect(Column.int64([1, 2]).take([]).count == 0)
    }

    @Test func filterKeepsTheMarkedRowsInOrder() async {
        await propertyCheck(count: 300, input: Sample.anyColumn, Gen.bool.array(of: 0...25)) { column, bits in
            let mask = (0..<column.count).map { bits.isEmpty ? false : bits[$0 % bits.count] }
            let values = column.values
            #expect(Sample.same(column.filter(mask).values, zip(values, mask).filter(\.1).map(\.0)))
        }
    }

    @Test func sliceIsTheSubrange() async {
        await propertyCheck(count: 300, input: Sample.anyColumn, Gen.int(in: 0...25), Gen.int(in: 0...25)) {
            column, a, b in
            let lower = min(a, b, column.count)
            let upper = min(max(a, b), column.count)
            let sliced = column.slice(lower..<upper)
            #expect(Sample.same(sliced.values, Array(column.values[lower..<upper])))
            // A slice is a column in its own right: taking from it works from 0.
            #expect(Sample.same(sliced.take(Array(0..<sliced.count)).values, sliced.values))
        }
    }

    @Test func concatenateJoinsMixedNullability() async throws {
        await propertyCheck(count: 200, input: Gen.int(in: 0...4), Gen.int(in: 1...4)) { kind, parts in
            var rng = Sample.rng(Int(UInt64(kind * 31 + parts)))
            let columns = (0..<parts).map { _ in Sample.column(kind: kind, &rng) }
            let joined = try Column.concatenate(columns)
            #expect(Sample.same(joined.values, columns.flatMap(\.values)))
            #expect(joined.nullCount == columns.reduce(0) { $0 + $1.nullCount })
        }
    }

    @Test func concatenateRejectsMixedTypesAndNothing() {
        #expect(throws: ColumnarError.typeMismatch("cannot concatenate a string column to a int64 column")) {
            try Column.concatenate([.int64([1]), .string(["a"])])
        }
        #expect(throws: ColumnarError.shape("nothing to concatenate")) { try Column.concatenate([]) }
        #expect(throws: ColumnarError.self) { try Column.concatenate([.timestamp([1]), .int64([1])]) }
    }

    @Test func recordBatchTakeSliceAndConcatenate() throws {
        let batch = try RecordBatch(["id": .int64([1, 2, 3]), "name": .string(["a", "b", "c"])])
        #expect(batch.take([2, -1]).row(0) == [.int64(3), .string("c")])
        #expect(batch.take([2, -1]).row(1) == [.null, .null])
        #expect(batch.slice(1..<3).column(named: "id") == .int64([2, 3]))
        let both = try RecordBatch.concatenate([batch, batch.slice(0..<1)])
        #expect(both.rowCount == 4 && both.row(3) == [.int64(1), .string("a")])
        let other = try RecordBatch(["id": .int64([1])])
        #expect(throws: ColumnarError.typeMismatch("cannot concatenate batches with different schemas")) {
            try RecordBatch.concatenate([batch, other])
        }
    }
}
