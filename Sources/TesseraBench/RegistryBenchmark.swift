import Foundation
import TesseraApp
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraRegistry

/// Plan and apply on a large generated repository (issue: 500 views × 20 features, 50 services, < 1 s each).
public enum RegistryBenchmark {
    public struct Options: Sendable {
        public var views = 500
        public var featuresPerView = 20
        public var services = 50
        public var files = 50
        /// The `tessera` binary, to time whole commands as a user runs them (`nil`: in-process only).
        public var binary: String?
        /// A PostgreSQL registry's URL (`nil`: the embedded SQLite registry).
        public var postgresURL: String?

        public init() {}
    }

    /// Writes the generated repository into `folder`.
    public static func generate(into folder: String, options: Options) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder + "/features", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        var config = "project: bench\n"
        if let url = options.postgresURL { config += "registry:\n  type: postgres\n  url: \(url)\n" }
        try config.write(toFile: folder + "/tessera.yaml", atomically: true, encoding: .utf8)
        let header =
            (0..<10).map { "key_\($0)" } + ["ts", "created"] + (0..<options.featuresPerView).map { "feature_\($0)" }
            + ["extra_0", "extra_1"]
        try (header.joined(separator: ",") + "\n").write(
            toFile: folder + "/data/events.csv", atomically: true, encoding: .utf8)
        var entities = "entities:\n"
        for e in 0..<10 {
            entities +=
                "  - name: entity_\(e)\n    join_keys:\n      key_\(e): int64\n    owner: team-\(e)@example.com\n"
        }
        try entities.write(toFile: folder + "/features/entities.yaml", atomically: true, encoding: .utf8)
        let types = ["float32", "float64", "int64", "int32", "string", "bool"]
        let perFile = max(1, (options.views + options.files - 1) / options.files)
        for file in 0..<options.files {
            var text = "sources:\n"
            let range = (file * perFile)..<min(options.views, (file + 1) * perFile)
            if range.isEmpty { break }
            for v in range {
                text +=
                    "  - name: source_\(v)\n    path: data/events.csv\n    timestamp_field: ts\n    created_timestamp_field: created\n"
            }
            text += "\nfeature_views:\n"
            for v in range {
                text +=
                    "  - name: view_\(v)\n    entities: [entity_\(v % 10)]\n    source: source_\(v)\n    ttl: \(1 + v % 30)d\n"
                text += "    description: Generated view number \(v).\n    owner: team-\(v % 10)@example.com\n"
                text += "    tags:\n      tier: \(v % 3 == 0 ? "gold" : "silver")\n    schema:\n"
                for f in 0..<options.featuresPerView {
                    text += "      feature_\(f): \(types[(v + f) % types.count])\n"
                }
            }
            try text.write(toFile: folder + "/features/views_\(file).yaml", atomically: true, encoding: .utf8)
        }
        var services = "feature_services:\n"
        for s in 0..<options.services {
            services += "  - name: service_\(s)\n    full_feature_names: true\n    features:\n"
            for k in 0..<10 {
                let v = (s * 7 + k * 13) % options.views
                services += "      - view_\(v):feature_\((s + k) % options.featuresPerView)\n"
            }
        }
        try services.write(toFile: folder + "/features/services.yaml", atomically: true, encoding: .utf8)
    }

    public static func run(options: Options) throws -> BenchmarkReport {
        let folder = NSTemporaryDirectory() + "tessera-bench-registry-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try generate(into: folder, options: options)
        var report = BenchmarkReport(
            title:
                "registry (\(options.postgresURL == nil ? "SQLite" : "PostgreSQL")): plan/apply on \(options.views) views × \(options.featuresPerView) features, \(options.services) services"
        )
        // Through the application layer, as `tessera plan` and `apply` run.
        struct Service {
            let store: FeatureStore
            func plan() throws -> RegistryService.PlanResult { try store.plan(try store.repository()) }
            func apply(allowBreaking: Bool) throws -> ApplyResult {
                try store.apply(try store.repository(), allowBreaking: allowBreaking)
            }
        }
        func service() throws -> Service { Service(store: try FeatureStore.open(folder)) }
        var loadTime = 0.0
        let load = try Measure.seconds { _ = try FeatureStore.open(folder).repository() }
        loadTime = load
        report.figures.append(
            BenchmarkFigure(task: "load + validate definitions and source files", metric: "seconds", tessera: loadTime))
        let firstPlan = try Measure.seconds { _ = try service().plan() }
        report.figures.append(
            BenchmarkFigure(task: "plan (empty registry)", metric: "seconds", tessera: firstPlan, target: "< 1 s"))
        let apply = try Measure.seconds { _ = try service().apply(allowBreaking: false) }
        report.figures.append(
            BenchmarkFigure(task: "apply (first)", metric: "seconds", tessera: apply, target: "< 1 s"))
        let noop = try Measure.seconds { _ = try service().plan() }
        report.figures.append(
            BenchmarkFigure(task: "plan (no changes)", metric: "seconds", tessera: noop, target: "faster than plan"))
        // One edit: a new feature and a changed ttl in one view.
        let file = folder + "/features/views_3.yaml"
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "      feature_0: ", with: "      extra_0: float64\n      feature_0: ", options: [],
            range: text.range(of: "      feature_0: "))
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let editPlan = try Measure.seconds { _ = try service().plan() }
        report.figures.append(
            BenchmarkFigure(task: "plan (one view edited)", metric: "seconds", tessera: editPlan, target: "< 1 s"))
        let editApply = try Measure.seconds { _ = try service().apply(allowBreaking: false) }
        report.figures.append(
            BenchmarkFigure(task: "apply (one view edited)", metric: "seconds", tessera: editApply, target: "< 1 s"))
        if let binary = options.binary {
            for (task, args) in [
                ("`tessera plan` process, no changes", ["plan"]), ("`tessera apply` process, no changes", ["apply"]),
            ] {
                let seconds = try Measure.seconds { try runProcess(binary, args + ["--repo", folder]) }
                report.figures.append(
                    BenchmarkFigure(task: task, metric: "seconds (wall)", tessera: seconds, target: "< 1 s"))
            }
            text = text.replacingOccurrences(
                of: "      extra_0: float64\n", with: "      extra_0: float64\n      extra_1: int64\n")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let seconds = try Measure.seconds { try runProcess(binary, ["apply", "--repo", folder]) }
            report.figures.append(
                BenchmarkFigure(
                    task: "`tessera apply` process, one view edited", metric: "seconds (wall)", tessera: seconds,
                    target: "< 1 s"))
        }
        report.notes.append(
            "Feast's `feast apply` is reported to take over 10 minutes with 50+ views (issue text); it is not run here."
        )
        return report
    }

    static func runProcess(_ binary: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw RegistryError(
                .io, path: binary,
                "`tessera \(arguments.joined(separator: " "))` exited with \(process.terminationStatus)")
        }
    }
}
