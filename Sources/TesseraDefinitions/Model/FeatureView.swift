import TesseraCore

/// One feature of a view: its name and type, and, for a window aggregation, how it is
/// computed (a plain feature is the source column's latest value).
public struct Feature: Hashable, Sendable, Codable {
    public var name: String
    public var type: ValueType
    public var description: String
    public var tags: [String: String]
    /// The window aggregation that computes it; `nil` for a plain feature.
    public var aggregation: Aggregation?
    /// For a derived feature, the expression (over the source's columns) that computes it
    /// from each source row; `nil` when the feature is the source column of its name.
    public var expression: String?

    public init(
        _ name: String, _ type: ValueType, description: String = "", tags: [String: String] = [:],
        aggregation: Aggregation? = nil, expression: String? = nil
    ) {
        self.name = name
        self.type = type
        self.description = description
        self.tags = tags
        self.aggregation = aggregation
        self.expression = expression
    }

    /// Whether it is computed by a window aggregation.
    public var isAggregated: Bool { aggregation != nil }

    /// Whether it can hold an expression's values of `type` (numbers convert, a cast narrows;
    /// strings, bools and timestamps must match).
    public func holds(_ type: ValueType) -> Bool {
        if type == self.type { return true }
        let numbers: [ValueType] = [.int32, .int64, .float32, .float64]
        return numbers.contains(type) && numbers.contains(self.type)
    }
}

/// Features of one or more entities, read from one source, valid for `ttl` after their event time.
public struct FeatureView: Hashable, Sendable, Codable {
    public var name: String
    /// Entity names; the view joins on all their keys.
    public var entities: [String]
    public var source: String
    public var features: [Feature]
    /// How long a value stays valid after its event time; `0` means forever.
    public var ttl: TimeSpan
    /// Whether materialization loads it into the online store.
    public var online: Bool
    /// Whether training sets may read it.
    public var offline: Bool
    public var description: String
    public var owner: String
    public var tags: [String: String]
    /// Rows of the source that are features: an expression that must be true (`nil`: all).
    public var filter: String?
    /// The source columns the view's expressions and filter read, with their types (as the
    /// view names them): resolved from the source when definitions are checked, so pushes
    /// know what to ask for.
    public var expressionInputs: [String: ValueType]?

    public init(
        name: String, entities: [String], source: String, features: [Feature], ttl: TimeSpan = .zero,
        online: Bool = true, offline: Bool = true, description: String = "", owner: String = "",
        tags: [String: String] = [:], filter: String? = nil
    ) {
        self.filter = filter
        self.name = name
        self.entities = entities
        self.source = source
        self.features = features
        self.ttl = ttl
        self.online = online
        self.offline = offline
        self.description = description
        self.owner = owner
        self.tags = tags
    }

    public func feature(named name: String) -> Feature? {
        features.first { $0.name == name }
    }

    /// The features that are the source's latest values (not aggregations).
    public var plainFeatures: [Feature] { features.filter { !$0.isAggregated } }

    /// The features computed by window aggregations.
    public var aggregatedFeatures: [Feature] { features.filter(\.isAggregated) }

    /// Whether rows are transformed before they are features: a filter or derived features.
    public var hasTransforms: Bool {
        filter != nil || features.contains { $0.expression != nil || $0.aggregation?.expression != nil }
    }
}
