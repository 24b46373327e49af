import TesseraColumnar
import TesseraCore
import TesseraOnline

/// A request for online features: which features, for which entities.
public struct LookupRequest: Sendable {
    /// The features wanted.
    public enum Features: Sendable, Hashable {
        /// `view:feature` references.
        case references([String])
        /// A feature service by name.
        case service(String)
    }

    public var features: Features
    /// Entity columns in request order: join-key name and one value per entity row.
    /// Columns that are not join keys of the requested views are ignored (as Feast does).
    public var entities: [(name: String, values: [ScalarValue])]
    /// Name features `view__feature` instead of `feature`.
    public var fullFeatureNames: Bool
    /// Request data for on-demand features, one value per entity row, beside what
    /// `entities` holds (Feast's `request_context`); a field in both is taken from `entities`.
    public var requestContext: [(name: String, values: [ScalarValue])]

    public init(
        features: Features, entities: [(name: String, values: [ScalarValue])], fullFeatureNames: Bool = false,
        requestContext: [(name: String, values: [ScalarValue])] = []
    ) {
        self.features = features
        self.entities = entities
        self.fullFeatureNames = fullFeatureNames
        self.requestContext = requestContext
    }
}

/// Online features, column by column, as Feast's `GetOnlineFeaturesResponse`: the entity
/// join-key columns first (statuses `PRESENT`, no event time), then the features.
public struct OnlineFeaturesResponse: Sendable, Equatable {
    /// One output column.
    public struct FeatureVector: Sendable, Equatable {
        public var values: [ScalarValue]
        public var statuses: [FeatureStatus]
        /// The stored row's event time; `nil` for join keys and misses (Feast prints the epoch).
        public var eventTimestamps: [Timestamp?]

        public init(values: [ScalarValue], statuses: [FeatureStatus], eventTimestamps: [Timestamp?]) {
            self.values = values
            self.statuses = statuses
            self.eventTimestamps = eventTimestamps
        }
    }

    /// Output names: join keys, then `feature` or `view__feature`.
    public var featureNames: [String]
    /// One vector per name, in the same order.
    public var results: [FeatureVector]

    public init(featureNames: [String], results: [FeatureVector]) {
        self.featureNames = featureNames
        self.results = results
    }

    /// The vector named `name`, if any.
    public func vector(named name: String) -> FeatureVector? {
        featureNames.firstIndex(of: name).map { results[$0] }
    }
}
