/// The kinds of object a feature repository declares.
public enum ObjectKind: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case entity
    case source
    case requestSource = "request_source"
    case featureView = "feature_view"
    case onDemandFeatureView = "on_demand_feature_view"
    case featureService = "feature_service"

    /// The top-level key of definition files that lists objects of this kind.
    public var sectionKey: String {
        switch self {
        case .entity: "entities"
        case .source: "sources"
        case .requestSource: "request_sources"
        case .featureView: "feature_views"
        case .onDemandFeatureView: "on_demand_feature_views"
        case .featureService: "feature_services"
        }
    }

    /// How messages and `plan` name the kind.
    public var label: String {
        switch self {
        case .entity: "entity"
        case .source: "source"
        case .requestSource: "request source"
        case .featureView: "feature view"
        case .onDemandFeatureView: "on-demand feature view"
        case .featureService: "feature service"
        }
    }

    /// The word `tessera list` takes.
    public var plural: String {
        switch self {
        case .entity: "entities"
        case .source: "sources"
        case .requestSource: "request-sources"
        case .featureView: "views"
        case .onDemandFeatureView: "on-demand-views"
        case .featureService: "services"
        }
    }

    private var order: Int { ObjectKind.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: ObjectKind, rhs: ObjectKind) -> Bool { lhs.order < rhs.order }
}

/// Identifies an object: its kind and name.
public struct ObjectID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var kind: ObjectKind
    public var name: String

    public init(_ kind: ObjectKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        (lhs.kind, lhs.name) < (rhs.kind, rhs.name)
    }

    public var description: String { "\(kind.label) '\(name)'" }
}
