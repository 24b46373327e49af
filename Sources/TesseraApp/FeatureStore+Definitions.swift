import TesseraCore
import TesseraDefinitions
import TesseraOffline
import TesseraOnline
import TesseraRegistry

/// What `apply` did.
public struct ApplyResult: Sendable {
    public var outcome: RegistryService.ApplyOutcome
    /// Views whose online values were dropped (removed, or changed incompatibly).
    public var droppedViews: [String]
}

extension FeatureStore {
    /// The definition files, loaded and validated, with their sources checked by the offline
    /// engine (files present, columns and types as the views declare).
    ///
    /// - Throws: `DiagnosticsError` with every problem, each at its file, line and column.
    public func repository() throws(DiagnosticsError) -> FeatureRepository {
        let loaded = try FeatureRepository.load(at: root)
        // Aggregations that did not declare their column's type take it from the source.
        let engine = offline
        // Each source's columns are read once (file footers), for both resolutions.
        var known: [String: [String: ValueType]?] = [:]
        func columns(_ source: DataSource) -> [String: ValueType]? {
            if let cached = known[source.name] { return cached }
            let found = engine.columns(of: source, definitions: loaded.definitions)
            known[source.name] = found
            return found
        }
        let (typedAggregations, typing) = AggregationInputs.resolve(loaded, columns: columns)
        // Filters and derived features are checked against the source's columns too.
        let (repository, expressions) = ExpressionInputs.resolve(typedAggregations, columns: columns)
        let problems = (typing + expressions + offline.validateSources(repository)).sorted {
            $0.location < $1.location
        }
        if !problems.isEmpty { throw DiagnosticsError(problems) }
        return repository
    }

    /// What `apply` would change, against the applied version.
    public func plan(_ repository: FeatureRepository) throws -> RegistryService.PlanResult {
        try registry.with { (store) throws(RegistryError) in
            try RegistryService(repository: repository, store: store).plan()
        }
    }

    /// Records the definitions as a new version, atomically, then drops the online values
    /// the change made stale (recorded in the same transaction, so an interrupted apply's
    /// drops are finished by the next apply or materialization).
    public func apply(
        _ repository: FeatureRepository, allowBreaking: Bool, user: String = RegistryService.currentUser
    ) throws -> ApplyResult {
        let now = configuration.now()
        let outcome = try registry.with { (store) throws(RegistryError) in
            try RegistryService(repository: repository, store: store).apply(
                allowBreaking: allowBreaking, user: user, at: now)
        }
        guard case .applied = outcome else { return ApplyResult(outcome: outcome, droppedViews: []) }
        return ApplyResult(outcome: outcome, droppedViews: try finishOnlineDrops())
    }

    /// Drops the online values an apply marked stale (this one, or an earlier one that was
    /// interrupted before it could), then marks the drops done. Idempotent.
    @discardableResult
    public func finishOnlineDrops() throws -> [String] {
        let drops = try registry.with { (store) throws(RegistryError) in try store.pendingOnlineDrops() }
        guard !drops.isEmpty else { return [] }
        let online = try onlineStore()
        for view in drops {
            try online.dropView(view)
            // Its pushed rows go with it (the store removed their log records).
            pending.discard(view: view, through: Int64.max)
        }
        try registry.with { (store) throws(RegistryError) in try store.completeOnlineDrops(drops) }
        return drops
    }

    /// Applied versions, newest first.
    public func history(limit: Int? = nil) throws -> [RegistryVersion] {
        try registry.with { (store) throws(RegistryError) in try store.history(limit: limit) }
    }

    /// The definitions one version recorded.
    public func definitions(at version: Int) throws -> Definitions? {
        try registry.with { (store) throws(RegistryError) in try store.definitions(at: version) }
    }
}
