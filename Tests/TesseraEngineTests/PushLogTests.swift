import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline
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
        let first = try RecordBatch(["driver_id": .int64([1]), "ts": .timestamp([10]), "rate": .float32([0.5])])
        try log.append(
            first, columns: old.sourceColumns(of: old.sources[1]), pushID: PushID.of(source: "pushed", batch: first),
            at: Timestamp(microseconds: 100))
        let second = try RecordBatch([
            "driver_id": .int64([1]), "ts": .timestamp([20]), "rate": .float32([0.75]), "trips": .int64([3]),
        ])
        try log.append(
            second, columns: new.sourceColumns(of: new.sources[1]), pushID: PushID.of(source: "pushed", batch: second),
            at: Timestamp(microseconds: 200))
        let sources = RepositorySources(root: dir.path, definitions: new)
        let entities = try RecordBatch(["driver_id": .int64([1, 1]), "event_timestamp": .timestamp([15, 25])])
        let result = try TrainingSetBuilder(definitions: new) { try sources.readers(for: $0) }.build(
            TrainingSetRequest(spine: .entities(entities, name: "e"), selection: .features(["v"])))
        #expect(result.batch.column(named: "rate")?.values == [.float32(0.5), .float32(0.75)])
        #expect(result.batch.column(named: "trips")?.values == [.null, .int64(3)])
        // Stored under the source's own column name.
        let folders = try FileManager.default.contentsOfDirectory(atPath: dir.file(".tessera/push/pushed"))
        #expect(folders.filter { !$0.hasPrefix(".") }.count == 2)
    }

    /// A push appended again (a client's retry) adds nothing; a push whose marker was recorded
    /// but whose file was lost in a crash is finished under the recorded name.
    @Test func appendingTheSamePushTwiceKeepsOneCopy() throws {
        let dir = try TemporaryDirectory("pushlog-retry")
        defer { dir.remove() }
        let definitions = PushLogTests.definitions(features: [Feature("rate", .float32)])
        let columns = definitions.sourceColumns(of: definitions.sources[1])
        let log = PushLog(root: dir.path, source: "pushed")
        let batch = try RecordBatch([
            "driver_id": .int64([1, 2]), "ts": .timestamp([10, 11]), "rate": .float32([0.5, 1]),
        ])
        let id = PushID.of(source: "pushed", batch: batch)
        for _ in 0..<3 { try log.append(batch, columns: columns, pushID: id) }
        func files() throws -> [String] {
            let fm = FileManager.default
            let root = dir.file(".tessera/push/pushed")
            return try fm.contentsOfDirectory(atPath: root).filter { !$0.hasPrefix(".") }.flatMap { folder in
                try fm.contentsOfDirectory(atPath: root + "/" + folder).filter { $0.hasSuffix(".parquet") }
                    .map { folder + "/" + $0 }
            }
        }
        #expect(try files().count == 1)
        // The same rows under another push id (another push) are a second file.
        let other = try RecordBatch(["driver_id": .int64([3]), "ts": .timestamp([12]), "rate": .float32([2])])
        try log.append(other, columns: columns, pushID: PushID.of(source: "pushed", batch: other))
        #expect(try files().count == 2)
        // A crash after the marker and before the file: the retry writes the file it recorded.
        let recorded = try #require(try files().first)
        try FileManager.default.removeItem(atPath: dir.file(".tessera/push/pushed/" + recorded))
        let ids = try FileManager.default.contentsOfDirectory(atPath: dir.file(".tessera/push/pushed/.ids"))
        #expect(ids.filter { !$0.hasPrefix(".") }.count == 2)
        try log.append(batch, columns: columns, pushID: id)
        try log.append(other, columns: columns, pushID: PushID.of(source: "pushed", batch: other))
        #expect(try files().count == 2)
        #expect(PushID.of(source: "pushed", batch: batch) != PushID.of(source: "other", batch: batch))
    }
}
