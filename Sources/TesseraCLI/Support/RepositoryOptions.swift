import ArgumentParser
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraRegistry

/// `--repo DIR`, taken by every command that works on a feature repository.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .customLong("repo"), help: ArgumentHelp("The feature repository's folder.", valueName: "dir"))
    var path: String = "."

    /// Loads and validates the repository, including what its source files hold; prints warnings.
    func load() throws -> FeatureRepository {
        let repository = try FeatureRepository.loadChecked(at: path)
        for warning in repository.warnings where warning.severity == .warning {
            Console.error(warning.description)
        }
        return repository
    }

    /// The registry of the repository, opened from its `tessera.yaml` alone (definitions need not be valid).
    func registry() throws -> (store: any RegistryStore, project: String) {
        let repository = try FeatureRepository.loadConfig(at: path)
        return (
            try RegistryService.openStore(config: repository.config, root: repository.root), repository.config.project
        )
    }
}
