import ArgumentParser
import Foundation
import TesseraApp
import TesseraColumnar
import TesseraConsole
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraRegistry

struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Create the example repository and run the whole workflow on the embedded defaults.",
        discussion: """
            Runs `init` (unless the folder already holds a repository), `plan`, `apply`, builds a \
            training set from data/rides, materializes the online views, and ends with a running \
            feature server (Ctrl-C stops it) and a curl command to try. Nothing to install: the \
            registry and the online store are SQLite files under .tessera/.
            """)

    @Argument(help: "The folder for the example repository.")
    var directory: String = "quickstart"

    @Option(help: "Rows of data/driver_stats.")
    var rows: Int = 1_000_000

    @Option(help: "The feature server's port.")
    var port = 6566

    @Flag(help: "Stop after materializing instead of starting the feature server.")
    var noServe = false

    func step(_ text: String) { Console.print("\n== \(text)") }

    func run() async throws {
        try await guarded {
            let fm = FileManager.default
            if !fm.fileExists(atPath: directory + "/" + FeatureRepository.configFile) {
                step("tessera init \(directory) --rows \(rows)")
                try InitCommand.create(
                    directory: directory, rows: rows, format: .defaultFormat, project: nil, force: false)
            } else {
                Console.print("== \(directory) already holds a feature repository; reusing it")
            }
            let store = try FeatureStore.open(directory)
            let repo = try store.repository()
            step("tessera plan --repo \(directory)")
            Console.print(try store.plan(repo).plan.rendered(color: Console.color))
            step("tessera apply --repo \(directory)")
            switch try store.apply(repo, allowBreaking: false).outcome {
            case .unchanged(let version):
                Console.print("No changes. The registry stays at version \(version.map(String.init) ?? "0").")
            case .refused(let plan):
                Console.print(plan.rendered(color: Console.color))
                throw ValidationError(
                    "the repository has breaking changes; run `tessera apply --allow-breaking --repo \(directory)`")
            case .applied(let version):
                Console.print("Applied version \(version.version) (\(version.summary)).")
            }
            step("tessera list --repo \(directory)")
            try ListCommand.parse(["--repo", directory]).run()

            let output = directory + "/training_set.parquet"
            step(
                "tessera training-set --repo \(directory) --entities \(directory)/data/rides.parquet --service ride_ranking_v1 --output \(output)"
            )
            try TrainingSetCommand.parse([
                "--repo", directory, "--entities", directory + "/data/rides.parquet", "--service", "ride_ranking_v1",
                "--output", output,
            ]).run()
            step("tessera head \(output) -n 5")
            try HeadCommand.parse([output, "-n", "5"]).run()

            // Features Tessera computes: 14 window aggregations of raw trips per labelled event.
            let activity = directory + "/activity.parquet"
            step(
                "tessera training-set --repo \(directory) --entities \(directory)/data/trip_labels.parquet --service driver_activity_v1 --output \(activity)"
            )
            try TrainingSetCommand.parse([
                "--repo", directory, "--entities", directory + "/data/trip_labels.parquet", "--service",
                "driver_activity_v1", "--output", activity,
            ]).run()
            step("tessera head \(activity) -n 3")
            try HeadCommand.parse([activity, "-n", "3"]).run()

            step("tessera materialize-incremental now --repo \(directory)")
            try MaterializeIncrementalCommand.parse(["now", "--repo", directory]).run()
            if noServe { return }

            step("tessera serve --repo \(directory) --port \(port)")
            let drivers = QuickstartCommand.freshKeys(
                directory + "/data/driver_stats.parquet", "driver_id", within: .days(2))
            let customers = QuickstartCommand.freshKeys(
                directory + "/data/customer_profile.parquet", "customer_id", within: .days(30))
            Console.print(
                """
                Try it from another terminal:

                  curl -s -X POST http://127.0.0.1:\(port)/get-online-features \\
                    -d '{"feature_service": "ride_ranking_v1", "entities": {"driver_id": [\(drivers)], "customer_id": [\(customers)]}}'

                Press Ctrl-C to stop the server.
                """)
            let serve = try ServeCommand.parse(["--repo", directory, "--port", String(port)])
            try await serve.run()
        }
    }

    /// Two keys with a row younger than `within` (so their served values are PRESENT), as "a, b".
    static func freshKeys(_ path: String, _ column: String, within: TimeSpan) -> String {
        let floor = (Timestamp.now - within + .hours(1)).microseconds
        guard let batch = try? ParquetFile(path: path).read(ParquetReadOptions(columns: [column, "event_timestamp"])),
            let keys = batch.column(named: column)?.int64Values,
            let times = batch.column(named: "event_timestamp")?.int64Values
        else { return "1001, 1002" }
        var picked: [Int64] = []
        for (key, time) in zip(keys, times) where time >= floor && !picked.contains(key) {
            picked.append(key)
            if picked.count == 2 { break }
        }
        return picked.isEmpty ? "1001, 1002" : picked.map(String.init).joined(separator: ", ")
    }
}
