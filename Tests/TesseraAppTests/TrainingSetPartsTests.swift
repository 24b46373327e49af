import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline
import TesseraTesting
import Testing

/// A training set built in parts (`--memory-limit`) is the training set built at once, row
/// for row: parts of any size, entity batches of any size cut across parts, window
/// aggregations (lifetime ones too), filters and expression inputs.
@Suite struct TrainingSetPartsTests {
    @Test func partsOfAnySizeGiveTheWholeTrainingSet() throws {
        let dir = try TemporaryDirectory("training-set-parts")
        defer { dir.remove() }
        let events = AggregationReplayTests.events(seed: 21, count: 500)
        try dir.write("tessera.yaml", "project: parts\nregistry: {type: memory}\nonline_store: {type: memory}\n")
        try dir.write("features/aggs.yaml", AggregationReplayTests.definitions)
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        try AggregationReplayTests.writeParquet(events, to: dir.file("data/trips.parquet"))
        let store = try FeatureStore.open(dir.path, backends: .withMemory)
        _ = try store.apply(try store.repository(), allowBreaking: false)

        var rng = SplitMixRNG(seed: 3)
        let rows = 300
        let spine = try RecordBatch([
            "driver_id": .int64((0..<rows).map { _ in Int64(rng.below(8)) }),
            "event_timestamp": .timestamp(
                (0..<rows).map { _ in AggregationReplayTests.base + Int64(rng.below(4 * 24 * 60)) * 60_000_000 }),
            "label": .int64((0..<rows).map { Int64($0) }),
        ])
        let request = TrainingSetRequest(
            spine: .entities(spine, name: "spine"), selection: .features(["aggs", "filtered", "lifelong"]))
        let whole = try store.trainingSet(request).batch
        #expect(whole.rowCount == rows)

        for size in [1, 7, 64, 299, 300, 1_000] {
            // The entity rows arrive in batches of random sizes, cut across the parts.
            var offset = 0
            var batchSizes = SplitMixRNG(seed: UInt64(size))
            let next = { () -> RecordBatch? in
                guard offset < rows else { return nil }
                let n = min(rows - offset, 1 + batchSizes.below(90))
                defer { offset += n }
                return spine.slice(offset..<(offset + n))
            }
            var parts = try store.trainingSetParts(request, entitySchema: spine.schema, memoryLimit: 1 << 30)
            parts.rowsPerPart = size
            var emitted: [RecordBatch] = []
            let summary = try store.trainingSet(
                request, parts: parts, entitySchema: spine.schema, entityName: "spine", next: next
            ) { emitted.append($0) }
            #expect(summary.parts == (rows + size - 1) / size, "parts of \(size)")
            #expect(emitted.allSatisfy { $0.rowCount <= size })
            #expect(summary.rows == rows)
            let joined = try RecordBatch.concatenate(emitted)
            #expect(joined.schema == whole.schema)
            for name in whole.schema.names {
                let a = whole.column(named: name)?.values ?? []
                let b = joined.column(named: name)?.values ?? []
                #expect(
                    a.count == b.count && zip(a, b).allSatisfy { AggregationReplayTests.sameBits($0, $1) },
                    "parts of \(size): column \(name) differs")
            }
        }

        // No entity rows: one empty part, so the output has its columns.
        var emitted: [RecordBatch] = []
        let none = try store.trainingSet(
            request, parts: try store.trainingSetParts(request, entitySchema: spine.schema, memoryLimit: 1 << 30),
            entitySchema: spine.schema, entityName: "spine", next: { nil }
        ) { emitted.append($0) }
        #expect(none.parts == 1 && none.rows == 0)
        #expect(emitted.first?.schema == whole.schema)
    }

    /// Parts shrink with the limit and grow with it, never below the minimum.
    @Test func partsFollowTheLimit() throws {
        let dir = try TemporaryDirectory("training-set-parts-size")
        defer { dir.remove() }
        try dir.write("tessera.yaml", "project: parts\nregistry: {type: memory}\nonline_store: {type: memory}\n")
        try dir.write("features/aggs.yaml", AggregationReplayTests.definitions)
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        try AggregationReplayTests.writeParquet([], to: dir.file("data/trips.parquet"))
        let store = try FeatureStore.open(dir.path, backends: .withMemory)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        let schema = Schema([Field("driver_id", .int64), Field("event_timestamp", .timestamp)])
        let request = TrainingSetRequest(
            spine: .entities(RecordBatch(empty: schema), name: "spine"), selection: .features(["aggs"]))
        let small = try store.trainingSetParts(request, entitySchema: schema, memoryLimit: 1 << 20)
        #expect(small.belowMinimum && small.rowsPerPart == TrainingSetParts.minimumRows)
        let half = try store.trainingSetParts(request, entitySchema: schema, memoryLimit: 512 << 20)
        let two = try store.trainingSetParts(request, entitySchema: schema, memoryLimit: 2 << 30)
        #expect(!half.belowMinimum && half.rowsPerPart > TrainingSetParts.minimumRows)
        #expect(two.rowsPerPart > 4 * half.rowsPerPart)
        #expect(half.reserved + half.rowsPerPart * half.bytesPerRow <= 512 << 20)
        // More features per row: smaller parts.
        let more = TrainingSetRequest(
            spine: .entities(RecordBatch(empty: schema), name: "spine"),
            selection: .features(["aggs", "filtered", "lifelong"]))
        #expect(
            try store.trainingSetParts(more, entitySchema: schema, memoryLimit: 512 << 20).rowsPerPart
                < half.rowsPerPart)
    }
}
