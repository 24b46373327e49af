import PropertyBased
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
import Testing

@Suite struct MaterializerTests {
    static func definitions(ttl: TimeSpan) -> Definitions {
        Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
            sources: [
                DataSource(
                    name: "s", kind: .file(path: "s", format: .parquet), timestampField: "ts",
                    createdTimestampField: "created")
            ],
            featureViews: [
                FeatureView(
                    name: "v", entities: ["driver"], source: "s",
                    features: [Feature("x", .int64), Feature("name", .string)], ttl: ttl)
            ])
    }

    /// Random rows with heavy ties, split over several batches.
    /// `spread`: 0 dense keys, 1 sparse keys, 2 dense first then sparse (the dictionary switches mode).
    static func source(seed: UInt64, rows: Int, spread: Int = 0) -> [RecordBatch] {
        var rng = SplitMix(seed: seed)
        var batches: [RecordBatch] = []
        var produced = 0
        while produced < rows {
            let n = min(rows - produced, 1 + rng.below(7))
            let sparse = spread == 1 || (spread == 2 && produced > 0)
            let ids = (0..<n).map { _ in Int64(rng.below(6)) }.map { sparse && $0 >= 3 ? $0 &* 1_000_000_007 : $0 }
            let ts = (0..<n).map { _ in Int64(rng.below(10)) }
            let created = (0..<n).map { _ in Int64(rng.below(3)) }
            let x = (0..<n).map { i in Int64(produced + i) }
            let names = (0..<n).map { i in "row\(produced + i)" }
            batches.append(
                try! RecordBatch([
                    "driver_id": .int64(ids), "ts": .timestamp(ts), "created": .timestamp(created), "x": .int64(x),
                    "name": .string(names),
                ]))
            produced += n
        }
        return batches
    }

    @Test func latestRowPerEntityEqualsTheTrainingSetAtTheEnd() async throws {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: UInt64(seed))
            let batches = MaterializerTests.source(seed: UInt64(seed), rows: rng.below(40), spread: rng.below(3))
            let start = Int64(rng.below(5))
            let end = start + 1 + Int64(rng.below(8))  // ttl 0 would mean unbounded
            let defs = MaterializerTests.definitions(ttl: TimeSpan(microseconds: end - start))
            let readers: @Sendable (DataSource) throws -> [any SourceReader] = { _ in [MemorySourceReader(batches)] }
            let materializer = Materializer(definitions: defs, readers: readers)
            var emitted: [RecordBatch] = []
            let stats = try! materializer.latestRows(
                of: defs.featureViews[0], start: Timestamp(microseconds: start), end: Timestamp(microseconds: end),
                batchRows: 2, retainedRowLimit: rng.below(2) == 0 ? nil : rng.below(8)
            ) { emitted.append($0) }
            let online = emitted.isEmpty ? nil : try! RecordBatch.concatenate(emitted)
            #expect(stats.entities == (online?.rowCount ?? 0))
            // Offline: a training set for every driver at t = end with ttl = end - start.
            let ids = (0..<6).map { Int64($0) } + (3..<6).map { Int64($0) &* 1_000_000_007 }
            let entities = try! RecordBatch([
                "driver_id": .int64(ids), "event_timestamp": .timestamp(ids.map { _ in end }),
            ])
            let offline = try! TrainingSetBuilder(definitions: defs, readers: readers).build(
                TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["v"])))
            for (row, id) in ids.enumerated() {
                let expectedX = offline.batch.column(named: "x")?.value(at: row) ?? .null
                let onlineRow = online.flatMap { batch in
                    (0..<batch.rowCount).first { batch.column(named: "driver_id")?.value(at: $0) == .int64(id) }
                }
                let gotX = onlineRow.flatMap { online?.column(named: "x")?.value(at: $0) } ?? .null
                #expect(gotX == expectedX, "driver \(id), seed \(seed)")
                if let onlineRow {
                    #expect(
                        online?.column(named: "name")?.value(at: onlineRow)
                            == offline.batch.column(named: "name")?.value(at: row))
                }
            }
        }
    }

    /// Key-hash parts are disjoint and together give the winners of one pass, row for row;
    /// a budget of entities passed stops a part with nothing emitted.
    @Test func keyPartsTogetherGiveTheWinnersOfOnePass() async throws {
        await propertyCheck(count: 100, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: UInt64(seed))
            let batches = MaterializerTests.source(seed: UInt64(seed), rows: 1 + rng.below(60), spread: rng.below(3))
            let defs = MaterializerTests.definitions(ttl: .zero)
            let materializer = Materializer(definitions: defs) { _ in [MemorySourceReader(batches)] }
            let (start, end) = (Timestamp(microseconds: 0), Timestamp(microseconds: 100))
            func winners(_ partition: KeyPartition?) -> [String: [ScalarValue]] {
                var out: [String: [ScalarValue]] = [:]
                _ = try? materializer.latestRows(of: defs.featureViews[0], start: start, end: end, partition: partition)
                {
                    batch in
                    for row in 0..<batch.rowCount {
                        let key = "\(batch.column(named: "driver_id")?.value(at: row) ?? .null)"
                        #expect(out[key] == nil, "seed \(seed): driver \(key) in two parts")
                        out[key] = batch.columns.map { $0.value(at: row) }
                    }
                }
                return out
            }
            let whole = winners(nil)
            let count = 1 + rng.below(5)
            var joined: [String: [ScalarValue]] = [:]
            var emittedByParts = 0
            for index in 0..<count {
                let part = winners(KeyPartition(index: index, count: count))
                emittedByParts += part.count
                joined.merge(part) { a, _ in a }
            }
            #expect(joined == whole, "seed \(seed), \(count) parts")
            #expect(emittedByParts == whole.count, "seed \(seed): an entity in two parts")
            if whole.count > 1 {
                var emitted = 0
                let stats = try? materializer.latestRows(
                    of: defs.featureViews[0], start: start, end: end, partition: KeyPartition(index: 0, count: 1),
                    entityBudget: whole.count - 1
                ) { emitted += $0.rowCount }
                #expect(stats?.overBudget != nil && emitted == 0, "seed \(seed)")
            }
        }
    }

    @Test func rowsOutsideTheIntervalAreIgnored() throws {
        let batch = try RecordBatch([
            "driver_id": .int64([1, 1, 1]), "ts": .timestamp([5, 15, 25]), "created": .timestamp([0, 0, 0]),
            "x": .int64([1, 2, 3]), "name": .string(["a", "b", "c"]),
        ])
        let defs = MaterializerTests.definitions(ttl: .zero)
        let materializer = Materializer(definitions: defs) { _ in [MemorySourceReader([batch])] }
        var out: [RecordBatch] = []
        let stats = try materializer.latestRows(
            of: defs.featureViews[0], start: Timestamp(microseconds: 10), end: Timestamp(microseconds: 20)
        ) { out.append($0) }
        #expect(stats.rowsRead == 3)
        #expect(stats.entities == 1)
        #expect(out.first?.column(named: "x")?.values == [.int64(2)])
        #expect(out.first?.schema.names == ["driver_id", "__event_timestamp", "__created_timestamp", "x", "name"])
    }
}
