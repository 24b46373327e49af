import ArgumentParser
import Foundation
import TesseraDefinitions
import TesseraEngine
import TesseraRegistry

struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Create the example repository and run the main workflow on the embedded defaults.",
        discussion: """
            Runs `init` (unless the folder already holds a repository), `plan` and `apply`, then lists \
            what the registry holds. Nothing to install: the registry is a SQLite file under .tessera/.
            """)

    @Argument(help: "The folder for the example repository.")
    var directory: String = "quickstart"

    @Option(help: "Rows of data/driver_stats.")
    var rows: Int = 1_000_000

    func run() throws {
        try guarded {
            let fm = FileManager.default
            if !fm.fileExists(atPath: directory + "/" + FeatureRepository.configFile) {
                Console.print("== tessera init \(directory)")
                try InitCommand.create(
                    directory: directory, rows: rows, format: .defaultFormat, project: nil, force: false)
            } else {
                Console.print("== \(directory) already holds a feature repository; reusing it")
            }
            let repo = try FeatureRepository.loadChecked(at: directory)
            let service = RegistryService(repository: repo, store: try RegistryService.openStore(for: repo))
            Console.print("\n== tessera plan --repo \(directory)")
            Console.print(try service.plan().plan.rendered(color: Console.color))
            Console.print("\n== tessera apply --repo \(directory)")
            switch try service.apply(allowBreaking: false) {
            case .unchanged(let version):
                Console.print("No changes. The registry stays at version \(version.map(String.init) ?? "0").")
            case .refused(let plan):
                Console.print(plan.rendered(color: Console.color))
                throw ValidationError(
                    "the repository has breaking changes; run `tessera apply --allow-breaking --repo \(directory)`")
            case .applied(let version):
                Console.print("Applied version \(version.version) (\(version.summary)).")
            }
            Console.print("\n== tessera list --repo \(directory)")
            try ListCommand.parse(["--repo", directory]).run()
            Console.print(
                """

                Next steps:
                  tessera describe driver_hourly_stats --repo \(directory)
                  tessera history --repo \(directory)
                  edit \(directory)/features/drivers.yaml, then: tessera plan --repo \(directory)
                """)
        }
    }
}
