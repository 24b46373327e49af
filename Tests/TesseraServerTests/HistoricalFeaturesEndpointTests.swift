import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

@testable import TesseraServer

/// `POST /get-historical-features`: Parquet or Arrow IPC in, Arrow IPC out, and every
/// refusal named.
/// (The Python client's tests read the answers with pyarrow and compare them, value by value,
/// with the CLI's training sets.)
@Suite struct HistoricalFeaturesEndpointTests {
    /// The fixture's source file: one row per driver, a day before `ServerFixture.now`.
    static func writeSource(in fixture: ServerFixture) throws {
        let day = ServerFixture.now.microseconds - 86_400_000_000
        let batch = try RecordBatch([
            "driver_id": .int64([1001, 1002]), "event_timestamp": .timestamp([day, day]),
            "created": .timestamp([day, day]), "conv_rate": .float32([0.5, 0.25]), "acc_rate": .float32([0.75, 0.5]),
            "avg_daily_trips": .int32([10, 20]),
        ])
        try FileManager.default.createDirectory(
            atPath: fixture.directory.file("data"), withIntermediateDirectories: true)
        let writer = try ParquetWriter(path: fixture.directory.file("data/driver_stats.parquet"), schema: batch.schema)
        try writer.write(batch)
        try writer.close()
    }

    static func entities() throws -> RecordBatch {
        try RecordBatch([
            "driver_id": .int64([1001, 1002, 5]),
            "event_timestamp": .timestamp([ServerFixture.now.microseconds, ServerFixture.now.microseconds, 0]),
        ])
    }

    static func entityFile(in fixture: ServerFixture) throws -> [UInt8] {
        let batch = try entities()
        let path = fixture.directory.file("entities.parquet")
        let writer = try ParquetWriter(path: path, schema: batch.schema)
        try writer.write(batch)
        try writer.close()
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func answersArrowAndNamesEveryRefusal() async throws {
        let fixture = try ServerFixture(label: "historical")
        try Self.writeSource(in: fixture)
        let body = try Self.entityFile(in: fixture)
        let arrow = try ArrowIPCWriter.stream(try Self.entities())
        // An Arrow body whose key is a list: refused naming the column.
        let listed = try RecordBatch([
            "driver_id": Column(type: .list(.int64), data: .list(offsets: [0, 1], values: .int64([1001]))),
            "event_timestamp": .timestamp([ServerFixture.now.microseconds]),
        ])
        let badArrow = try ArrowIPCWriter.stream(listed)
        let all = try await fixture.live { client in
            [
                try await client.post(
                    "/get-historical-features?features=driver_hourly_stats:conv_rate,driver_hourly_stats:avg_daily_trips",
                    bytes: arrow),
                try await client.post(
                    "/get-historical-features?features=driver_hourly_stats:conv_rate", bytes: badArrow),
                try await client.post(
                    "/get-historical-features?features=driver_hourly_stats:conv_rate,driver_hourly_stats:avg_daily_trips",
                    bytes: body),
                try await client.post("/get-historical-features?features=driver_hourly_stats:conv_rat", bytes: body),
                try await client.post("/get-historical-features?features=driver_hourly_stats:conv_rate", "{}"),
                try await client.post("/get-historical-features", bytes: body),
                try await client.post(
                    "/get-historical-features?features=driver_hourly_stats:conv_rate&full_feature_names=maybe",
                    bytes: body),
                try await client.post(
                    "/get-historical-features?features=driver_hourly_stats:conv_rate&timestamp_column=ts", bytes: body),
                try await client.get("/get-historical-features"),
            ]
        }
        // The same entity rows as Arrow IPC give the same answer, byte for byte.
        let (fromArrow, refused) = (all[0], all[1])
        #expect(fromArrow.0 == 200, "\(fromArrow.1)")
        #expect(refused.0 == 400, "\(refused.1)")
        #expect(refused.1.contains("'driver_id'") && refused.1.contains("list"), "\(refused.1)")
        let answers = Array(all.dropFirst(2))
        #expect(fromArrow.1 == answers[0].1, "an Arrow body's answer differs from the Parquet body's")
        #expect(answers[0].0 == 200, "\(answers[0].1)")
        #expect(answers[1].0 == 404)
        #expect(answers[1].1.contains("did you mean 'conv_rate'?"))
        #expect(answers[2].0 == 415)
        #expect(answers[2].1.contains("\"error\":\"unsupported_media_type\""))
        #expect(answers[3].0 == 400)
        #expect(answers[3].1.contains("exactly one of the query parameters 'features' and 'feature_service'"))
        #expect(answers[4].0 == 400)
        #expect(answers[4].1.contains("\"field\":\"full_feature_names\""))
        #expect(answers[5].0 == 400)
        #expect(answers[5].1.contains("ts"))
        #expect(answers[6].0 == 405)
    }
}
