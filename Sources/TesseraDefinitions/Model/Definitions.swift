import TesseraCore

/// Everything a feature repository declares: the unit `plan` compares and `apply` records.
public struct Definitions: Hashable, Sendable, Codable {
    public var entities: [Entity]
    public var sources: [DataSource]
    public var featureViews: [FeatureView]
    public var featureServices: [FeatureService]

    public init(
        entities: [Entity] = [], sources: [DataSource] = [], featureViews: [FeatureView] = [],
        featureServices: [FeatureService] = []
    ) {
        self.entities = entities
        self.sources = sources
        self.featureViews = featureViews
        self.featureServices = featureServices
    }

    public func entity(_ name: String) -> Entity? { entities.first { $0.name == name } }
    public func source(_ name: String) -> DataSource? { sources.first { $0.name == name } }
    public func featureView(_ name: String) -> FeatureView? { featureViews.first { $0.name == name } }
    public func featureService(_ name: String) -> FeatureService? { featureServices.first { $0.name == name } }

    /// Every object's id, sorted by kind then name.
    public var objectIDs: [ObjectID] {
        (entities.map { ObjectID(.entity, $0.name) } + sources.map { ObjectID(.source, $0.name) }
            + featureViews.map { ObjectID(.featureView, $0.name) }
            + featureServices.map { ObjectID(.featureService, $0.name) }).sorted()
    }

    /// The objects sorted by name within each kind, so equal content gives equal digests.
    public var normalized: Definitions {
        Definitions(
            entities: entities.sorted { $0.name < $1.name }, sources: sources.sorted { $0.name < $1.name },
            featureViews: featureViews.sorted { $0.name < $1.name },
            featureServices: featureServices.sorted { $0.name < $1.name })
    }

    /// The join keys of a view, in entity order.
    public func joinKeys(of view: FeatureView) -> [JoinKey] {
        view.entities.flatMap { entity($0)?.joinKeys ?? [] }
    }
}
