import TesseraCore

/// A reference from a service to a view's features: all of them (`features == nil`) or a subset.
public struct FeatureReference: Hashable, Sendable, Codable {
    public var view: String
    public var features: [String]?

    public init(view: String, features: [String]? = nil) {
        self.view = view
        self.features = features
    }

    /// Parses `view:feature`, `view:[a, b]` or `view` (every feature); `nil` for anything else
    /// (an empty view or feature name, `view:`, `view:[]`).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            .map { String($0).trimmingSpaces() }
        guard let view = parts.first, !view.isEmpty, !view.contains("[") else { return nil }
        guard parts.count == 2 else {
            self.init(view: view, features: nil)
            return
        }
        var names = [parts[1]]
        if parts[1].hasPrefix("["), parts[1].hasSuffix("]") {
            names = parts[1].dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false)
                .map { String($0).trimmingSpaces() }
        }
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && !$0.contains(":") }) else { return nil }
        self.init(view: view, features: names)
    }

    /// Splits a comma-separated list of references, keeping `view:[a, b]` whole.
    public static func splitList(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[": depth += 1
            case "]": depth = max(0, depth - 1)
            case "," where depth == 0:
                out.append(current.trimmingSpaces())
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        if !current.trimmingSpaces().isEmpty || !out.isEmpty { out.append(current.trimmingSpaces()) }
        return out
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
