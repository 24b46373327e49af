import Synchronization
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraExpressions
import TesseraOffline

/// One applied registry version, indexed for serving: views with their join keys, services,
/// push sources, and the resolved plans of requests seen so far.
///
/// Immutable but for the plan cache; a new apply makes a new catalog.
public final class ServingCatalog: Sendable {
    /// A view ready to serve: its definition and its join keys. A class, so that plans and
    /// prepared lookups share one instead of copying its fields on every lookup.
    public final class ViewInfo: Sendable {
        public let view: FeatureView
        public let joinKeys: [JoinKey]
        /// How its window aggregations are kept and read online (`nil`: it has none).
        public let aggregation: AggregationProgram?
        /// Its filter and derived features, applied to pushed rows (`nil`: it has none, or
        /// they do not compile, which `hasTransforms` then tells).
        public let transform: ViewTransform?

        init(view: FeatureView, joinKeys: [JoinKey], aggregation: AggregationProgram?, transform: ViewTransform?) {
            self.view = view
            self.joinKeys = joinKeys
            self.aggregation = aggregation
            self.transform = transform
        }
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
        /// Per feature: whether it is computed from aggregation state (set by `seal`).
        var aggregated: [Bool] = []
        /// The features read from stored rows, in read order (set by `seal`).
        var plainFeatures: [String] = []
        /// The aggregated features as positions in the view's aggregation program (set by `seal`).
        var aggregatedSelection: [Int] = []

        init(info: ServingCatalog.ViewInfo, features: [String]) {
            self.info = info
            self.features = features
        }

        /// Works out, once per plan, what every lookup with it would otherwise redo.
        mutating func seal() {
            aggregated = features.map { info.view.feature(named: $0)?.isAggregated ?? false }
            plainFeatures = zip(features, aggregated).filter { !$0.1 }.map(\.0)
            let names = zip(features, aggregated).filter { $0.1 }.map(\.0)
            aggregatedSelection = info.aggregation?.selection(of: names) ?? []
        }
    }

    /// Where an on-demand expression's input comes from.
    enum InputSlot: Sendable {
        /// A read feature, by its position among all reads' features (hidden ones included).
        case read(Int)
        /// A request field, by its position in `requestFields`.
        case request(Int)
    }

    /// The on-demand features of one on-demand view, with where each expression's inputs are.
    struct OnDemandRead: Sendable {
        var selection: OnDemandSelection
        /// Per feature, per input column of its expression.
        var slots: [[InputSlot]]
        /// Per feature: whether small requests evaluate it row by row.
        var rowByRow: [Bool] = []
    }

    /// Reads grouped by view, in order of first appearance (as Feast groups them).
    var reads: [ViewRead]
    /// Output names of the feature columns: the views' features in read order (not hidden
    /// ones), then the on-demand features.
    var featureNames: [String]
    /// Every join key the reads need, by name.
    var joinKeys: [String: JoinKey]
    var onDemand: [OnDemandRead] = []
    /// The request fields on-demand features read: name, type, and who reads it.
    var requestFields: [(name: String, type: ValueType, source: String, view: String)] = []
    /// Positions among all reads' features that are read only as on-demand inputs.
    var hidden: Set<Int> = []

    static func resolve(_ features: LookupRequest.Features, fullFeatureNames: Bool, catalog: ServingCatalog)
        throws(LookupError) -> LookupPlan
    {
        var refs: [(view: String, feature: String, field: String)] = []
        var onDemandRefs: [(view: OnDemandFeatureView, features: [String], field: String)] = []
        var full = fullFeatureNames
        let definitions = catalog.definitions
        /// Keeps on-demand references apart; `true` when `view` is an on-demand view.
        func onDemand(_ view: String, _ feature: String?, _ field: String) -> Bool {
            guard catalog.views[view] == nil, let found = definitions.onDemandView(view) else { return false }
            let names = feature.map { [$0] } ?? found.features.map(\.name)
            if let at = onDemandRefs.firstIndex(where: { $0.view.name == view }) {
                onDemandRefs[at].features += names.filter { !onDemandRefs[at].features.contains($0) }
            } else {
                onDemandRefs.append((found, names, field))
            }
            return true
        }
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
                if onDemand(String(parts[0]), String(parts[1]), "features[\(index)]") { continue }
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
                if catalog.views[reference.view] == nil, definitions.onDemandView(reference.view) != nil {
                    for name in reference.features.map({ $0.map(Optional.some) }) ?? [nil] {
                        _ = onDemand(reference.view, name, "feature_service")
                    }
                    continue
                }
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
        var names = reads.flatMap { read in read.features.map { full ? "\(read.info.view.name)__\($0)" : $0 } }
        var plan = LookupPlan(reads: reads, featureNames: names, joinKeys: joinKeys)
        guard !onDemandRefs.isEmpty else {
            plan.seal()
            return plan
        }
        // On-demand features: compile them, add the source features they read to the reads
        // (hidden when not requested), then point each expression input at its slot.
        var selections: [OnDemandSelection] = []
        let visible = Set(reads.indices.flatMap { r in reads[r].features.map { "\(reads[r].info.view.name):\($0)" } })
        var hiddenNames = Set<String>()
        for (view, features, field) in onDemandRefs {
            var outputs: [String] = []
            for feature in features {
                let output = full ? "\(view.name)__\(feature)" : feature
                if let other = seen[output] {
                    throw LookupError(
                        .nameCollision, field: field,
                        "'\(view.name):\(feature)' and '\(other)' would both be named '\(output)'",
                        hint: full ? "request each feature once" : "set full_feature_names to true")
                }
                seen[output] = "\(view.name):\(feature)"
                outputs.append(output)
            }
            let selection: OnDemandSelection
            do {
                selection = try OnDemandSelection(
                    view, features: features, outputNames: outputs, definitions: definitions)
            } catch {
                throw LookupError(.notFound, field: field, error.message, hint: error.hint)
            }
            for (source, feature) in selection.sourceFeatures {
                let key = "\(source):\(feature)"
                guard !visible.contains(key), !hiddenNames.contains(key) else { continue }
                guard let info = catalog.views[source] else {
                    throw LookupError(
                        .notFound, field: field,
                        "on-demand view '\(view.name)' reads feature view '\(source)', which is not applied")
                }
                hiddenNames.insert(key)
                if let at = plan.reads.firstIndex(where: { $0.info.view.name == source }) {
                    plan.reads[at].features.append(feature)
                } else {
                    plan.reads.append(ViewRead(info: info, features: [feature]))
                    for key in info.joinKeys { plan.joinKeys[key.name] = key }
                }
            }
            selections.append(selection)
        }
        var slotOf: [String: Int] = [:]
        var flat = 0
        for read in plan.reads {
            for feature in read.features {
                let key = "\(read.info.view.name):\(feature)"
                slotOf[key] = flat
                if hiddenNames.contains(key) { plan.hidden.insert(flat) }
                flat += 1
            }
        }
        names = []
        for read in plan.reads {
            for feature in read.features where !hiddenNames.contains("\(read.info.view.name):\(feature)") {
                names.append(full ? "\(read.info.view.name)__\(feature)" : feature)
            }
        }
        for selection in selections {
            var slots: [[InputSlot]] = []
            for expression in selection.expressions {
                var row: [InputSlot] = []
                for column in expression.columns {
                    switch selection.inputs[column.name] {
                    case .feature(let view, let feature)?:
                        row.append(.read(slotOf["\(view):\(feature)"] ?? 0))
                    case .request(let source, let name)?:
                        if let at = plan.requestFields.firstIndex(where: { $0.name == name }) {
                            row.append(.request(at))
                        } else {
                            plan.requestFields.append((name, column.type, source, selection.view.name))
                            row.append(.request(plan.requestFields.count - 1))
                        }
                    case nil:
                        throw LookupError(
                            .unavailable, field: "features",
                            "on-demand view '\(selection.view.name)' reads '\(column.name)', which none of its sources has"
                        )
                    }
                }
                slots.append(row)
            }
            plan.onDemand.append(
                OnDemandRead(
                    selection: selection, slots: slots, rowByRow: selection.expressions.map(\.evaluatesRowByRow)))
            names += selection.outputNames
        }
        plan.featureNames = names
        plan.seal()
        return plan
    }

    private mutating func seal() {
        for r in reads.indices { reads[r].seal() }
    }
}
