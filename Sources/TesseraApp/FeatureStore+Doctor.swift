import Foundation
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOnline
import TesseraRegistry

extension FeatureStore {
    /// `tessera doctor`: every configured backend checked — reachable, its version, what it
    /// holds, the permissions Tessera needs — and every applied source found (files) or read (databases). Nothing
    /// is changed (a backend's probe key is removed again).
    public func doctor() -> [BackendCheck] {
        var checks: [BackendCheck] = []

        // The registry: what was applied.
        let registryType = config.registry.type
        let (current, registryMillis) = Measure.timed {
            try registry.with { (store) throws(RegistryError) in try store.current() }
        }
        var applied: Definitions?
        switch current {
        case .success(let snapshot?):
            applied = snapshot.definitions
            checks.append(
                BackendCheck(
                    role: "registry", check: "read", status: .ok,
                    detail:
                        "\(registryType): version \(snapshot.version.version) of project '\(snapshot.project)', applied \(snapshot.version.appliedAt.iso8601) by \(snapshot.version.user)",
                    milliseconds: registryMillis))
        case .success(nil):
            checks.append(
                BackendCheck(
                    role: "registry", check: "read", status: .warning,
                    detail: "\(registryType): nothing applied yet (run tessera plan, then tessera apply)",
                    milliseconds: registryMillis))
        case .failure(let error):
            checks.append(
                BackendCheck(role: "registry", check: "read", status: .failed, detail: "\(registryType): \(error)"))
        }

        // The online store: its own probe, or a read of what it holds.
        do {
            let store = try onlineStore()
            if let probing = store as? any BackendProbing {
                checks += probing.probe(role: "online_store")
            } else {
                let (views, millis) = Measure.timed { try store.viewNames() }
                switch views {
                case .success(let names):
                    checks.append(
                        BackendCheck(
                            role: "online_store", check: "read", status: .ok,
                            detail: "\(onlineStoreType): \(names.count) view(s) hold values", milliseconds: millis))
                case .failure(let error):
                    checks.append(
                        BackendCheck(
                            role: "online_store", check: "read", status: .failed, detail: "\(onlineStoreType): \(error)"
                        ))
                }
            }
        } catch {
            checks.append(
                BackendCheck(
                    role: "online_store", check: "open", status: .failed, detail: "\(onlineStoreType): \(error)"))
        }

        // The offline side: each applied file source has files.
        checks.append(
            BackendCheck(
                role: "offline_store", check: "engine", status: .ok, detail: "\(config.offlineStore.type) engine"))
        if let definitions = applied {
            let sources =
                (offline as? NativeEngine)?.sources(definitions)
                ?? RepositorySources(root: root, definitions: definitions)
            for source in definitions.sources {
                if case .postgres = source.kind {
                    let (found, millis) = Measure.timed {
                        try sources.connector(for: source).check(source, root: root)
                    }
                    switch found {
                    case .success(let detail):
                        checks.append(
                            BackendCheck(
                                role: "source \(source.name)", check: "read", status: .ok, detail: detail,
                                milliseconds: millis))
                    case .failure(let error):
                        checks.append(
                            BackendCheck(
                                role: "source \(source.name)", check: "read", status: .failed, detail: "\(error)"))
                    }
                    continue
                }
                guard case .file(let path, _) = source.kind else { continue }
                let (readers, millis) = Measure.timed { try sources.readers(for: source) }
                switch readers {
                case .success(let found):
                    let files = found.compactMap { ($0 as? DatasetSourceReader)?.dataset.files.count }.reduce(0, +)
                    checks.append(
                        BackendCheck(
                            role: "source \(source.name)", check: "files", status: files > 0 ? .ok : .warning,
                            detail: files > 0 ? "\(files) file(s) at \(path)" : "no files at \(path) yet",
                            milliseconds: millis))
                case .failure(let error):
                    checks.append(
                        BackendCheck(role: "source \(source.name)", check: "files", status: .failed, detail: "\(error)")
                    )
                }
            }
        }
        return checks
    }
}
