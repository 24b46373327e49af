import ArgumentParser

/// `tessera`: the feature platform's command line.
public struct TesseraCommand: AsyncParsableCommand {
    /// The commands of the CLI; the executable adds `bench` (the benchmarks live apart).
    public static let commands: [any ParsableCommand.Type] = [
        QuickstartCommand.self, InitCommand.self, PlanCommand.self, ApplyCommand.self, ListCommand.self,
        DescribeCommand.self, HistoryCommand.self, TrainingSetCommand.self, MaterializeCommand.self,
        MaterializeIncrementalCommand.self, ServeCommand.self, APIKeyCommand.self, InspectCommand.self,
        HeadCommand.self, DoctorCommand.self,
    ]

    /// The root command's configuration with `extra` subcommands after the CLI's own.
    public static func configuration(adding extra: [any ParsableCommand.Type]) -> CommandConfiguration {
        CommandConfiguration(
            commandName: "tessera",
            abstract: "Tessera: declare features once; train, serve and keep them fresh.",
            discussion: """
                A feature repository is a folder with a tessera.yaml and definition files (*.yaml) \
                declaring entities, sources, feature views and feature services. `plan` shows what \
                `apply` would change in the registry; `apply` records it atomically.

                Start with `tessera quickstart`, or `tessera init DIR` and then `tessera plan --repo DIR`.
                """,
            version: "0.2.0",
            subcommands: commands + extra)
    }

    public static let configuration = configuration(adding: [])

    public init() {}
}
