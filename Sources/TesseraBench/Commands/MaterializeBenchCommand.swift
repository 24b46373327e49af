import ArgumentParser
import Foundation
import TesseraConsole

struct MaterializeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Time `tessera materialize` on the reference workload against Feast's materialize.")

    @OptionGroup var bench: PeerBenchOptions

    func run() throws {
        try guarded { try bench.print(try MaterializeBenchmark.run(bench.options)) }
    }
}
