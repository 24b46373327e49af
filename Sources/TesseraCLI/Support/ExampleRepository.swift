import Foundation
import TesseraColumnar
import TesseraCore
import TesseraWorkload

/// The example feature repository `tessera init` writes: the reference workload's
/// driver features, customer profiles, trips with window aggregations, push sources and
/// feature services, with data.
struct ExampleRepository {
    var project: String
    var rows: Int
    var format: String
    /// The first instant of the generated data (event times span the 30 days after it).
    var start: Int64

    var configYAML: String {
        """
        # Tessera feature repository. Every path is relative to this folder.
        project: \(project)
        description: Ride-hailing features — the reference workload of the Tessera docs.

        # Embedded defaults: all state lives under .tessera/ (nothing to install).
        registry:
          type: sqlite
          path: .tessera/registry.db
        online_store:
          type: sqlite
          path: .tessera/online.db
        offline_store:
          type: native

        """
    }

    var driversYAML: String {
        """
        # Drivers: the reference workload's entity, source and feature view.
        entities:
          - name: driver
            join_keys:
              driver_id: int64
            description: A driver of the ride-hailing fleet.
            owner: rides-ml@example.com
            tags:
              team: rides

        sources:
          - name: driver_stats
            type: file
            path: data/driver_stats.\(format)
            timestamp_field: event_timestamp
            created_timestamp_field: created
            description: Hourly driver statistics from the trips pipeline.

          - name: driver_stats_push
            type: push
            batch_source: driver_stats
            description: Fresh driver statistics pushed by the streaming job.

        feature_views:
          - name: driver_hourly_stats
            entities: [driver]
            source: driver_stats_push   # its batch source's files, plus rows pushed offline
            ttl: 2d
            schema:
              conv_rate:
                type: float32
                description: Share of ride offers the driver accepted and completed.
              acc_rate:
                type: float32
                description: Share of ride offers the driver accepted.
              avg_daily_trips: int32
            online: true
            offline: true
            description: Driver quality signals, refreshed hourly.
            owner: rides-ml@example.com
            tags:
              tier: gold

        """
    }

    var customersYAML: String {
        """
        # Customers: profile features updated as customers ride.
        entities:
          - name: customer
            join_keys:
              customer_id: int64
            description: A rider.
            owner: growth-ml@example.com

        sources:
          - name: customer_profile
            path: data/customer_profile.\(format)
            timestamp_field: event_timestamp
            created_timestamp_field: created

        feature_views:
          - name: customer_profile
            entities: [customer]
            source: customer_profile
            ttl: 30d
            schema:
              current_balance: float32
              lifetime_trip_count: int64
              avg_passenger_count: float32
              segment: string
            description: Slowly changing customer attributes.
            owner: growth-ml@example.com

        """
    }

    var tripsYAML: String {
        """
        # Trips: raw events, and driver features Tessera computes from them over sliding
        # windows. A window ends just before each event, so a label never counts its own trip.
        sources:
          - name: trips
            path: data/trips.\(format)
            timestamp_field: event_timestamp
            description: One row per trip, as the trip service logs it.

          - name: trips_push
            type: push
            batch_source: trips
            description: Trips as they finish, pushed by the trip service.

        feature_views:
          - name: driver_trip_aggs
            entities: [driver]
            source: trips_push      # the trips files, plus trips pushed as they finish
            aggregations:
              - column: fare
                functions: [sum, mean, max]
                windows: [1h, 1d, 7d]
                description: Fares the driver earned.
              - function: count          # trips; no column
                windows: [1h, 1d, 7d]
              - column: rider_id
                functions: [approx_count_distinct]
                windows: [7d]
              - column: fare
                functions: [approx_percentile(0.9)]
                windows: [7d]
            description: A driver's recent activity (14 features, e.g. fare_sum_1h, count_7d, fare_p90_7d).
            owner: rides-ml@example.com

          # Windows over an expression of each completed trip: a filter and expression inputs
          # apply to the rows before they are aggregated, in training sets and pushes alike.
          - name: driver_completed_trips
            entities: [driver]
            source: trips_push
            filter: "status = 'completed'"
            aggregations:
              - expression: "fare / nullif(distance_km, 0)"
                name: "fare_per_km_{function}_{window}"
                functions: [mean, max]
                windows: [1d, 7d]
              - function: count
                name: "completed_{function}_{window}"
                windows: [1d, 7d]
            description: Completed trips and their fare per km over sliding windows.
            owner: rides-ml@example.com

          # Features derived from each trip by SQL expressions, over completed trips only.
          - name: driver_last_trip
            entities: [driver]
            source: trips_push
            ttl: 7d
            filter: "status = 'completed' AND distance_km > 0"
            schema:
              fare: float64
              fare_per_km:
                type: float64
                expression: "fare / nullif(distance_km, 0)"
              long_trip:
                type: bool
                expression: "distance_km >= 20"
              pickup_hour:
                type: int32
                expression: "hour(event_timestamp)"
            description: The driver's last completed trip, with features computed from it.
            owner: rides-ml@example.com

        """
    }

    var ridesYAML: String {
        """
        # Ride requests: data that arrives with each request, and features computed per
        # request from it and from stored features. Training sets compute them on the joined
        # rows (request fields come from the entity file's columns), lookups per request
        # (request fields come beside the join keys): one expression, one answer.
        request_sources:
          - name: ride_request
            schema:
              fare_estimate: float64
            description: What the ride app sends with each ranking request.

        on_demand_feature_views:
          - name: ride_scoring
            sources: [driver_hourly_stats, customer_profile, ride_request]
            features:
              expected_value:
                type: float64
                expression: "conv_rate * fare_estimate"
                description: The fare, weighted by how likely the driver is to complete the ride.
              is_premium_rider:
                type: bool
                expression: "segment IN ('premium', 'business')"
              balance_covers_fare:
                type: bool
                expression: "current_balance >= fare_estimate"
              fare_band:
                type: string
                expression: "CASE WHEN fare_estimate < 15 THEN 'short' WHEN fare_estimate < 40 THEN 'medium' ELSE 'long' END"
            description: Features of a ride offer, computed when it is scored.
            owner: rides-ml@example.com

        """
    }

    var servicesYAML: String {
        """
        # Feature services: the feature vectors models consume.
        feature_services:
          - name: ride_ranking_v1
            features:
              - driver_hourly_stats:conv_rate
              - driver_hourly_stats:acc_rate
              - customer_profile:segment
              - customer_profile:current_balance
            description: Features of the ride-ranking model.
            owner: rides-ml@example.com

          - name: driver_quality
            features:
              - driver_hourly_stats
            description: Every driver quality feature.

          - name: driver_activity_v1
            features:
              - driver_trip_aggs
              - driver_hourly_stats:conv_rate
            description: Features of the driver-churn model, from trips over sliding windows.

          - name: ride_scoring_v1
            features:
              - driver_hourly_stats:conv_rate
              - ride_scoring
            description: Features of the ride-offer model; four are computed per request.

        """
    }

    /// Writes the repository into `folder`; the data files are generated deterministically.
    /// - Parameter writeTable: writes one table: its path, schema, and the row ranges to pull from `make`, in order.
    func write(
        to folder: String,
        writeTable: (String, Schema, [Range<Int>], (Range<Int>) -> RecordBatch) throws -> Void
    ) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder + "/features", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        try configYAML.write(toFile: folder + "/tessera.yaml", atomically: true, encoding: .utf8)
        try driversYAML.write(toFile: folder + "/features/drivers.yaml", atomically: true, encoding: .utf8)
        try customersYAML.write(toFile: folder + "/features/customers.yaml", atomically: true, encoding: .utf8)
        try tripsYAML.write(toFile: folder + "/features/trips.yaml", atomically: true, encoding: .utf8)
        try ridesYAML.write(toFile: folder + "/features/rides.yaml", atomically: true, encoding: .utf8)
        try servicesYAML.write(toFile: folder + "/features/services.yaml", atomically: true, encoding: .utf8)
        try ".tessera/\n".write(toFile: folder + "/.gitignore", atomically: true, encoding: .utf8)

        let workload = Workload(rows: rows, start: start)
        func ranges(_ total: Int) -> [Range<Int>] {
            let chunk = 1 << 20
            return stride(from: 0, to: total, by: chunk).map { $0..<min(total, $0 + chunk) }
        }
        try writeTable("data/driver_stats.\(format)", Workload.statsSchema, ranges(workload.rows), workload.driverStats)
        try writeTable(
            "data/customer_profile.\(format)", Workload.customerSchema, ranges(workload.customerRows),
            workload.customerProfile)
        try writeTable("data/rides.\(format)", Workload.ridesSchema, ranges(workload.entityRows), workload.rides)
        try writeTable("data/trips.\(format)", Workload.tripsSchema, ranges(workload.tripRows), workload.trips)
        try writeTable(
            "data/trip_labels.\(format)", Workload.tripLabelsSchema, ranges(workload.tripLabelRows), workload.tripLabels
        )
    }
}
