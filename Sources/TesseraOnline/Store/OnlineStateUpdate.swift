/// A change to the aggregation state of some entity keys of one view, applied by the store
/// inside its write transaction: the held state of each key is read, transformed and
/// written back (or removed) with nothing else writing in between.
///
/// States are opaque bytes to the store; the engine defines them (`AggregationState`).
public struct OnlineStateUpdate: Sendable {
    public var view: String
    public var keys: [EntityKey]
    /// Whether every state of the view not in `keys` is removed (a rebuild from the source).
    public var replacesAll: Bool
    /// The new state of `keys[index]` given the one held (`nil`: none, or `replacesAll`);
    /// `nil` removes it.
    public var transform: @Sendable (_ index: Int, _ held: [UInt8]?) -> [UInt8]?

    public init(
        view: String, keys: [EntityKey], replacesAll: Bool = false,
        transform: @escaping @Sendable (_ index: Int, _ held: [UInt8]?) -> [UInt8]?
    ) {
        self.view = view
        self.keys = keys
        self.replacesAll = replacesAll
        self.transform = transform
    }
}
