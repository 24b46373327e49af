import TesseraCore

/// Data that arrives with a request rather than from a store (Feast's `RequestSource`): a
/// ride's fare estimate, a pickup position. Training sets read it from the entity file's
/// columns; online lookups from fields beside the join keys or from `request_context`.
public struct RequestSource: Hashable, Sendable, Codable {
    public struct Field: Hashable, Sendable, Codable {
        public var name: String
        public var type: ValueType

        public init(_ name: String, _ type: ValueType) {
            self.name = name
            self.type = type
        }
    }

    public var name: String
    /// The fields, in declaration order.
    public var schema: [Field]
    public var description: String
    public var owner: String
    public var tags: [String: String]

    public init(
        name: String, schema: [Field], description: String = "", owner: String = "", tags: [String: String] = [:]
    ) {
        self.name = name
        self.schema = schema
        self.description = description
        self.owner = owner
        self.tags = tags
    }

    public func field(named name: String) -> Field? { schema.first { $0.name == name } }
}

/// Features computed per entity row from the features of other views and request data, by
/// expressions: the same code on the joined rows of a training set and per online request.
public struct OnDemandFeatureView: Hashable, Sendable, Codable {
    public var name: String
    /// Feature views and request sources whose features and fields the expressions read.
    public var sources: [String]
    /// Each feature has an `expression`.
    public var features: [Feature]
    public var description: String
    public var owner: String
    public var tags: [String: String]

    public init(
        name: String, sources: [String], features: [Feature], description: String = "", owner: String = "",
        tags: [String: String] = [:]
    ) {
        self.name = name
        self.sources = sources
        self.features = features
        self.description = description
        self.owner = owner
        self.tags = tags
    }

    public func feature(named name: String) -> Feature? { features.first { $0.name == name } }
}

/// Where a name an on-demand expression uses comes from.
public enum OnDemandInput: Hashable, Sendable {
    /// A feature of a source view.
    case feature(view: String, feature: String)
    /// A field of a request source.
    case request(source: String, field: String)
}

/// The names an on-demand view's expressions may use: each source view's features and each
/// request source's fields by their own name when only one source has it, and always as
/// `source__name`, which tells equal names apart.
public struct OnDemandScope: Sendable {
    public var names: [(name: String, type: ValueType)] = []
    public var inputs: [String: OnDemandInput] = [:]
    /// Names several sources have, with the qualified names that tell them apart.
    public var ambiguous: [String: [String]] = [:]

    /// The scope of `view` in `definitions`; sources that are not defined are left out (the
    /// validator reports them).
    public init(_ view: OnDemandFeatureView, in definitions: Definitions) {
        var offered: [(name: String, type: ValueType, input: OnDemandInput)] = []
        for source in view.sources {
            if let feature = definitions.featureView(source) {
                for f in feature.features {
                    offered.append((f.name, f.type, .feature(view: source, feature: f.name)))
                }
            } else if let request = definitions.requestSource(source) {
                for field in request.schema {
                    offered.append((field.name, field.type, .request(source: source, field: field.name)))
                }
            }
        }
        var count: [String: Int] = [:]
        for entry in offered { count[entry.name, default: 0] += 1 }
        for entry in offered {
            let source: String
            switch entry.input {
            case .feature(let view, _): source = view
            case .request(let request, _): source = request
            }
            let qualified = "\(source)__\(entry.name)"
            if count[entry.name] == 1 {
                names.append((entry.name, entry.type))
                inputs[entry.name] = entry.input
            } else {
                ambiguous[entry.name, default: []].append(qualified)
            }
            if inputs[qualified] == nil {
                names.append((qualified, entry.type))
                inputs[qualified] = entry.input
            }
        }
    }
}
