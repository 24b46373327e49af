import ArgumentParser
import TesseraApp
import TesseraConsole
import TesseraCore
import TesseraDefinitions

/// `--repo DIR`, taken by every command that works on a feature repository.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .customLong("repo"), help: ArgumentHelp("The feature repository's folder.", valueName: "dir"))
    var path: String = "."

    /// The repository with the backends its `tessera.yaml` names (every setting checked).
    func open(configuration: FeatureStore.Configuration = FeatureStore.Configuration()) throws -> FeatureStore {
        try FeatureStore.open(path, configuration: configuration)
    }

    /// The definition files, validated with their sources; prints warnings.
    func load(_ store: FeatureStore) throws -> FeatureRepository {
        let repository = try store.repository()
        for warning in repository.warnings where warning.severity == .warning {
            Console.error(warning.description)
        }
        return repository
    }
}
