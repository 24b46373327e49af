import TesseraCore

/// A join key of an entity: its column name and type.
public struct JoinKey: Hashable, Sendable, Codable {
    public var name: String
    public var type: ValueType

    public init(_ name: String, _ type: ValueType) {
        self.name = name
        self.type = type
    }
}

/// A thing features describe (a driver, a customer), identified by one or more typed join keys.
public struct Entity: Hashable, Sendable, Codable {
    public var name: String
    public var joinKeys: [JoinKey]
    public var description: String
    public var owner: String
    public var tags: [String: String]

    public init(
        name: String, joinKeys: [JoinKey], description: String = "", owner: String = "",
        tags: [String: String] = [:]
    ) {
        self.name = name
        self.joinKeys = joinKeys
        self.description = description
        self.owner = owner
        self.tags = tags
    }
}
