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
            needs feast[redis]. With --online-store postgres it starts a PostgreSQL 15 cluster of \
            its own (postgresql-15 must be installed) the same way, reports the database's size \
            per entity, and Feast needs feast[postgres].
            """)

    @OptionGroup var bench: PeerBenchOptions

    @Option(help: "The online store to load: sqlite (the embedded default), redis or postgres.")
    var onlineStore: MaterializeBenchmark.Store = .sqlite

    func run() throws {
        try guarded { try bench.print(try MaterializeBenchmark.run(bench.options, store: onlineStore)) }
    }
}
