import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraTesting

/// A feature repository in a temporary folder, built from YAML strings.
struct RepositoryFixture {
    let directory: TemporaryDirectory

    static let config = "project: demo\n"

    static let drivers = """
        entities:
          - name: driver
            join_keys:
              driver_id: int64
            description: A driver.
        sources:
          - name: driver_stats
            path: data/driver_stats.csv
            timestamp_field: event_timestamp
            created_timestamp_field: created
        feature_views:
          - name: driver_hourly_stats
            entities: [driver]
            source: driver_stats
            ttl: 2d
            schema:
              conv_rate: float32
              acc_rate: float32
              avg_daily_trips: int32
        """

    static let services = """
        feature_services:
          - name: ranking
            features:
              - driver_hourly_stats:conv_rate
              - driver_hourly_stats:avg_daily_trips
        """

    init(files: [String: String] = ["features/drivers.yaml": drivers, "features/services.yaml": services]) throws {
        directory = try TemporaryDirectory("tessera-repo")
        try directory.write("tessera.yaml", RepositoryFixture.config)
        try directory.write(
            "data/driver_stats.csv", "driver_id,event_timestamp,created,conv_rate,acc_rate,avg_daily_trips\n")
        try directory.write("data/trips.csv", "trip_id,driver_id,rider_id,event_timestamp,fare,status\n")
        for (path, text) in files { try directory.write(path, text) }
    }

    var path: String { directory.path }

    func write(_ relative: String, _ text: String) throws { try directory.write(relative, text) }

    func load() throws -> FeatureRepository { try FeatureRepository.load(at: path) }

    /// The diagnostics loading produces (fails the test if loading succeeds).
    func diagnostics() -> [Diagnostic] {
        do throws(DiagnosticsError) {
            _ = try FeatureRepository.load(at: path)
            return []
        } catch {
            return error.diagnostics
        }
    }
}
