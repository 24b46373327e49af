import TesseraCore

/// Everything a feature repository declares: the unit `plan` compares and `apply` records.
public struct Definitions: Hashable, Sendable, Codable {
    public var entities: [Entity]
    public var sources: [DataSource]
    public var featureViews: [FeatureView]
    public var featureServices: [FeatureService]
    public var requestSources: [RequestSource]
    public var onDemandViews: [OnDemandFeatureView]

    public init(
        entities: [Entity] = [], sources: [DataSource] = [], featureViews: [FeatureView] = [],
        featureServices: [FeatureService] = [], requestSources: [RequestSource] = [],
        onDemandViews: [OnDemandFeatureView] = []
    ) {
        self.entities = entities
        self.sources = sources
        self.featureViews = featureViews
        self.featureServices = featureServices
        self.requestSources = requestSources
        self.onDemandViews = onDemandViews
    }

    enum CodingKeys: String, CodingKey {
        case entities, sources, featureViews, featureServices, requestSources, onDemandViews
    }

    /// Registries written before request sources and on-demand views existed have neither.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        entities = try container.decode([Entity].self, forKey: .entities)
        sources = try container.decode([DataSource].self, forKey: .sources)
        featureViews = try container.decode([FeatureView].self, forKey: .featureViews)
        featureServices = try container.decode([FeatureService].self, forKey: .featureServices)
        requestSources = try container.decodeIfPresent([RequestSource].self, forKey: .requestSources) ?? []
        onDemandViews = try container.decodeIfPresent([OnDemandFeatureView].self, forKey: .onDemandViews) ?? []
    }

    public func entity(_ name: String) -> Entity? { entities.first { $0.name == name } }
    public func source(_ name: String) -> DataSource? { sources.first { $0.name == name } }
    public func featureView(_ name: String) -> FeatureView? { featureViews.first { $0.name == name } }
    public func featureService(_ name: String) -> FeatureService? { featureServices.first { $0.name == name } }
    public func requestSource(_ name: String) -> RequestSource? { requestSources.first { $0.name == name } }
    public func onDemandView(_ name: String) -> OnDemandFeatureView? { onDemandViews.first { $0.name == name } }

    /// Every object's id, sorted by kind then name.
    public var objectIDs: [ObjectID] {
        (entities.map { ObjectID(.entity, $0.name) } + sources.map { ObjectID(.source, $0.name) }
            + featureViews.map { ObjectID(.featureView, $0.name) }
            + featureServices.map { ObjectID(.featureService, $0.name) }
            + requestSources.map { ObjectID(.requestSource, $0.name) }
            + onDemandViews.map { ObjectID(.onDemandFeatureView, $0.name) }).sorted()
    }

    /// The objects sorted by name within each kind, so equal content gives equal digests.
    public var normalized: Definitions {
        Definitions(
            entities: entities.sorted { $0.name < $1.name }, sources: sources.sorted { $0.name < $1.name },
            featureViews: featureViews.sorted { $0.name < $1.name },
            featureServices: featureServices.sorted { $0.name < $1.name },
            requestSources: requestSources.sorted { $0.name < $1.name },
            onDemandViews: onDemandViews.sorted { $0.name < $1.name })
    }

    /// The join keys of a view, in entity order.
    public func joinKeys(of view: FeatureView) -> [JoinKey] {
        view.entities.flatMap { entity($0)?.joinKeys ?? [] }
    }
}
