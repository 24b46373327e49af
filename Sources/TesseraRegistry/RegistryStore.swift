import TesseraCore
import TesseraDefinitions

/// One applied version of the registry.
public struct RegistryVersion: Hashable, Sendable, Codable {
    /// 1, 2, 3, … in apply order.
    public var version: Int
    public var appliedAt: Timestamp
    public var user: String
    /// SHA-256 of the applied definitions' canonical fields (see `CanonicalFields.digest`).
    public var digest: String
    /// What this apply changed relative to the version before it.
    public var plan: Plan

    public init(version: Int, appliedAt: Timestamp, user: String, digest: String, plan: Plan) {
        self.version = version
        self.appliedAt = appliedAt
        self.user = user
        self.digest = digest
        self.plan = plan
    }

    /// `+2 ~1 -0` style summary.
    public var summary: String {
        "+\(plan.count(.add)) ~\(plan.count(.change)) -\(plan.count(.remove))"
    }
}

/// The applied state: a version and the definitions it recorded.
public struct RegistrySnapshot: Sendable {
    public var version: RegistryVersion
    public var project: String
    public var definitions: Definitions

    public init(version: RegistryVersion, project: String, definitions: Definitions) {
        self.version = version
        self.project = project
        self.definitions = definitions
    }
}

/// What the registry keeps: applied definitions, their history, and materialization watermarks.
///
/// Implementations must make `apply` atomic: after a crash at any instant the
/// store holds either the previous version or the new one, never a mix.
public protocol RegistryStore: AnyObject {
    /// The latest applied state, or `nil` if nothing was ever applied.
    func current() throws(RegistryError) -> RegistrySnapshot?

    /// The digest and number of the latest version, without decoding definitions (cheap).
    func head() throws(RegistryError) -> (version: Int, digest: String)?

    /// Records `definitions` as a new version, atomically.
    ///
    /// - Parameters:
    ///   - expectedVersion: the version the plan was made against (`nil`: none); if another
    ///     apply landed since, nothing is written and `.conflict` is thrown.
    ///   - dropOnline: views whose online values no longer fit (removed, changed incompatibly),
    ///     recorded in the same transaction as pending drops (see `pendingOnlineDrops`).
    func apply(
        _ definitions: Definitions, plan: Plan, project: String, user: String, expectedVersion: Int?,
        at time: Timestamp, dropOnline: [String]
    ) throws(RegistryError) -> RegistryVersion

    /// Applied versions, newest first.
    func history(limit: Int?) throws(RegistryError) -> [RegistryVersion]

    /// The definitions recorded by one version.
    func definitions(at version: Int) throws(RegistryError) -> Definitions?

    /// How far each view has been materialized: the end of its last completed interval.
    func watermarks() throws(RegistryError) -> [String: MaterializationWatermark]

    /// Records completed materializations, all or none; a watermark never moves back.
    func recordMaterialization(_ watermarks: [MaterializationWatermark]) throws(RegistryError)

    /// Views whose online values an apply asked to drop and that are not dropped yet.
    func pendingOnlineDrops() throws(RegistryError) -> [String]

    /// Marks drops done: forgets the pending entries and the views' watermarks (the next
    /// incremental materialization reloads them from scratch).
    func completeOnlineDrops(_ views: [String]) throws(RegistryError)
}

/// The end of a view's last completed materialization, and when it was recorded.
public struct MaterializationWatermark: Hashable, Sendable, Codable {
    public var view: String
    /// Every row with event time up to here (inclusive) has been loaded.
    public var end: Timestamp
    /// The start of the interval that ended here.
    public var start: Timestamp
    public var recordedAt: Timestamp

    public init(view: String, start: Timestamp, end: Timestamp, recordedAt: Timestamp) {
        self.view = view
        self.start = start
        self.end = end
        self.recordedAt = recordedAt
    }
}

/// A registry problem a user can act on.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case unreadable
        case corrupt
        case conflict
        case projectMismatch
        case io
    }

    public var kind: Kind
    public var path: String
    public var message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

extension RegistryStore {
    /// Records `definitions` as a new version, with no online values to drop.
    public func apply(
        _ definitions: Definitions, plan: Plan, project: String, user: String, expectedVersion: Int?,
        at time: Timestamp
    ) throws(RegistryError) -> RegistryVersion {
        try apply(
            definitions, plan: plan, project: project, user: user, expectedVersion: expectedVersion, at: time,
            dropOnline: [])
    }
}
