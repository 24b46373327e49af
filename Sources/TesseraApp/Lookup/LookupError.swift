/// A lookup or push request that cannot be served, naming the field at fault and why.
///
/// `field` uses the request's own spelling (`features[1]`, `entities.driver_id[3]`,
/// `df.conv_rate`), so an HTTP client can point at it.
public struct LookupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Broad classes, for callers that map them (HTTP statuses).
    public enum Kind: String, Sendable, Equatable {
        /// A feature view, feature, feature service or push source the registry does not hold.
        case notFound = "not_found"
        /// The request is malformed: a bad reference, a missing or mistyped value, unequal lengths.
        case invalidRequest = "invalid_request"
        /// Two requested features would get the same output name.
        case nameCollision = "name_collision"
        /// The request is over a configured limit (entity rows, features).
        case tooLarge = "too_large"
        /// The caller may not do this (its API key's role is too low).
        case forbidden = "forbidden"
        /// The registry or the online store failed; not the client's fault.
        case unavailable = "unavailable"
    }

    public var kind: Kind
    /// Where in the request: `features[1]`, `feature_service`, `entities.driver_id`, `df`.
    public var field: String
    public var message: String
    /// A likely fix, such as "did you mean 'conv_rate'?".
    public var hint: String?

    public init(_ kind: Kind, field: String, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.field = field
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = "\(field): \(message)"
        if let hint { text += "; \(hint)" }
        return text
    }
}
