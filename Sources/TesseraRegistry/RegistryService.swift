import Foundation
import TesseraCore
import TesseraDefinitions

/// Plan and apply for one feature repository against its registry.
public struct RegistryService {
    public let repository: FeatureRepository
    public let store: any RegistryStore

    public init(repository: FeatureRepository, store: any RegistryStore) {
        self.repository = repository
        self.store = store
    }

    /// The result of planning: the changes and the version they were computed against.
    public struct PlanResult: Sendable {
        public var plan: Plan
        /// The applied version the plan compares against (`nil`: empty registry).
        public var baseVersion: Int?
        public var digest: String
    }

    /// What `apply` would change. Cheap when nothing changed: equal digests skip the decoding of the applied state.
    public func plan() throws(RegistryError) -> PlanResult {
        let digest = CanonicalFields.digest(repository.definitions)
        if let head = try store.head(), head.digest == digest {
            return PlanResult(plan: Plan(changes: []), baseVersion: head.version, digest: digest)
        }
        let applied = try store.current()
        if let applied, applied.project != repository.config.project {
            throw RegistryError(
                .projectMismatch, path: FeatureRepository.configFile,
                "the registry holds project '\(applied.project)' but tessera.yaml says '\(repository.config.project)'")
        }
        let plan = Plan(from: applied?.definitions ?? Definitions(), to: repository.definitions)
        return PlanResult(plan: plan, baseVersion: applied?.version.version, digest: digest)
    }

    public enum ApplyOutcome: Sendable {
        /// Nothing to change; the registry stays at this version.
        case unchanged(version: Int?)
        /// Refused: breaking changes without `allowBreaking`. Nothing was written.
        case refused(Plan)
        case applied(RegistryVersion)
    }

    /// Applies the repository's definitions atomically.
    public func apply(allowBreaking: Bool, user: String = RegistryService.currentUser, at time: Timestamp = .now)
        throws(RegistryError) -> ApplyOutcome
    {
        let result = try plan()
        if result.plan.isEmpty { return .unchanged(version: result.baseVersion) }
        if result.plan.isBreaking && !allowBreaking { return .refused(result.plan) }
        let version = try store.apply(
            repository.definitions, plan: result.plan, project: repository.config.project, user: user,
            expectedVersion: result.baseVersion, at: time,
            dropOnline: RegistryService.staleOnlineViews(result.plan, definitions: repository.definitions))
        return .applied(version)
    }

    /// Views whose stored online values no longer fit after `plan`: removed views, views with a
    /// breaking change, and views of an entity whose join keys changed.
    public static func staleOnlineViews(_ plan: Plan, definitions: Definitions) -> [String] {
        var stale = plan.changes.filter {
            $0.id.kind == .featureView && ($0.action == .remove || !$0.breaking.isEmpty)
        }.map(\.id.name)
        for change in plan.changes where change.id.kind == .entity && !change.breaking.isEmpty {
            for view in definitions.featureViews
            where view.entities.contains(change.id.name) && !stale.contains(view.name) {
                stale.append(view.name)
            }
        }
        return stale.sorted()
    }

    /// `$TESSERA_USER`, else `$USER`, else `$LOGNAME`, else `unknown`.
    public static var currentUser: String {
        let env = ProcessInfo.processInfo.environment
        for key in ["TESSERA_USER", "USER", "LOGNAME"] {
            if let value = env[key], !value.isEmpty { return value }
        }
        return "unknown"
    }
}
