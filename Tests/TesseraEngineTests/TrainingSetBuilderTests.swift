import PropertyBased
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import Testing

/// Hand-made cases for every rule of docs/semantics.md, through the whole builder.
@Suite struct TrainingSetBuilderTests {
    static let t0: Int64 = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z
    static func t(_ hours: Int64) -> Int64 { t0 + hours * 3_600_000_000 }

    static let definitions = Definitions(
        entities: [
            Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)]),
            Entity(name: "city", joinKeys: [JoinKey("city", .string)]),
        ],
        sources: [
            DataSource(
                name: "stats", kind: .file(path: "s", format: .parquet), timestampField: "ts",
                createdTimestampField: "created", fieldMapping: ["rate_raw": "rate"]),
            DataSource(name: "daily", kind: .file(path: "d", format: .parquet), timestampField: "ts"),
            DataSource(name: "pair", kind: .file(path: "p", format: .parquet), timestampField: "ts"),
            DataSource(name: "stats_push", kind: .push(batchSource: "stats"), timestampField: ""),
        ],
        featureViews: [
            FeatureView(
                name: "hourly", entities: ["driver"], source: "stats",
                features: [Feature("rate", .float32), Feature("trips", .int32)], ttl: .hours(2)),
            FeatureView(
                name: "daily", entities: ["driver"], source: "daily",
                features: [Feature("trips", .int64), Feature("label_like", .string)], ttl: .zero),
            FeatureView(
                name: "pairs", entities: ["driver", "city"], source: "pair",
                features: [Feature("score", .float64)], ttl: .days(1)),
            FeatureView(
                name: "pushed", entities: ["driver"], source: "stats_push",
                features: [Feature("rate", .float32)], ttl: .hours(2)),
        ],
        featureServices: [
            FeatureService(
                name: "svc",
                features: [
                    FeatureReference(view: "hourly", features: ["rate"]),
                    FeatureReference(view: "daily", features: ["trips"]),
                ], fullFeatureNames: true,
                joinKeyMap: ["driver": "driver_id"])
        ])

    /// stats: driver 1 has rows at h0, h1 (two rows: created 5 and 9), h3; driver 2 at h0.
    static let stats = try! RecordBatch([
        "driver_id": .int64([1, 1, 1, 1, 2]),
        "ts": .timestamp([t(0), t(1), t(1), t(3), t(0)]),
        "created": .timestamp([t(0), t(1) + 9, t(1) + 5, t(3), t(0)]),
        "rate_raw": .float32([0.1, 0.9, 0.5, 0.3, 0.7]),
        "trips": .int32([10, 19, 15, 30, 70]),
    ])
    static let daily = try! RecordBatch([
        "driver_id": .int64([1, 2]),
        "ts": .timestamp([t(-100), t(5)]),
        "trips": .int64([100, 200]),
        "label_like": .string(["a", "b"]),
    ])
    static let pair = try! RecordBatch([
        "driver_id": .int64([1, 1]),
        "city": .string(["x", "y"]),
        "ts": .timestamp([t(0), t(0)]),
        "score": .float64([1.5, 2.5]),
    ])

    static func builder() -> TrainingSetBuilder {
        TrainingSetBuilder(definitions: definitions) { source in
            switch source.name {
            case "stats", "stats_push": return [MemorySourceReader([stats])]
            case "daily": return [MemorySourceReader([daily])]
            default: return [MemorySourceReader([pair])]
            }
        }
    }

    static func entities(_ ids: [Int64?], _ hours: [Int64?], extra: Column? = nil) -> RecordBatch {
        var named: [(String, Column)] = [
            ("driver_id", .int64(ids.map { $0 ?? 0 }, validity: Bitmap(ids.map { $0 != nil }))),
            ("event_timestamp", .timestamp(hours.map { $0.map(t) ?? 0 }, validity: Bitmap(hours.map { $0 != nil }))),
        ]
        if let extra { named.append(("label", extra)) }
        return try! RecordBatch(schema: Schema(named.map { Field($0.0, $0.1.type) }), columns: named.map(\.1))
    }

    func run(
        _ entities: RecordBatch, _ features: [String], full: Bool = false, guardCreated: Bool = false,
        keyMap: [String: String] = [:]
    ) throws -> TrainingSet {
        try TrainingSetBuilderTests.builder().build(
            TrainingSetRequest(
                spine: .entities(entities, name: "entities.parquet"), selection: .features(features),
                fullFeatureNames: full, joinKeyMap: keyMap, createdNotAfterTime: guardCreated))
    }

    @Test func rowsKeepOrderColumnsAndDuplicates() throws {
        let entities = TrainingSetBuilderTests.entities(
            [2, 1, 1, 1, 9], [0, 1, 1, 4, 4], extra: .int64([5, 6, 7, 8, 9]))
        let result = try run(entities, ["hourly:rate", "hourly:trips"])
        #expect(result.batch.schema.names == ["driver_id", "event_timestamp", "label", "rate", "trips"])
        #expect(result.batch.column(named: "label")?.values == [.int64(5), .int64(6), .int64(7), .int64(8), .int64(9)])
        // t == event is a match; ties at h1 go to the greater created (0.9, written at +9 µs).
        #expect(
            result.batch.column(named: "rate")?.values == [
                .float32(0.7), .float32(0.9), .float32(0.9), .float32(0.3), .null,
            ])
        #expect(result.batch.column(named: "trips")?.values == [.int32(70), .int32(19), .int32(19), .int32(30), .null])
        #expect(result.rows == 5)
        #expect(result.rowsWithAllFeatures == 4)
        #expect(result.views.first?.matched == 4)
    }

    @Test func ttlBoundaryIsInclusive() throws {
        // hourly ttl 2h: at h5 the h3 row is exactly 2h old (kept); at h5 + 1 µs it is out.
        let entities = try RecordBatch([
            "driver_id": .int64([1, 1]),
            "event_timestamp": .timestamp([TrainingSetBuilderTests.t(5), TrainingSetBuilderTests.t(5) + 1]),
        ])
        let result = try run(entities, ["hourly:trips"])
        #expect(result.batch.column(named: "trips")?.values == [.int32(30), .null])
    }

    @Test func severalViewsWithDifferentTTLs() throws {
        let entities = TrainingSetBuilderTests.entities([1, 2], [50, 4])
        let result = try run(entities, ["hourly:rate", "daily:label_like"], full: true)
        #expect(result.batch.schema.names == ["driver_id", "event_timestamp", "hourly__rate", "daily__label_like"])
        // At h50 hourly (ttl 2h) has expired; daily (ttl 0) still holds the h-100 value.
        #expect(result.batch.column(named: "hourly__rate")?.values == [.null, .null])
        #expect(result.batch.column(named: "daily__label_like")?.values == [.string("a"), .null])
    }

    @Test func nullKeysAndTimesGiveNullsNotErrors() throws {
        let entities = TrainingSetBuilderTests.entities([nil, 1], [1, nil])
        let result = try run(entities, ["hourly:rate"])
        #expect(result.batch.column(named: "rate")?.values == [.null, .null])
    }

    @Test func emptyEntityData() throws {
        let entities = TrainingSetBuilderTests.entities([], [])
        let result = try run(entities, ["hourly:rate", "daily:label_like"])
        #expect(result.rows == 0)
        #expect(result.batch.schema.names == ["driver_id", "event_timestamp", "rate", "label_like"])
    }

    @Test func compositeKeysJoinOnAllKeys() throws {
        let entities = try RecordBatch([
            "driver_id": .int64([1, 1, 2]), "city": .string(["y", "z", "x"]),
            "event_timestamp": .timestamp([
                TrainingSetBuilderTests.t(1), TrainingSetBuilderTests.t(1), TrainingSetBuilderTests.t(1),
            ]),
        ])
        let result = try run(entities, ["pairs:score"])
        #expect(result.batch.column(named: "score")?.values == [.float64(2.5), .null, .null])
    }

    @Test func joinKeyMapAndServices() throws {
        let entities = try RecordBatch([
            "driver": .int32([1]), "event_timestamp": .timestamp([TrainingSetBuilderTests.t(1)]),
        ])
        let result = try run(entities, ["hourly:rate"], keyMap: ["driver": "driver_id"])
        #expect(result.batch.column(named: "rate")?.values == [.float32(0.9)])
        // The service carries its own join_key_map and full_feature_names.
        let viaService = try TrainingSetBuilderTests.builder().build(
            TrainingSetRequest(
                spine: .entities(entities, name: "e"), selection: .service("svc")))
        #expect(viaService.batch.schema.names == ["driver", "event_timestamp", "hourly__rate", "daily__trips"])
        #expect(viaService.batch.column(named: "daily__trips")?.values == [.int64(100)])
    }

    @Test func createdGuard() throws {
        // At h1 + 6 µs the row created at h1 + 9 µs was not yet written: the guard picks the other h1 row.
        let entities = try RecordBatch([
            "driver_id": .int64([1]), "event_timestamp": .timestamp([TrainingSetBuilderTests.t(1) + 6]),
        ])
        #expect(try run(entities, ["hourly:rate"]).batch.column(named: "rate")?.values == [.float32(0.9)])
        #expect(
            try run(entities, ["hourly:rate"], guardCreated: true).batch.column(named: "rate")?.values == [
                .float32(0.5)
            ])
    }

    @Test func pushSourceReadsThroughItsBatchSource() throws {
        let entities = TrainingSetBuilderTests.entities([1], [3])
        let result = try run(entities, ["pushed:rate"])
        #expect(result.batch.column(named: "rate")?.values == [.float32(0.3)])
    }

    @Test func errorsNameWhatIsWrong() throws {
        let entities = TrainingSetBuilderTests.entities([1], [1])
        #expect(throws: TrainingSetError.self) { try run(entities, ["hourly:trips", "daily:trips"]) }
        do {
            _ = try run(entities, ["hourly:trips", "daily:trips"])
        } catch let error as TrainingSetError {
            #expect(error.message == "features 'hourly:trips' and 'daily:trips' would both be named 'trips'")
        }
        do {
            _ = try run(entities, ["hourli:rate"])
        } catch let error as TrainingSetError {
            #expect(error.description.contains("did you mean 'hourly'?"))
        }
        do {
            _ = try run(entities, ["hourly:rat"])
        } catch let error as TrainingSetError {
            #expect(error.description.contains("did you mean 'rate'?"))
        }
        let noKey = try RecordBatch(["driver": .int64([1]), "event_timestamp": .timestamp([0])])
        do {
            _ = try run(noKey, ["hourly:rate"])
            Issue.record("expected an error")
        } catch let error as TrainingSetError {
            #expect(
                error.message == "entities.parquet has no column 'driver_id', the join key of feature view 'hourly'")
        }
        let stringTime = try RecordBatch(["driver_id": .int64([1]), "event_timestamp": .string(["x"])])
        do {
            _ = try run(stringTime, ["hourly:rate"])
            Issue.record("expected an error")
        } catch let error as TrainingSetError {
            #expect(error.message == "column 'event_timestamp' of entities.parquet is string, not a timestamp")
        }
        let clash = try RecordBatch(["driver_id": .int64([1]), "event_timestamp": .timestamp([0]), "rate": .int64([1])])
        #expect(throws: TrainingSetError.self) { try run(clash, ["hourly:rate"]) }
    }

    @Test func joinKeyMapsAreCheckedAndRangeModeIgnoresThem() throws {
        let entities = TrainingSetBuilderTests.entities([1], [1])
        // The service maps column 'driver' to driver_id; a range spine names its columns after the keys.
        let ranged = try TrainingSetBuilderTests.builder().build(
            TrainingSetRequest(
                spine: .range(
                    start: Timestamp(microseconds: TrainingSetBuilderTests.t(0)),
                    end: Timestamp(microseconds: TrainingSetBuilderTests.t(1))),
                selection: .service("svc")))
        #expect(ranged.rows == 3)
        do {
            _ = try run(entities, ["hourly:rate"], keyMap: ["driver": "drvr_id"])
            Issue.record("expected an error")
        } catch let error as TrainingSetError {
            #expect(
                error.message
                    == "--join-key-map maps column 'driver' to 'drvr_id', which is not a join key of the requested views"
            )
            #expect(error.hint == "did you mean 'driver_id'?")
        }
        do {
            _ = try run(entities, ["hourly:rate"], keyMap: ["a": "driver_id", "b": "driver_id"])
            Issue.record("expected an error")
        } catch let error as TrainingSetError {
            #expect(error.message == "--join-key-map maps both 'a' and 'b' to join key 'driver_id'")
        }
        // The request's entry replaces the service's for the same key.
        let renamed = try RecordBatch([
            "drv": .int64([1]), "event_timestamp": .timestamp([TrainingSetBuilderTests.t(1)]),
        ])
        let viaService = try TrainingSetBuilderTests.builder().build(
            TrainingSetRequest(
                spine: .entities(renamed, name: "e"), selection: .service("svc"), joinKeyMap: ["drv": "driver_id"]))
        #expect(viaService.batch.column(named: "hourly__rate")?.values == [.float32(0.9)])
    }

    @Test func featureListsAcceptBracketsAndRejectEmptyNames() throws {
        let entities = TrainingSetBuilderTests.entities([1], [1])
        let both = try run(entities, ["hourly:[rate, trips]"])
        #expect(both.batch.schema.names.suffix(2) == ["rate", "trips"])
        #expect(FeatureReference.splitList("hourly:[rate, trips],daily") == ["hourly:[rate, trips]", "daily"])
        for bad in ["hourly:", "hourly:[]", ":rate", "hourly:[rate,]"] {
            #expect(throws: TrainingSetError.self, "\(bad)") { try run(entities, [bad]) }
        }
    }

    @Test func rangeWithoutEntityFile() throws {
        let result = try TrainingSetBuilderTests.builder().build(
            TrainingSetRequest(
                spine: .range(
                    start: Timestamp(microseconds: TrainingSetBuilderTests.t(0)),
                    end: Timestamp(microseconds: TrainingSetBuilderTests.t(1))),
                selection: .features(["hourly:rate", "daily:trips"])))
        // Distinct (driver_id, ts) of both sources within [h0, h1], sorted by time then key.
        #expect(result.batch.column(named: "driver_id")?.values == [.int64(1), .int64(2), .int64(1)])
        #expect(
            result.batch.column(named: "event_timestamp")?.values == [
                .timestamp(Timestamp(microseconds: TrainingSetBuilderTests.t(0))),
                .timestamp(Timestamp(microseconds: TrainingSetBuilderTests.t(0))),
                .timestamp(Timestamp(microseconds: TrainingSetBuilderTests.t(1))),
            ])
        #expect(result.batch.column(named: "rate")?.values == [.float32(0.1), .float32(0.7), .float32(0.9)])
        #expect(result.batch.column(named: "trips")?.values == [.int64(100), .null, .int64(100)])
    }
}

@Suite struct JoinStrategyTests {
    /// Streaming and sorted joins give identical training sets, with wide and narrow keys.
    @Test func strategiesAgree() async throws {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: UInt64(seed))
            let keys = 1 + rng.below(3)
            let n = rng.below(150)  // often more than 64 rows of one key
            let m = rng.below(80)
            func ts(_ k: Int) -> [Int64] { (0..<k).map { _ in TrainingSetBuilderTests.t(Int64(rng.below(6))) } }
            let entities = try! RecordBatch([
                "driver_id": .int64((0..<n).map { _ in Int64(rng.below(keys)) }), "event_timestamp": .timestamp(ts(n)),
            ])
            let events = ts(m)
            let stats = try! RecordBatch([
                "driver_id": .int64((0..<m).map { _ in Int64(rng.below(keys)) }), "ts": .timestamp(events),
                "created": .timestamp(events.map { $0 + Int64(rng.below(3)) }),
                "rate_raw": .float32((0..<m).map { Float($0) }), "trips": .int32((0..<m).map { Int32($0) }),
            ])
            let builder = TrainingSetBuilder(definitions: TrainingSetBuilderTests.definitions) { _ in
                [
                    MemorySourceReader([
                        stats.slice(0..<(m / 3)), stats.slice((m / 3)..<(m / 2)), stats.slice((m / 2)..<m),
                    ])
                ]
            }
            var results: [RecordBatch] = []
            for strategy in TrainingSetRequest.JoinStrategy.allCases {
                for threads in [1, 2] {
                    var request = TrainingSetRequest(
                        spine: .entities(entities, name: "e"), selection: .features(["hourly:rate"]),
                        createdNotAfterTime: seed % 3 == 0, threads: threads)
                    request.strategy = strategy
                    results.append(try! builder.build(request).batch)
                    request.retainedRowLimit = rng.below(5)  // compact after nearly every batch
                    results.append(try! builder.build(request).batch)
                }
            }
            for result in results.dropFirst() { #expect(result == results[0], "seed \(seed)") }
        }
    }
}

@Suite struct JoinKeyWidthTests {
    /// An int32 join key joins int64 data; a value too wide for int32 matches nothing instead of failing.
    @Test func integerKeysOfEitherWidthJoin() throws {
        let definitions = Definitions(
            entities: [Entity(name: "e", joinKeys: [JoinKey("id", .int32)])],
            sources: [DataSource(name: "s", kind: .file(path: "s", format: .parquet), timestampField: "ts")],
            featureViews: [FeatureView(name: "v", entities: ["e"], source: "s", features: [Feature("x", .int64)])])
        let source = try RecordBatch([
            "id": .int64([7, 1 << 40]), "ts": .timestamp([0, 0]), "x": .int64([70, 99]),
        ])
        let builder = TrainingSetBuilder(definitions: definitions) { _ in [MemorySourceReader([source])] }
        let entities = try RecordBatch(["id": .int32([7, 8]), "event_timestamp": .timestamp([5, 5])])
        let result = try builder.build(
            TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["v"])))
        #expect(result.batch.column(named: "x")?.values == [.int64(70), .null])
        #expect(result.batch.column(named: "id")?.type == .int32, "entity columns keep their own types")
        // A string column cannot be an integer key.
        let strings = try RecordBatch(["id": .string(["7"]), "event_timestamp": .timestamp([5])])
        #expect(throws: TrainingSetError.self) {
            try builder.build(TrainingSetRequest(spine: .entities(strings, name: "e"), selection: .features(["v"])))
        }
    }
}
