import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline
import TesseraOnline

/// What a push did.
public struct PushResult: Sendable {
    /// The views whose online rows were written, with what each write did.
    public var online: [String: OnlineWriteSummary]
    /// Whether the rows went to the offline store.
    public var offline: Bool
    /// The push's content digest (a retry of the same push has the same id).
    public var pushID: String
}

extension FeatureStore {
    /// The latest feature values of entities (Feast's `get_online_features`), with the
    /// shared lookup.
    public func onlineFeatures(_ request: LookupRequest) throws -> OnlineFeaturesResponse {
        try lookup().onlineFeatures(request)
    }

    /// Pushes rows to a push source: to the online store, the offline store, or both.
    ///
    /// A push is idempotent and safe to retry after any failure or timeout: the offline rows
    /// are appended first, once per push content (`PushID`), and the online write — one
    /// atomic write across every view the source feeds — keeps the latest row per entity, so
    /// rewriting it changes nothing. A push that fails offline writes nothing online.
    /// - Throws: `LookupError` naming the column or value at fault; the stores' errors.
    public func push(_ request: PushRequest, to target: PushTarget, lookup: FeatureLookup? = nil) throws -> PushResult {
        let lookup = try lookup ?? self.lookup()
        let prepared = try lookup.preparePush(request)
        if target.offline {
            let definitions = lookup.catalog().definitions
            try offline.appendPushed(
                prepared.batch, source: prepared.source, definitions: definitions, pushID: prepared.pushID)
        }
        let online = target.online ? try lookup.writeOnline(prepared) : [:]
        return PushResult(online: online, offline: target.offline, pushID: prepared.pushID)
    }

    /// Writes rows straight to one view's online store (Feast's `write_to_online_store`):
    /// join keys, event time, optional created time and the view's features.
    public func writeToOnlineStore(
        view: String, columns: [(name: String, values: [ScalarValue])], lookup: FeatureLookup? = nil
    ) throws -> OnlineWriteSummary {
        let lookup = try lookup ?? self.lookup()
        let batch = try lookup.prepareWrite(view: view, columns: columns)
        do {
            return try lookup.store.write(batch)
        } catch {
            throw LookupError(.unavailable, field: "online_store", error.description)
        }
    }
}
