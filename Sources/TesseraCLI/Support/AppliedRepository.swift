import ArgumentParser
import Foundation
import TesseraDefinitions
import TesseraEngine
import TesseraRegistry

/// The applied state of a repository: what commands that use features (training sets,
/// materialization, serving) work from — the registry, not the files being edited.
struct AppliedRepository {
    let root: String
    let config: ProjectConfig
    let store: any RegistryStore
    let snapshot: RegistrySnapshot

    init(options: RepositoryOptions) throws {
        let (root, config) = try FeatureRepository.loadConfig(at: options.path)
        self.root = root
        self.config = config
        store = try RegistryService.openStore(config: config, root: root)
        guard let snapshot = try store.current() else {
            throw ValidationError(
                "nothing is applied in \(options.path) yet; run `tessera apply --repo \(options.path)` first")
        }
        self.snapshot = snapshot
    }

    var definitions: Definitions { snapshot.definitions }

    var sources: RepositorySources { RepositorySources(root: root, definitions: definitions) }

    /// The readers closure the engine takes.
    var readers: @Sendable (DataSource) throws -> [any SourceReader] {
        let sources = self.sources
        return { try sources.readers(for: $0) }
    }
}
