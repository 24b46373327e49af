import Synchronization
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOffline

/// One applied registry version, indexed for serving: views with their join keys, services,
/// push sources, and the resolved plans of requests seen so far.
///
/// Immutable but for the plan cache; a new apply makes a new catalog.
public final class ServingCatalog: Sendable {
    /// A view ready to serve: its definition and its join keys.
    public struct ViewInfo: Sendable {
        public let view: FeatureView
        public let joinKeys: [JoinKey]
        /// How its window aggregations are kept and read online (`nil`: it has none).
        public let aggregation: AggregationProgram?
        /// Its filter and derived features, applied to pushed rows (`nil`: it has none, or
        /// they do not compile, which `hasTransforms` then tells).
        public let transform: ViewTransform?
    }

    /// The registry version (`nil`: nothing applied yet).
    public let version: Int?
    public let digest: String?
    public let project: String?
    public let definitions: Definitions
    let views: [String: ViewInfo]
    /// Push source name → the views it feeds.
    let pushTargets: [String: [ViewInfo]]
    private let plans = Mutex<PlanCache>(PlanCache())

    struct PlanCache {
        var byKey: [PlanKey: LookupPlan] = [:]
        /// The last plan served: most clients send the same features again and again, and
        /// comparing equal arrays is cheaper than hashing them.
        var last: (key: PlanKey, plan: LookupPlan)?
    }

    struct PlanKey: Hashable {
        var features: LookupRequest.Features
        var fullFeatureNames: Bool
    }

    init(version: Int?, digest: String?, project: String?, definitions: Definitions) {
        self.version = version
        self.digest = digest
        self.project = project
        self.definitions = definitions
        var views: [String: ViewInfo] = [:]
        for view in definitions.featureViews {
            views[view.name] = ViewInfo(
                view: view, joinKeys: definitions.joinKeys(of: view),
                aggregation: view.aggregatedFeatures.isEmpty ? nil : AggregationProgram(view: view),
                transform: try? ViewTransform(view: view))
        }
        self.views = views
        var push: [String: [ViewInfo]] = [:]
        for source in definitions.sources {
            guard case .push = source.kind else { continue }
            push[source.name] = definitions.featureViews.filter { $0.source == source.name }.compactMap {
                views[$0.name]
            }
        }
        self.pushTargets = push
    }

    /// The plan for a request's features, resolved once per catalog and cached.
    func plan(for features: LookupRequest.Features, fullFeatureNames: Bool) throws(LookupError) -> LookupPlan {
        let key = PlanKey(features: features, fullFeatureNames: fullFeatureNames)
        let cached = plans.withLock { cache -> LookupPlan? in
            if let last = cache.last, last.key == key { return last.plan }
            guard let plan = cache.byKey[key] else { return nil }
            cache.last = (key, plan)
            return plan
        }
        if let cached { return cached }
        let plan = try LookupPlan.resolve(features, fullFeatureNames: fullFeatureNames, catalog: self)
        // Bound the cache: clients that send ever-new feature lists must not grow it forever.
        plans.withLock { cache in
            if cache.byKey.count >= 1024 { cache.byKey.removeAll() }
            cache.byKey[key] = plan
            cache.last = (key, plan)
        }
        return plan
    }
}

/// How to answer one feature list: which views to read, which features, which output names.
struct LookupPlan: Sendable {
    struct ViewRead: Sendable {
        var info: ServingCatalog.ViewInfo
        var features: [String]
    }

    /// Reads grouped by view, in order of first appearance (as Feast groups them).
    var reads: [ViewRead]
    /// Output names of the feature columns, in read order.
    var featureNames: [String]
    /// Every join key the reads need, by name.
    var joinKeys: [String: JoinKey]

    static func resolve(_ features: LookupRequest.Features, fullFeatureNames: Bool, catalog: ServingCatalog)
        throws(LookupError) -> LookupPlan
    {
        var refs: [(view: String, feature: String, field: String)] = []
        var full = fullFeatureNames
        switch features {
        case .references(let list):
            guard !list.isEmpty else {
                throw LookupError(
                    .invalidRequest, field: "features", "no features requested",
                    hint: "list 'view:feature' references or name a feature_service")
            }
            for (index, text) in list.enumerated() {
                let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw LookupError(
                        .invalidRequest, field: "features[\(index)]",
                        "'\(Echo.clip(text))' is not a feature reference", hint: "write 'view:feature'")
                }
                refs.append((String(parts[0]), String(parts[1]), "features[\(index)]"))
            }
        case .service(let name):
            guard let service = catalog.definitions.featureService(name) else {
                throw LookupError(
                    .notFound, field: "feature_service", "no feature service named '\(Echo.clip(name))'",
                    hint: Suggestions.hint(for: name, in: catalog.definitions.featureServices.map(\.name)))
            }
            full = full || service.fullFeatureNames
            for reference in service.features {
                guard let info = catalog.views[reference.view] else {
                    throw LookupError(
                        .notFound, field: "feature_service",
                        "feature service '\(name)' uses feature view '\(reference.view)', which is not applied")
                }
                for feature in reference.features ?? info.view.features.map(\.name) {
                    refs.append((reference.view, feature, "feature_service"))
                }
            }
        }
        var reads: [ViewRead] = []
        var position: [String: Int] = [:]
        var joinKeys: [String: JoinKey] = [:]
        var seen: [String: String] = [:]
        for ref in refs {
            guard let info = catalog.views[ref.view] else {
                throw LookupError(
                    .notFound, field: ref.field, "no feature view named '\(Echo.clip(ref.view))'",
                    hint: Suggestions.hint(for: ref.view, in: catalog.views.keys))
            }
            guard let feature = info.view.feature(named: ref.feature) else {
                throw LookupError(
                    .notFound, field: ref.field,
                    "feature view '\(ref.view)' has no feature '\(Echo.clip(ref.feature))'",
                    hint: Suggestions.hint(for: ref.feature, in: info.view.features.map(\.name)))
            }
            guard !feature.isAggregated || info.view.online else {
                throw LookupError(
                    .invalidRequest, field: ref.field,
                    "'\(ref.view):\(ref.feature)' is a window aggregation of a view with online: false (training sets only)",
                    hint: "set online: true on feature view '\(ref.view)', apply and materialize")
            }
            let output = full ? "\(ref.view)__\(ref.feature)" : ref.feature
            if let other = seen[output] {
                throw LookupError(
                    .nameCollision, field: ref.field,
                    "'\(ref.view):\(ref.feature)' and '\(other)' would both be named '\(output)'",
                    hint: full ? "request each feature once" : "set full_feature_names to true")
            }
            seen[output] = "\(ref.view):\(ref.feature)"
            if let at = position[ref.view] {
                reads[at].features.append(ref.feature)
            } else {
                position[ref.view] = reads.count
                reads.append(ViewRead(info: info, features: [ref.feature]))
                for key in info.joinKeys { joinKeys[key.name] = key }
            }
        }
        let names = reads.flatMap { read in read.features.map { full ? "\(read.info.view.name)__\($0)" : $0 } }
        return LookupPlan(reads: reads, featureNames: names, joinKeys: joinKeys)
    }
}
