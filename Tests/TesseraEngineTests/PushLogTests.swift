import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraTesting
import Testing

@Suite struct PushLogTests {
    static func definitions(features: [Feature]) -> Definitions {
        Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
            sources: [
                DataSource(
                    name: "batch", kind: .file(path: "none.parquet", format: .parquet), timestampField: "ts",
                    fieldMapping: ["rate_col": "rate"]),
                DataSource(
                    name: "pushed", kind: .push(batchSource: nil), timestampField: "ts",
                    fieldMapping: ["rate_col": "rate"]),
            ],
            featureViews: [FeatureView(name: "v", entities: ["driver"], source: "pushed", features: features)])
    }

    /// Pushes land under the source's column names; a later schema with a new feature reads old files as null.
    @Test func pushesAreReadBackAcrossSchemas() throws {
        let dir = try TemporaryDirectory("pushlog")
        defer { dir.remove() }
        let old = PushLogTests.definitions(features: [Feature("rate", .float32)])
        let new = PushLogTests.definitions(features: [Feature("rate", .float32), Feature("trips", .int64)])
        let log = PushLog(root: dir.path, source: "pushed")
        try log.append(
            try RecordBatch(["driver_id": .int64([1]), "ts": .timestamp([10]), "rate": .float32([0.5])]),
            columns: old.sourceColumns(of: old.sources[1]), at: Timestamp(microseconds: 100))
        try log.append(
            try RecordBatch([
                "driver_id": .int64([1]), "ts": .timestamp([20]), "rate": .float32([0.75]), "trips": .int64([3]),
            ]), columns: new.sourceColumns(of: new.sources[1]), at: Timestamp(microseconds: 200))
        let sources = RepositorySources(root: dir.path, definitions: new)
        let entities = try RecordBatch(["driver_id": .int64([1, 1]), "event_timestamp": .timestamp([15, 25])])
        let result = try TrainingSetBuilder(definitions: new) { try sources.readers(for: $0) }.build(
            TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["v"])))
        #expect(result.batch.column(named: "rate")?.values == [.float32(0.5), .float32(0.75)])
        #expect(result.batch.column(named: "trips")?.values == [.null, .int64(3)])
        // Stored under the source's own column name.
        let folders = try FileManager.default.contentsOfDirectory(atPath: dir.file(".tessera/push/pushed"))
        #expect(folders.count == 2)
    }
}
