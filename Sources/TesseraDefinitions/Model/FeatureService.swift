/// A reference from a service to a view's features: all of them (`features == nil`) or a subset.
public struct FeatureReference: Hashable, Sendable, Codable {
    public var view: String
    public var features: [String]?

    public init(view: String, features: [String]? = nil) {
        self.view = view
        self.features = features
    }

    /// `view:feature`, `view:[a, b]` or `view`.
    public var spelling: String {
        guard let features else { return view }
        if features.count == 1 { return "\(view):\(features[0])" }
        return "\(view):[\(features.joined(separator: ", "))]"
    }
}

/// The named feature vector a model consumes.
public struct FeatureService: Hashable, Sendable, Codable {
    public var name: String
    public var features: [FeatureReference]
    /// Name output columns `view__feature` so equal feature names from different views can coexist.
    public var fullFeatureNames: Bool
    /// Entity-file column → join key, for entity data whose columns are named differently.
    public var joinKeyMap: [String: String]
    public var description: String
    public var owner: String
    public var tags: [String: String]

    public init(
        name: String, features: [FeatureReference], fullFeatureNames: Bool = false,
        joinKeyMap: [String: String] = [:], description: String = "", owner: String = "",
        tags: [String: String] = [:]
    ) {
        self.name = name
        self.features = features
        self.fullFeatureNames = fullFeatureNames
        self.joinKeyMap = joinKeyMap
        self.description = description
        self.owner = owner
        self.tags = tags
    }
}
