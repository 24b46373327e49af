import TesseraColumnar
import TesseraCore
import TesseraOnline

extension Verifier {
    mutating func roundTripInRequestOrder() throws {
        try write(ids: [1, 2, 3], events: [100, 101, 102], values: [10, 20, 30])
        let rows = try read(ids: [3, 1, 2, 3])
        try expectEqual(
            values(rows), [.float64(30), .float64(10), .float64(20), .float64(30)], "values in request order")
        try expectEqual(rows.map { $0.statuses[0] }, Array(repeating: .present, count: 4), "statuses")
        try expectEqual(
            rows.map(\.eventTimestamp), [102, 100, 101, 102].map { Timestamp(seconds: $0) }, "event timestamps")
        try expectEqual(
            try store.read(view: "v", keys: [], features: ["f"], ttl: .zero, now: Verifier.now).count, 0, "empty read")
    }

    mutating func newestEventWins() throws {
        try write(ids: [1], events: [200], values: [2])
        let older = try write(ids: [1], events: [100], created: [999], values: [1])
        try expectEqual(older.skipped, 1, "an older row is skipped")
        try expectEqual(values(try read(ids: [1])), [.float64(2)], "value after an older write")
        try write(ids: [1], events: [300], created: [0], values: [3])
        try expectEqual(values(try read(ids: [1])), [.float64(3)], "value after a newer write")
    }

    mutating func equalTimesNewWriteWins() throws {
        try write(ids: [1], events: [100], created: [5], values: [1])
        let again = try write(ids: [1], events: [100], created: [5], values: [2])
        try expectEqual(again.written, 1, "an equally new row is written")
        try expectEqual(values(try read(ids: [1])), [.float64(2)], "value after an equal-time write")
        try write(ids: [2], events: [100], values: [1])
        try write(ids: [2], events: [100], values: [7])
        try expectEqual(values(try read(ids: [2])), [.float64(7)], "equal event time, no created time")
    }

    mutating func createdBreaksEventTies() throws {
        try write(ids: [1], events: [100], created: [10], values: [1])
        try write(ids: [1], events: [100], created: [5], values: [2])
        try expectEqual(values(try read(ids: [1])), [.float64(1)], "an earlier created time loses the tie")
        try write(ids: [1], events: [100], created: [20], values: [3])
        try expectEqual(values(try read(ids: [1])), [.float64(3)], "a later created time wins the tie")
        try write(ids: [1], events: [100], values: [4])
        try expectEqual(values(try read(ids: [1])), [.float64(3)], "a missing created time counts as oldest")
    }

    mutating func idempotentRewrite() throws {
        for _ in 0..<2 {
            try write(ids: [1, 2, 3], events: [100, 100, 50], created: [1, 2, 3], values: [1, nil, 3])
        }
        let rows = try read(ids: [1, 2, 3])
        try expectEqual(values(rows), [.float64(1), .null, .float64(3)], "values after a rerun")
        try expectEqual(rows.map { $0.statuses[0] }, [.present, .nullValue, .present], "statuses after a rerun")
        try expectEqual(try store.rowCount(view: "v"), 3, "rows after a rerun")
    }

    mutating func duplicateKeysInOneBatch() throws {
        let summary = try write(
            ids: [1, 1, 1, 2, 2, 3], events: [100, 300, 200, 50, 50, 9], values: [1, 3, 2, 4, 5, 6])
        try expectEqual(
            values(try read(ids: [1, 2, 3])), [.float64(3), .float64(5), .float64(6)], "winners within a batch")
        try expectEqual(summary.received, 6, "received")
        try expectEqual(summary.written, 3, "written")
        try expectEqual(summary.skipped, 3, "skipped")
    }

    mutating func ttlStatuses() throws {
        let now = Verifier.now.microseconds / 1_000_000
        let day: Int64 = 86_400
        try write(ids: [1, 2, 3], events: [now - day, now - 3 * day, now - 2 * day], values: [1, 2, 3])
        let rows = try read(ids: [1, 2, 3, 4], ttl: .days(2))
        try expectEqual(
            rows.map { $0.statuses[0] }, [.present, .outsideMaxAge, .present, .notFound], "statuses, ttl 2d")
        try expectEqual(values(rows), [.float64(1), .null, .float64(3), .null], "values, ttl 2d")
        try expectEqual(
            rows[1].eventTimestamp, Timestamp(seconds: now - 3 * day), "an expired row keeps its event time")
        let forever = try read(ids: [1, 2, 3], ttl: .zero)
        try expectEqual(forever.map { $0.statuses[0] }, [.present, .present, .present], "statuses, ttl 0")
        let later = try read(ids: [1], ttl: .days(2), now: Verifier.now + .days(2))
        try expectEqual(later.map { $0.statuses[0] }, [.outsideMaxAge], "the injected clock moves expiry")
    }

    mutating func notFound() throws {
        let unknownView = try read("never_written", ids: [1, 2])
        try expectEqual(unknownView.map { $0.statuses[0] }, [.notFound, .notFound], "a view never written")
        try expectEqual(unknownView.map(\.eventTimestamp), [nil, nil], "no event time for a miss")
        try write(ids: [1], events: [100], values: [1])
        let rows = try read(ids: [2, 1, -5])
        try expectEqual(rows.map { $0.statuses[0] }, [.notFound, .present, .notFound], "a missing key")
        try expectEqual(values(rows), [.null, .float64(1), .null], "a miss reads null")
    }

    mutating func nullValues() throws {
        try write(ids: [1, 2], events: [100, 100], values: [nil, 0])
        let rows = try read(ids: [1, 2])
        try expectEqual(rows.map { $0.statuses[0] }, [.nullValue, .present], "null and zero")
        try expectEqual(values(rows), [.null, .float64(0)], "null and zero values")
        try expectEqual(rows[0].eventTimestamp, Timestamp(seconds: 100), "a null value keeps its event time")
    }

    mutating func compositeKeys() throws {
        let batch = try OnlineWriteBatch(
            view: "pairs", joinKeys: [.int64([1, 1, 2, 10]), .string(["x", "y", "x", ""])],
            eventTimestamps: .timestamp([1, 1, 1, 1]), features: [("f", .float64([1, 2, 3, 4]))])
        try store.write(batch)
        let keys = try [
            EntityKey([.int64(2), .string("x")]), EntityKey([.int64(1), .string("y")]),
            EntityKey([.int64(1), .string("x")]), EntityKey([.int64(10), .string("")]),
            EntityKey([.int64(1), .string("z")]), EntityKey([.int32(2), .string("x")]),
        ]
        let rows = try store.read(view: "pairs", keys: keys, features: ["f"], ttl: .zero, now: Verifier.now)
        try expectEqual(
            values(rows), [.float64(3), .float64(2), .float64(1), .float64(4), .null, .float64(3)],
            "composite keys (int32 and int64 parts are the same key)")
        try expectEqual(try store.rowCount(view: "pairs"), 4, "distinct composite keys")
    }

    mutating func stringKeys() throws {
        let ids = ["a", "", "ü-ß-日本", "a\u{0}b", "a\u{0}", String(repeating: "k", count: 300)]
        let batch = try OnlineWriteBatch(
            view: "s", joinKeys: [.string(ids)], eventTimestamps: .timestamp(Array(repeating: 1, count: ids.count)),
            features: [("f", .float64(ids.indices.map(Double.init)))])
        try store.write(batch)
        let keys = try (ids.reversed() + ["b"]).map { try EntityKey([.string($0)]) }
        let rows = try store.read(view: "s", keys: keys, features: ["f"], ttl: .zero, now: Verifier.now)
        try expectEqual(
            values(rows), ids.indices.reversed().map { .float64(Double($0)) } + [.null], "string keys round-trip")
    }

    mutating func everyFeatureType() throws {
        let columns = Verifier.typedColumns()
        let batch = try OnlineWriteBatch(
            view: "types", joinKeys: [.int64([1, 2, 3])], eventTimestamps: .timestamp([1, 1, 1]),
            features: columns.map { ($0.name, $0.column) })
        try store.write(batch)
        let names = columns.map(\.name)
        let rows = try store.read(
            view: "types", keys: [1, 2, 3].map(EntityKey.init(int64:)), features: names, ttl: .zero, now: Verifier.now)
        for (r, row) in rows.enumerated() {
            for (f, column) in columns.enumerated() {
                let expected = column.column.value(at: r)
                try expectEqual(row.values[f], expected, "\(column.name) of row \(r)")
                try expectEqual(row.statuses[f], expected.isNull ? .nullValue : .present, "status of \(column.name)")
            }
        }
    }

    /// One column per type, three rows each, with nulls, empty values and extremes.
    static func typedColumns() -> [(name: String, column: Column)] {
        func column(_ type: ValueType, _ values: [ScalarValue]) -> Column {
            Column(type: type, scalars: values) ?? Column(nulls: type, count: values.count)
        }
        return [
            ("b", column(.bool, [.bool(true), .bool(false), .null])),
            ("i32", column(.int32, [.int32(.min), .null, .int32(.max)])),
            ("i64", column(.int64, [.int64(.max), .int64(-1), .null])),
            ("f32", column(.float32, [.float32(0.1), .float32(-.infinity), .null])),
            ("f64", column(.float64, [.null, .float64(1e-300), .float64(-0.5)])),
            ("s", column(.string, [.string(""), .null, .string("héllo, \"world\"\n")])),
            ("by", column(.bytes, [.bytes([0, 255, 7]), .bytes([]), .null])),
            (
                "ts",
                column(
                    .timestamp,
                    [
                        .timestamp(Timestamp(microseconds: 1_767_225_600_123_456)), .null,
                        .timestamp(Timestamp(microseconds: -1)),
                    ])
            ),
            ("li64", column(.list(.int64), [.list([.int64(1), .int64(-2)]), .list([]), .null])),
            (
                "lf32",
                column(.list(.float32), [.null, .list([.float32(1.5), .null, .float32(2)]), .list([.float32(0)])])
            ),
            ("ls", column(.list(.string), [.list([.string("a"), .string(""), .null]), .null, .list([])])),
            ("lb", column(.list(.bool), [.list([.bool(true), .bool(false)]), .list([.null]), .null])),
            ("lby", column(.list(.bytes), [.list([.bytes([1, 2])]), .null, .list([.bytes([])])])),
            ("lf64", column(.list(.float64), [.list([.float64(3.25)]), .list([]), .null])),
            ("li32", column(.list(.int32), [.null, .list([.int32(7)]), .list([.int32(-7), .int32(8)])])),
        ]
    }

    mutating func featureSubsetAndOrder() throws {
        let batch = try OnlineWriteBatch(
            view: "abc", joinKeys: [.int64([1])], eventTimestamps: .timestamp([1]),
            features: [("a", .int64([1])), ("b", .string(["two"])), ("c", .float32([3]))])
        try store.write(batch)
        let rows = try store.read(
            view: "abc", keys: [EntityKey(int64: 1)], features: ["c", "a", "zzz", "b"], ttl: .zero, now: Verifier.now)
        try expectEqual(rows[0].values, [.float32(3), .int64(1), .null, .string("two")], "a subset in request order")
        try expectEqual(rows[0].statuses, [.present, .present, .notFound, .present], "an unknown feature is not found")
    }

    mutating func featureAddedLater() throws {
        try store.write(
            try OnlineWriteBatch(
                view: "grow", joinKeys: [.int64([1])], eventTimestamps: .timestamp([1]), features: [("a", .int64([1]))])
        )
        try store.write(
            try OnlineWriteBatch(
                view: "grow", joinKeys: [.int64([2])], eventTimestamps: .timestamp([1]),
                features: [("b", .string(["new"])), ("a", .int64([2]))]))
        let rows = try store.read(
            view: "grow", keys: [1, 2].map(EntityKey.init(int64:)), features: ["a", "b"], ttl: .zero, now: Verifier.now)
        try expectEqual(rows[0].values, [.int64(1), .null], "an old row lacks the new feature")
        try expectEqual(rows[0].statuses, [.present, .notFound], "statuses of an old row")
        try expectEqual(rows[1].values, [.int64(2), .string("new")], "a new row has both")
    }

    mutating func manyViews() throws {
        for v in 0..<25 {
            try write("view_\(v)", ids: [1, Int64(v)], events: [100, 100], values: [Double(v), Double(v) + 0.5])
        }
        for v in 0..<25 {
            let rows = try read("view_\(v)", ids: [1])
            try expectEqual(values(rows), [.float64(v == 1 ? 1.5 : Double(v))], "view_\(v) keeps its own rows")
        }
        try expectEqual(try store.viewNames().count, 25, "views listed")
    }

    mutating func dropView() throws {
        try write("gone", ids: [1, 2], events: [100, 100], values: [1, 2])
        try write("kept", ids: [1], events: [100], values: [9])
        try store.dropView("gone")
        try store.dropView("never_existed")
        try expectEqual(
            try read("gone", ids: [1]).map { $0.statuses[0] }, [.notFound], "a dropped view reads as missing")
        try expectEqual(try store.rowCount(view: "gone"), 0, "a dropped view has no rows")
        try expectEqual(try store.viewNames(), ["kept"], "views after a drop")
        try expectEqual(values(try read("kept", ids: [1])), [.float64(9)], "other views stay")
        try write("gone", ids: [3], events: [1], values: [3])
        try expectEqual(
            values(try read("gone", ids: [1, 3])), [.null, .float64(3)], "a dropped view can be written again")
    }

    mutating func rowCounts() throws {
        try write(
            ids: (0..<100).map(Int64.init), events: Array(repeating: 100, count: 100),
            values: Array(repeating: 1, count: 100))
        try write(
            ids: (75..<125).map(Int64.init), events: Array(repeating: 100, count: 50),
            values: Array(repeating: 2, count: 50))
        try expectEqual(try store.rowCount(view: "v"), 125, "one row per key")
        try expectEqual(try store.rowCount(view: "unknown"), 0, "an unknown view")
    }

    mutating func invalidBatchesRejected() throws {
        let nullKey = try OnlineWriteBatch(
            view: "v", joinKeys: [.int64([1, 2], validity: Bitmap([true, false]))],
            eventTimestamps: .timestamp([1, 1]), features: [("f", .float64([1, 2]))])
        try expect(
            Verifier.rejects { () throws(OnlineStoreError) in try store.write(nullKey) }, "a null join key is rejected")
        try expect(
            Verifier.rejects { () throws(OnlineStoreError) in
                _ = try OnlineWriteBatch(
                    view: "v", joinKeys: [.int64([1, 2])], eventTimestamps: .timestamp([1]),
                    features: [("f", .float64([1, 2]))])
            }, "unequal column lengths are rejected")
        try expectEqual(try store.rowCount(view: "v"), 0, "a rejected batch writes nothing")
    }

    /// Whether `body` throws an `invalidBatch` error.
    static func rejects(_ body: () throws(OnlineStoreError) -> Void) -> Bool {
        do {
            try body()
            return false
        } catch {
            return error.kind == .invalidBatch
        }
    }

    /// A write of several views lands in all of them or in none: a batch that fails (a null
    /// key) leaves the other views of the same write untouched.
    mutating func atomicAcrossViews() throws {
        try write("a", ids: [1], events: [100], values: [1])
        let good = try OnlineWriteBatch(
            view: "a", joinKeys: [.int64([1, 2])], eventTimestamps: .timestamp([200_000_000, 200_000_000]),
            features: [("f", .float64([10, 20]))])
        let bad = try OnlineWriteBatch(
            view: "b", joinKeys: [Column(type: .int64, scalars: [.int64(1), .null]) ?? Column(empty: .int64)],
            eventTimestamps: .timestamp([200_000_000, 200_000_000]), features: [("f", .float64([1, 2]))])
        do {
            try store.write([good, bad])
            throw fail("a write with a null key in its second batch was accepted")
        } catch is OnlineStoreError {}
        try expectEqual(values(try read("a", ids: [1, 2])), [.float64(1), .null], "view 'a' after the failed write")
        try expectEqual(try store.rowCount(view: "a"), 1, "rows of 'a' after the failed write")
        try expectEqual(try store.rowCount(view: "b"), 0, "rows of 'b' after the failed write")
        let other = try OnlineWriteBatch(
            view: "b", joinKeys: [.int64([7])], eventTimestamps: .timestamp([300_000_000]),
            features: [("f", .float64([70]))])
        let summaries = try store.write([good, other])
        try expectEqual(summaries.map(\.written), [2, 1], "rows written per batch")
        try expectEqual(values(try read("a", ids: [1, 2])), [.float64(10), .float64(20)], "view 'a' after the write")
        try expectEqual(values(try read("b", ids: [7])), [.float64(70)], "view 'b' after the write")
    }

    /// Aggregation states: read in request order, each transform sees the held state, `nil`
    /// removes, `replacesAll` clears the others, drops and counts include them.
    mutating func aggregationStates() throws {
        let keys = (1...3).map { EntityKey(int64: $0) }
        try store.write(
            [],
            states: [
                OnlineStateUpdate(view: "aggs", keys: keys) { i, held in
                    held == nil ? [UInt8(i), 0xFF] : nil
                }
            ])
        try expectEqual(
            try store.readStates(view: "aggs", keys: [keys[2], EntityKey(int64: 9), keys[0]]),
            [[2, 0xFF], nil, [0, 0xFF]], "states in request order")
        try expectEqual(try store.stateCount(view: "aggs"), 3, "states of 'aggs'")
        // Each key's transform gets its held state: append a byte, remove key 2.
        try store.write(
            [],
            states: [
                OnlineStateUpdate(view: "aggs", keys: keys) { i, held in
                    i == 1 ? nil : (held ?? []) + [7]
                }
            ])
        try expectEqual(
            try store.readStates(view: "aggs", keys: keys), [[0, 0xFF, 7], nil, [2, 0xFF, 7]],
            "states after a read-modify-write")
        try expectEqual(try store.stateCount(view: "aggs"), 2, "states after one was removed")
        try expectEqual(try store.viewNames(), ["aggs"], "a view with states only is listed")
        try expectEqual(try store.rowCount(view: "aggs"), 0, "states are not rows")
        // A rebuild replaces everything.
        try store.write(
            [],
            states: [
                OnlineStateUpdate(view: "aggs", keys: [EntityKey(int64: 5)], replacesAll: true) {
                    _, held in held == nil ? [5] : [0]
                }
            ])
        try expectEqual(
            try store.readStates(view: "aggs", keys: keys + [EntityKey(int64: 5)]), [nil, nil, nil, [5]],
            "states after a rebuild")
        try store.write([], states: [OnlineStateUpdate(view: "other", keys: [keys[0]]) { _, _ in [1] }])
        try store.dropView("aggs")
        try expectEqual(
            try store.readStates(view: "aggs", keys: [EntityKey(int64: 5)]), [nil], "a dropped view's state")
        try expectEqual(try store.stateCount(view: "aggs"), 0, "states after a drop")
        try expectEqual(try store.readStates(view: "other", keys: [keys[0]]), [[1]], "other views' states stay")
    }

    /// A write of rows and states lands whole: a bad batch keeps the states out too.
    mutating func statesAtomicWithRows() throws {
        let bad = try OnlineWriteBatch(
            view: "b", joinKeys: [Column(type: .int64, scalars: [.int64(1), .null]) ?? Column(empty: .int64)],
            eventTimestamps: .timestamp([200_000_000, 200_000_000]), features: [("f", .float64([1, 2]))])
        let update = OnlineStateUpdate(view: "aggs", keys: [EntityKey(int64: 1)]) { _, _ in [42] }
        do {
            try store.write([bad], states: [update])
            throw fail("a write with a null key was accepted")
        } catch is OnlineStoreError {}
        try expectEqual(
            try store.readStates(view: "aggs", keys: [EntityKey(int64: 1)]), [nil], "state after a failed write")
        let good = try OnlineWriteBatch(
            view: "b", joinKeys: [.int64([1])], eventTimestamps: .timestamp([200_000_000]),
            features: [("f", .float64([1]))])
        try store.write([good], states: [update])
        try expectEqual(
            try store.readStates(view: "aggs", keys: [EntityKey(int64: 1)]), [[42]], "state after the write")
        try expectEqual(try store.rowCount(view: "b"), 1, "row after the write")
    }

    /// The pushed-event log (stores that keep one): appends are numbered in order and land
    /// with the write's rows; reads return what follows a number; a fold removes records up
    /// to a number and moves the mark, in one transaction with its states, and fails without
    /// a trace when another writer folded first; a rebuild's discard and a drop touch one
    /// view only; numbers are never reused.
    mutating func pushedEventLog() throws {
        guard store.keepsStateLog else {
            try expectEqual(try store.readStateLog(after: 0), OnlineLogRead(records: [], mark: 0, head: 0), "no log")
            return
        }
        try expectEqual(try store.readStateLog(after: 0), OnlineLogRead(records: [], mark: 0, head: 0), "a new log")
        let row = try OnlineWriteBatch(
            view: "b", joinKeys: [.int64([1])], eventTimestamps: .timestamp([200_000_000]),
            features: [("f", .float64([1]))])
        let first = try store.write([row], states: [], log: OnlineLogChange(append: [("aggs", [1]), ("other", [2])]))
        try expectEqual(first.summaries.map(\.written), [1], "rows written with log records")
        try expectEqual(first.appended.count, 2, "numbers of appended records")
        let second = try store.write([], states: [], log: OnlineLogChange(append: [("aggs", [3, 3])]))
        let numbers = first.appended + second.appended
        try expectEqual(numbers, numbers.sorted(), "records are numbered in order")
        try expectEqual(Set(numbers).count, 3, "distinct numbers")
        try expectEqual(try store.rowCount(view: "b"), 1, "the row written with the records")
        let all = try store.readStateLog(after: 0)
        try expectEqual(all.records.map(\.payload), [[1], [2], [3, 3]], "records in order")
        try expectEqual(all.records.map(\.view), ["aggs", "other", "aggs"], "records' views")
        try expectEqual(all.head, numbers[2], "the head")
        try expectEqual(
            try store.readStateLog(after: numbers[0]).records.map(\.seq), Array(numbers[1...]), "records after one")

        // A fold whose expected mark is stale writes nothing: no state, records kept.
        let key = EntityKey(int64: 1)
        let update = OnlineStateUpdate(view: "aggs", keys: [key]) { _, _ in [9] }
        do {
            try store.write([], states: [update], log: OnlineLogChange(foldThrough: numbers[1], expectedMark: 12345))
            throw fail("a fold with a stale mark was accepted")
        } catch let error as OnlineStoreError where error.kind == .conflict {}
        try expectEqual(try store.readStates(view: "aggs", keys: [key]), [nil], "state after a refused fold")
        try expectEqual(try store.readStateLog(after: 0).records.count, 3, "records after a refused fold")
        // A fold: its states and the records' removal land together.
        try store.write([], states: [update], log: OnlineLogChange(foldThrough: numbers[1], expectedMark: 0))
        try expectEqual(try store.readStates(view: "aggs", keys: [key]), [[9]], "state after a fold")
        let folded = try store.readStateLog(after: 0)
        try expectEqual(folded.records.map(\.seq), [numbers[2]], "records after a fold")
        try expectEqual(folded.mark, numbers[1], "the mark after a fold")
        // A rebuild's discard removes one view's records and leaves the mark.
        let third = try store.write([], states: [], log: OnlineLogChange(append: [("other", [4])]))
        try store.write([], states: [], log: OnlineLogChange(discard: ("aggs", third.appended[0])))
        let discarded = try store.readStateLog(after: 0)
        try expectEqual(discarded.records.map(\.payload), [[4]], "records after a discard of 'aggs'")
        try expectEqual(discarded.mark, numbers[1], "the mark after a discard")
        // A dropped view's records go with it; numbers are never reused.
        try store.dropView("other")
        let dropped = try store.readStateLog(after: 0)
        try expectEqual(dropped.records, [], "records after a drop")
        let fourth = try store.write([], states: [], log: OnlineLogChange(append: [("aggs", [5])]))
        try expectEqual(fourth.appended.count, 1, "an append after a drop")
        if let number = fourth.appended.first, number <= third.appended[0] {
            throw fail("record number \(number) was given again (after \(third.appended[0]))")
        }
    }
}
