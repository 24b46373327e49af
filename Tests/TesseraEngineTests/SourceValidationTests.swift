import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOffline
import TesseraTesting
import Testing

@Suite struct SourceValidationTests {
    /// A repository whose one source is a Parquet file with the given columns.
    static func repository(columns: KeyValuePairs<String, Column>, view: String) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("validation")
        try dir.write("tessera.yaml", "project: p\n")
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        let batch = try RecordBatch(columns)
        let writer = try ParquetWriter(path: dir.file("data/s.parquet"), schema: batch.schema)
        try writer.write(batch)
        try writer.close()
        try dir.write(
            "defs.yaml",
            """
            entities:
              - name: driver
                join_keys: {driver_id: int64}
            sources:
              - name: s
                path: data/s.parquet
                timestamp_field: ts
            feature_views:
            \(view)
            """)
        return dir
    }

    @Test func matchingColumnsPass() throws {
        let dir = try SourceValidationTests.repository(
            columns: ["driver_id": .int32([1]), "ts": .timestamp([0]), "x": .float32([1])],
            view: "  - {name: v, entities: [driver], source: s, schema: {x: float64}}")
        defer { dir.remove() }
        // int32 keys widen to int64, float32 to float64.
        #expect(SourceValidation.diagnostics(for: try FeatureRepository.load(at: dir.path)).isEmpty)
    }

    @Test func missingAndMistypedColumnsAreNamedAtTheView() throws {
        let dir = try SourceValidationTests.repository(
            columns: ["driver_id": .string(["a"]), "ts": .string(["2026-01-01"]), "conv": .float32([1])],
            view: "  - {name: v, entities: [driver], source: s, schema: {conv_rate: float32}}")
        defer { dir.remove() }
        let found = SourceValidation.diagnostics(for: try FeatureRepository.load(at: dir.path))
        #expect(
            found.map(\.message) == [
                "column 'driver_id' of source 's' is string, but feature view 'v' needs int64 (join key 'driver_id')",
                "column 'ts' of source 's' is string, but feature view 'v' needs timestamp (event timestamp)",
                "feature view 'v' reads column 'conv_rate' (feature 'conv_rate') but source 's' has no such column",
            ])
        // Each problem points at the field it comes from (the definitions are one flow mapping on line 9).
        #expect(found.map(\.location.line) == [9, 9, 9])
        #expect(Set(found.map(\.location.column)).count == 3, "source, entities and schema are at different columns")
        #expect(
            found[1].hint
                == "timestamps must be stored as timestamps (Parquet TIMESTAMP, ISO 8601 text in CSV, timestamp or timestamptz in PostgreSQL)"
        )
        #expect(throws: DiagnosticsError.self) { try FeatureRepository.loadChecked(at: dir.path) }
    }

    @Test func timesMustBeTimestampsAndKeysMustJoin() throws {
        let dir = try SourceValidationTests.repository(
            columns: ["driver_id": .float64([1]), "ts": .int64([0]), "x": .int32([1])],
            view: "  - {name: v, entities: [driver], source: s, schema: {x: int64}}")
        defer { dir.remove() }
        let found = SourceValidation.diagnostics(for: try FeatureRepository.load(at: dir.path)).map(\.message)
        #expect(
            found.contains("column 'ts' of source 's' is int64, but feature view 'v' needs timestamp (event timestamp)")
        )
        #expect(
            found.contains(
                "column 'driver_id' of source 's' is float64, but feature view 'v' needs int64 (join key 'driver_id')"))
        #expect(found.count == 2, "int32 data for an int64 feature is fine")
    }

    @Test func unreadableSourceIsReported() throws {
        let dir = try SourceValidationTests.repository(
            columns: ["driver_id": .int64([1]), "ts": .timestamp([0])],
            view: "  - {name: v, entities: [driver], source: s, schema: {x: float64}}")
        defer { dir.remove() }
        try Data("not parquet at all".utf8).write(to: URL(fileURLWithPath: dir.file("data/s.parquet")))
        let found = SourceValidation.diagnostics(for: try FeatureRepository.load(at: dir.path))
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("source 's' cannot be read: ") == true)
        #expect(found.first?.message.contains("data/s.parquet") == true)
    }
}
