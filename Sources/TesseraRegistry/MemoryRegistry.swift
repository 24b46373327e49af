import Synchronization
import TesseraCore
import TesseraDefinitions

/// A registry in process memory: the reference implementation of `RegistryStore`, for tests
/// and for programs that embed Tessera. It passes the same conformance suite as the SQLite
/// registry; everything is lost when the process ends.
public final class MemoryRegistry: RegistryStore, Sendable {
    struct State {
        var versions: [(version: RegistryVersion, project: String, definitions: Definitions)] = []
        var watermarks: [String: MaterializationWatermark] = [:]
        var pendingDrops = Set<String>()
    }

    private let state = Mutex(State())

    public init() {}

    public func current() throws(RegistryError) -> RegistrySnapshot? {
        state.withLock { state in
            state.versions.last.map {
                RegistrySnapshot(version: $0.version, project: $0.project, definitions: $0.definitions)
            }
        }
    }

    public func head() throws(RegistryError) -> (version: Int, digest: String)? {
        state.withLock { state in state.versions.last.map { ($0.version.version, $0.version.digest) } }
    }

    public func apply(
        _ definitions: Definitions, plan: Plan, project: String, user: String, expectedVersion: Int?,
        at time: Timestamp, dropOnline: [String]
    ) throws(RegistryError) -> RegistryVersion {
        let normalized = definitions.normalized
        let digest = CanonicalFields.digest(normalized)
        let result: Result<RegistryVersion, RegistryError> = state.withLock { state in
            let latest = state.versions.last
            do throws(RegistryError) {
                try ApplyRules.check(
                    latest: latest.map { ($0.version.version, $0.project) }, project: project,
                    expectedVersion: expectedVersion, path: "memory")
            } catch {
                return .failure(error)
            }
            let version = RegistryVersion(
                version: (latest?.version.version ?? 0) + 1, appliedAt: time, user: user, digest: digest, plan: plan)
            state.versions.append((version, project, normalized))
            state.pendingDrops.formUnion(dropOnline)
            return .success(version)
        }
        return try result.get()
    }

    public func history(limit: Int?) throws(RegistryError) -> [RegistryVersion] {
        state.withLock { state in
            let newest = state.versions.reversed().map(\.version)
            return limit.map { Array(newest.prefix(max(0, $0))) } ?? newest
        }
    }

    public func definitions(at version: Int) throws(RegistryError) -> Definitions? {
        state.withLock { state in state.versions.first { $0.version.version == version }?.definitions }
    }

    public func watermarks() throws(RegistryError) -> [String: MaterializationWatermark] {
        state.withLock { $0.watermarks }
    }

    public func recordMaterialization(_ watermarks: [MaterializationWatermark]) throws(RegistryError) {
        state.withLock { state in
            for mark in watermarks where (state.watermarks[mark.view]?.end ?? Timestamp(microseconds: .min)) <= mark.end
            {
                state.watermarks[mark.view] = mark
            }
        }
    }

    public func pendingOnlineDrops() throws(RegistryError) -> [String] {
        state.withLock { $0.pendingDrops.sorted() }
    }

    public func completeOnlineDrops(_ views: [String]) throws(RegistryError) {
        state.withLock { state in
            for view in views {
                state.pendingDrops.remove(view)
                state.watermarks[view] = nil
            }
        }
    }
}
