import ArgumentParser
import TesseraBench
import TesseraCLI

/// The `tessera` executable: the CLI's commands plus `tessera bench`.
@main
struct Tessera: AsyncParsableCommand {
    static let configuration = TesseraCommand.configuration(adding: [BenchCommand.self])
}
