import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraTesting
import Testing

/// `request_sources` and `on_demand_feature_views`: what they load to, and every mistake at
/// its place (file:line:column inside the expression).
@Suite struct OnDemandDefinitionTests {
    static func repository(_ onDemand: String, services: String = "") -> [String: String] {
        [
            "features/drivers.yaml": RepositoryFixture.drivers,
            "features/rides.yaml": """
            request_sources:
              - name: ride_request
                schema:
                  fare_estimate: float64
                  conv_rate: float64
            on_demand_feature_views:
            \(onDemand)
            \(services)
            """,
        ]
    }

    @Test func loadsRequestSourcesAndOnDemandViews() throws {
        let fixture = try RepositoryFixture(
            files: Self.repository(
                """
                  - name: ride_scoring
                    sources: [driver_hourly_stats, ride_request]
                    features:
                      expected_value:
                        type: float64
                        expression: "driver_hourly_stats__conv_rate * fare_estimate"
                        description: Expected fare.
                      busy:
                        type: bool
                        expression: "avg_daily_trips > 10"
                """,
                services: """
                    feature_services:
                      - name: scoring
                        features: [ride_scoring, "driver_hourly_stats:acc_rate"]
                    """))
        let definitions = try fixture.load().definitions
        #expect(definitions.requestSource("ride_request")?.schema.map(\.name) == ["fare_estimate", "conv_rate"])
        let view = try #require(definitions.onDemandView("ride_scoring"))
        #expect(view.sources == ["driver_hourly_stats", "ride_request"])
        #expect(view.features.map(\.name) == ["expected_value", "busy"])
        #expect(view.features.first?.expression == "driver_hourly_stats__conv_rate * fare_estimate")
        #expect(view.features.first?.description == "Expected fare.")
        // Both kinds are objects: plan lists and digests them.
        let ids = definitions.objectIDs
        #expect(ids.contains(ObjectID(.requestSource, "ride_request")))
        #expect(ids.contains(ObjectID(.onDemandFeatureView, "ride_scoring")))
        let fields = CanonicalFields.all(definitions)[ObjectID(.onDemandFeatureView, "ride_scoring")] ?? []
        #expect(fields.contains { $0.path == "features.busy.expression" && $0.value == "avg_daily_trips > 10" })
        // A registry written before these kinds existed still decodes.
        let old = #"{"entities":[],"sources":[],"featureViews":[],"featureServices":[]}"#
        let decoded = try JSONDecoder().decode(Definitions.self, from: Data(old.utf8))
        #expect(decoded.onDemandViews.isEmpty && decoded.requestSources.isEmpty)
        let again = try JSONDecoder().decode(Definitions.self, from: JSONEncoder().encode(definitions))
        #expect(again == definitions)
    }

    /// Golden messages: each error names the object, the feature and the reason, at the
    /// column of the expression where the problem is.
    @Test func mistakesAreReportedAtTheirPlace() throws {
        let fixture = try RepositoryFixture(
            files: Self.repository(
                """
                  - name: ride_scoring
                    sources: [driver_hourly_stats, ride_request, nowhere]
                    features:
                      ambiguous:
                        type: float64
                        expression: "conv_rate * 2"
                      misspelt:
                        type: float64
                        expression: "fare_estimat + 1"
                      wrong_type:
                        type: bool
                        expression: "fare_estimate * 2"
                      no_expression: float64
                  - name: driver_hourly_stats
                    sources: [ride_request]
                    features:
                      x: {type: float64, expression: "fare_estimate"}
                """,
                services: """
                    feature_services:
                      - name: scoring
                        features: ["ride_scoring:nope"]
                    """))
        let messages = fixture.diagnostics().map(\.description)
        let text = messages.joined(separator: "\n")
        #expect(
            text.contains(
                "features/rides.yaml:12:22: error: 'conv_rate' is ambiguous: 'driver_hourly_stats__conv_rate', 'ride_request__conv_rate' in the expression of feature 'ambiguous' of on-demand feature view 'ride_scoring'"
            ), "\(text)")
        #expect(
            text.contains(
                "features/rides.yaml:15:22: error: no column named 'fare_estimat' in the expression of feature 'misspelt'"
            ), "\(text)")
        #expect(text.contains("did you mean 'fare_estimate'?"), "\(text)")
        #expect(
            text.contains(
                "the expression of feature 'wrong_type' of on-demand feature view 'ride_scoring' is float64, which its type bool cannot hold"
            ), "\(text)")
        #expect(text.contains("feature 'no_expression' of on-demand feature view 'ride_scoring' needs an expression"))
        #expect(
            text.contains(
                "on-demand feature view 'ride_scoring' reads 'nowhere', which is neither a feature view nor a request source"
            ), "\(text)")
        #expect(
            text.contains("on-demand feature view 'driver_hourly_stats' has the name of a feature view"), "\(text)")
        #expect(
            text.contains(
                "on-demand feature view 'ride_scoring' has no feature 'nope' (used by feature service 'scoring')"),
            "\(text)")
    }
}
