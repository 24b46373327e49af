import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraTesting
import Testing

/// `aggregations:` on feature views: names, types and windows, and every mistake at its place.
@Suite struct AggregationDefinitionTests {
    static func view(_ aggregations: String, extra: String = "") -> String {
        """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: trips
            path: data/trips.csv
            timestamp_field: event_timestamp
        feature_views:
          - name: driver_trip_aggs
            entities: [driver]
            source: trips
            online: false
        \(extra)    aggregations:
        \(aggregations)
        """
    }

    @Test func expandsFunctionsAndWindowsIntoNamedTypedFeatures() throws {
        let fixture = try RepositoryFixture(files: [
            "features/trips.yaml": Self.view(
                """
                      - column: fare
                        type: float64
                        functions: [sum, mean, max]
                        windows: [1h, 1d, 7d]
                      - function: count
                        windows: [1h, lifetime]
                      - column: rider_id
                        type: int64
                        functions: [approx_count_distinct, sum]
                        windows: [7d]
                      - column: fare
                        type: float64
                        functions: [approx_percentile(0.9), last_n(3), stddev, var, first, last, min]
                        windows: [7d]
                        description: Fare statistics.
                      - column: fare
                        type: float32
                        function: approx_percentile(0.999)
                        window: 30m
                        name: "p999_{window}"
                """)
        ])
        let repository = try fixture.load()
        guard let view = repository.definitions.featureViews.first(where: { $0.name == "driver_trip_aggs" }) else {
            Issue.record("view missing")
            return
        }
        let names = view.features.map(\.name)
        #expect(
            names == [
                "fare_sum_1h", "fare_sum_1d", "fare_sum_7d", "fare_mean_1h", "fare_mean_1d", "fare_mean_7d",
                "fare_max_1h", "fare_max_1d", "fare_max_7d", "count_1h", "count_lifetime",
                "rider_id_approx_count_distinct_7d", "rider_id_sum_7d", "fare_p90_7d", "fare_last_3_7d",
                "fare_stddev_7d", "fare_var_7d", "fare_first_7d", "fare_last_7d", "fare_min_7d", "p999_30m",
            ])
        func type(_ name: String) -> ValueType? { view.features.first { $0.name == name }?.type }
        #expect(type("fare_sum_1h") == .float64)
        #expect(type("count_1h") == .int64)
        #expect(type("rider_id_approx_count_distinct_7d") == .int64)
        #expect(type("rider_id_sum_7d") == .int64)
        #expect(type("fare_mean_7d") == .float64)
        #expect(type("fare_p90_7d") == .float64)
        #expect(type("fare_max_7d") == .float64)
        #expect(type("fare_last_3_7d") == .list(.float64))
        #expect(type("p999_30m") == .float64)
        let lifetime = view.features.first { $0.name == "count_lifetime" }?.aggregation
        #expect(lifetime?.window == .lifetime)
        #expect(lifetime?.column == nil)
        #expect(view.features.first { $0.name == "fare_sum_7d" }?.aggregation?.window == .length(.days(7)))
        #expect(view.features.first { $0.name == "fare_first_7d" }?.description == "Fare statistics.")
    }

    @Test func everyMistakeIsReportedAtItsPlace() throws {
        let fixture = try RepositoryFixture(files: [
            "features/trips.yaml": Self.view(
                """
                      - column: fare
                        type: float64
                        functions: [sum, summ, approx_percentile(1.5), last_n(0)]
                        windows: [1h, 0, 2 days]
                      - column: status
                        type: string
                        functions: [mean, max]
                        windows: [1d]
                      - functions: [sum]
                        windows: [1d]
                      - column: fare
                        type: float64
                        function: sum
                        windows: [1h]
                      - column: fare
                        type: float64
                        function: max
                        windows: [1h, 60m]
                        name: "fare_max"
                      - column: fare
                        window: 1h
                """)
        ])
        let found = fixture.diagnostics().map {
            "\($0.location.line):\($0.location.column) \($0.message) | \($0.hint ?? "")"
        }
        func has(_ line: Int, _ text: String, _ hint: String? = nil) {
            #expect(
                found.contains { $0.hasPrefix("\(line):") && $0.contains(text) && (hint.map($0.contains) ?? true) },
                "no error at line \(line) containing '\(text)': \(found)")
        }
        has(16, "unknown aggregate function 'summ'", "did you mean 'sum'?")
        has(16, "approx_percentile takes a fraction between 0 and 1, not '1.5'")
        has(16, "last_n takes a count from 1 to 1000, not '0'")
        has(17, "a window of 0 covers no events")
        has(17, "'2 days' is not a window")
        has(20, "mean needs a numeric column, not string")
        has(22, "sum in an aggregation of feature view 'driver_trip_aggs' needs a column")
        // The fourth entry names fare_sum_1h again, which the first one made.
        has(26, "two features named 'fare_sum_1h'", "give the aggregation a 'name' template")
        has(32, "two features named 'fare_max'")
        has(33, "names no function")
        #expect(found.count == 10, "\(found)")
    }

    /// Online views may have lifetime windows (their states keep running aggregates).
    @Test func anOnlineViewCanHaveALifetimeWindow() throws {
        let fixture = try RepositoryFixture(files: [
            "features/trips.yaml": Self.view(
                """
                      - function: count
                        windows: [1h, lifetime]
                """
            ).replacingOccurrences(of: "online: false", with: "online: true")
        ])
        #expect(fixture.diagnostics().isEmpty, "\(fixture.diagnostics())")
        let view = try fixture.load().definitions.featureView("driver_trip_aggs")
        #expect(view?.online == true)
        #expect(view?.features.map(\.name).contains("count_lifetime") == true)
    }

    /// Changing a window or a function of a feature a service uses breaks that service.
    @Test func changingAWindowBreaksTheServicesThatUseIt() throws {
        let service = """
            feature_services:
              - name: activity
                features: [driver_trip_aggs:fare_sum_1h]
            """
        let before = try RepositoryFixture(files: [
            "features/trips.yaml": Self.view(
                """
                      - column: fare
                        type: float64
                        function: sum
                        windows: [1h]
                        name: "fare_sum_1h"
                """),
            "features/services.yaml": service,
        ])
        let old = try before.load().definitions
        try before.write(
            "features/trips.yaml",
            Self.view(
                """
                      - column: fare
                        type: float64
                        function: sum
                        windows: [2h]
                        name: "fare_sum_1h"
                """))
        let new = try before.load().definitions
        let plan = Plan(from: old, to: new)
        let change = plan.changes.first { $0.id.name == "driver_trip_aggs" }
        #expect(change != nil, "\(plan.changes)")
        #expect(plan.breakingReasons.contains { $0.contains("activity") }, "\(plan.breakingReasons)")
        #expect(plan.rendered().contains("2h"), "\(plan.rendered())")
    }
}
