import Foundation
import TesseraCore
import TesseraTesting
import Testing

/// End-to-end: the built `tessera` binary on an example repository, as a user runs it.
@Suite(.serialized) struct CLIWorkflowTests {
    static func initRepo(_ dir: TemporaryDirectory) throws -> String {
        let repo = dir.file("repo")
        let result = try CommandRunner.run(["init", repo, "--rows", "2000", "--data-start", "2026-01-01"])
        #expect(result.status == 0, "\(result)")
        return repo
    }

    static func fileBytes(_ path: String) -> Data? {
        FileManager.default.contents(atPath: path)
    }

    @Test func initPlanApplyPlan() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try CLIWorkflowTests.initRepo(dir)
        for file in [
            "tessera.yaml", "features/drivers.yaml", "features/customers.yaml", "features/trips.yaml",
            "features/services.yaml", "features/rides.yaml",
        ] {
            #expect(FileManager.default.fileExists(atPath: repo + "/" + file), "\(file) missing")
        }
        let plan = try CommandRunner.run(["plan", "--repo", repo])
        #expect(plan.status == 0, "\(plan)")
        #expect(plan.stdout.contains("+ feature view driver_hourly_stats"))
        #expect(plan.stdout.contains("    + schema.conv_rate: float32"))
        #expect(plan.stdout.contains("Plan: 18 to add, 0 to change, 0 to remove."))
        #expect(!FileManager.default.fileExists(atPath: repo + "/.tessera/registry.db"), "plan must not write")

        let apply = try CommandRunner.run(["apply", "--repo", repo])
        #expect(apply.status == 0, "\(apply)")
        #expect(apply.stdout.contains("Applied version 1 (+18 ~0 -0"))

        let again = try CommandRunner.run(["plan", "--repo", repo])
        #expect(again.status == 0)
        #expect(again.stdout.contains("No changes."))
        let noop = try CommandRunner.run(["apply", "--repo", repo])
        #expect(noop.stdout.contains("No changes. The registry stays at version 1."))

        let list = try CommandRunner.run(["list", "views", "--repo", repo, "--json"])
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(
            rows?.compactMap { $0["name"] as? String } == [
                "customer_profile", "driver_completed_trips", "driver_hourly_stats", "driver_last_trip",
                "driver_trip_aggs",
            ])
        let onDemand = try CommandRunner.run(["list", "on-demand-views", "--repo", repo, "--json"])
        #expect(
            onDemand.stdout.contains(#""name":"ride_scoring""#)
                || onDemand.stdout.contains(#""name" : "ride_scoring""#), "\(onDemand)")
        let describe = try CommandRunner.run(["describe", "driver_hourly_stats", "--repo", repo])
        #expect(describe.stdout.contains("ttl: 2d"))
        #expect(describe.stdout.contains("used by: driver_activity_v1, driver_quality, ride_ranking_v1"))
        let unknown = try CommandRunner.run(["describe", "driver_hourly_stat", "--repo", repo])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("did you mean 'driver_hourly_stats'?"))
    }

    @Test func breakingChangeIsRefusedThenAllowed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try CLIWorkflowTests.initRepo(dir)
        #expect(try CommandRunner.run(["apply", "--repo", repo]).status == 0)
        let file = repo + "/features/drivers.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "avg_daily_trips: int32", with: "avg_daily_trips: int64")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let plan = try CommandRunner.run(["plan", "--repo", repo])
        #expect(plan.stdout.contains("~ feature view driver_hourly_stats  [BREAKING]"))
        #expect(plan.stdout.contains("~ schema.avg_daily_trips: int32 -> int64"))
        let before = CLIWorkflowTests.fileBytes(repo + "/.tessera/registry.db")
        let refused = try CommandRunner.run(["apply", "--repo", repo])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refusing to apply 1 breaking change(s); nothing was written"))
        #expect(CLIWorkflowTests.fileBytes(repo + "/.tessera/registry.db") == before)
        let allowed = try CommandRunner.run(["apply", "--allow-breaking", "--repo", repo])
        #expect(allowed.status == 0, "\(allowed)")
        #expect(allowed.stdout.contains("Applied version 2"))
        let history = try CommandRunner.run(["history", "--repo", repo, "--json"])
        let versions = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]]
        #expect(versions?.compactMap { $0["version"] as? Int } == [2, 1])
    }

    @Test func brokenDefinitionFailsWithPlaceAndLeavesRegistry() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try CLIWorkflowTests.initRepo(dir)
        #expect(try CommandRunner.run(["apply", "--repo", repo]).status == 0)
        let before = CLIWorkflowTests.fileBytes(repo + "/.tessera/registry.db")
        try
            "feature_views:\n  - name: broken\n    entities: [driver]\n    source: driver_stats\n    ttl: 2 days\n    schema: {x: float32}\n"
            .write(toFile: repo + "/features/broken.yaml", atomically: true, encoding: .utf8)
        let result = try CommandRunner.run(["apply", "--repo", repo])
        #expect(result.status == 1)
        #expect(result.stderr.contains("features/broken.yaml:5:10: error: '2 days' is not a duration"))
        #expect(CLIWorkflowTests.fileBytes(repo + "/.tessera/registry.db") == before)
        try "{ not yaml".write(toFile: repo + "/features/broken.yaml", atomically: true, encoding: .utf8)
        let syntax = try CommandRunner.run(["plan", "--repo", repo])
        #expect(syntax.status == 1)
        #expect(syntax.stderr.contains("features/broken.yaml:"))
        #expect(syntax.stderr.contains("invalid YAML"))
    }

    @Test func corruptRegistryAndMissingRepository() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let missing = try CommandRunner.run(["plan", "--repo", dir.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("has no tessera.yaml"))
        let repo = try CLIWorkflowTests.initRepo(dir)
        try FileManager.default.createDirectory(atPath: repo + "/.tessera", withIntermediateDirectories: true)
        let garbage = Data(repeating: 0x41, count: 3000)
        try garbage.write(to: URL(fileURLWithPath: repo + "/.tessera/registry.db"))
        let result = try CommandRunner.run(["apply", "--repo", repo])
        #expect(result.status == 1)
        #expect(result.stderr.contains(".tessera/registry.db: not a readable registry database"))
        #expect(CLIWorkflowTests.fileBytes(repo + "/.tessera/registry.db") == garbage)
    }

    @Test func killDuringApplyLeavesThePreviousVersion() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try CLIWorkflowTests.initRepo(dir)
        #expect(try CommandRunner.run(["apply", "--repo", repo]).status == 0)
        let file = repo + "/features/drivers.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "ttl: 2d", with: "ttl: 3d").write(
            toFile: file, atomically: true, encoding: .utf8)
        // Hold the transaction open, then kill -9 the process inside it.
        let (process, _, err) = try CommandRunner.start(
            ["apply", "--repo", repo], environment: ["TESSERA_TEST_APPLY_PAUSE_MS": "20000"])
        var waited = 0
        let marker = "holding the transaction open"
        var seen = ""
        while waited < 200, !seen.contains(marker) {
            let chunk = err.fileHandleForReading.availableData
            seen += String(decoding: chunk, as: UTF8.self)
            waited += 1
        }
        #expect(seen.contains(marker))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let history = try CommandRunner.run(["history", "--repo", repo, "--json"])
        #expect(history.status == 0, "\(history)")
        let versions = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]]
        #expect(versions?.count == 1)
        let describe = try CommandRunner.run([
            "describe", "driver_hourly_stats", "--kind", "feature_view", "--repo", repo,
        ])
        #expect(describe.stdout.contains("ttl: 2d"))
        // Rerun: the change lands as version 2.
        let rerun = try CommandRunner.run(["apply", "--repo", repo])
        #expect(rerun.stdout.contains("Applied version 2"))
    }

    @Test func helpDocumentsCommandsAndOptions() throws {
        let help = try CommandRunner.run(["--help"])
        for command in ["quickstart", "init", "plan", "apply", "list", "describe", "history", "bench"] {
            #expect(help.stdout.contains("  \(command)"), "missing \(command) in help")
        }
        let apply = try CommandRunner.run(["apply", "--help"])
        #expect(apply.stdout.contains("--allow-breaking"))
        #expect(apply.stdout.contains("--repo <dir>"))
    }
}

@Suite struct QuickstartTests {
    /// Every command the quickstart prints runs as printed: replayed word for word (with the
    /// folder swapped) in a fresh folder, each exits 0.
    @Test func everyPrintedCommandRunsAsPrinted() throws {
        let dir = try TemporaryDirectory("quickstart-commands")
        defer { dir.remove() }
        let first = dir.file("first")
        let run = try CommandRunner.run(["quickstart", first, "--rows", "20000", "--no-serve"])
        #expect(run.status == 0, "\(run)")
        let printed = run.stdout.split(separator: "\n").filter { $0.hasPrefix("== tessera ") }.map {
            String($0.dropFirst("== tessera ".count))
        }
        #expect(printed.count >= 7, "\(printed)")
        #expect(printed.contains { $0.hasPrefix("materialize-incremental now ") })
        let second = dir.file("second")
        for command in printed {
            let words = command.replacingOccurrences(of: first, with: second).split(separator: " ").map(String.init)
            let result = try CommandRunner.run(words)
            #expect(result.status == 0, "tessera \(command): \(result)")
        }
        #expect(FileManager.default.fileExists(atPath: second + "/training_set.parquet"))
        #expect(FileManager.default.fileExists(atPath: second + "/.tessera/online.db"))
    }
}
