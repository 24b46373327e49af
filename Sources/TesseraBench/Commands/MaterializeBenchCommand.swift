import ArgumentParser
import Foundation
import TesseraConsole

extension MaterializeBenchmark.Store: ExpressibleByArgument {}

struct MaterializeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Time `tessera materialize` on the reference workload against Feast's materialize.",
        discussion: """
            With --online-store redis the benchmark starts a redis-server of its own on a free \
            loopback port (redis-server must be installed), loads it with each tool in turn \
            (flushed in between) and reports the memory per entity each layout takes; Feast then \
            needs feast[redis].
            """)

    @OptionGroup var bench: PeerBenchOptions

    @Option(help: "The online store to load: sqlite (the embedded default) or redis.")
    var onlineStore: MaterializeBenchmark.Store = .sqlite

    func run() throws {
        try guarded { try bench.print(try MaterializeBenchmark.run(bench.options, store: onlineStore)) }
    }
}
