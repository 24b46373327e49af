import ArgumentParser

/// `tessera`: the feature platform's command line.
public struct TesseraCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Tessera: declare features once; train, serve and keep them fresh.",
        discussion: """
            A feature repository is a folder with a tessera.yaml and definition files (*.yaml) \
            declaring entities, sources, feature views and feature services. `plan` shows what \
            `apply` would change in the registry; `apply` records it atomically.

            Start with `tessera quickstart`, or `tessera init DIR` and then `tessera plan --repo DIR`.
            """,
        version: "0.1.0",
        subcommands: [
            QuickstartCommand.self, InitCommand.self, PlanCommand.self, ApplyCommand.self, ListCommand.self,
            DescribeCommand.self, HistoryCommand.self, TrainingSetCommand.self, MaterializeCommand.self,
            MaterializeIncrementalCommand.self, ServeCommand.self,
            InspectCommand.self, HeadCommand.self, BenchCommand.self,
        ]
    )

    public init() {}
}

/// The entry point the `tessera` executable calls.
public enum TesseraMain {
    public static func run() async {
        await TesseraCommand.main()
    }
}
