import ArgumentParser
import Foundation
import TesseraColumnar
import TesseraConsole
import TesseraCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a ready-to-run example feature repository, with generated data.",
        discussion: """
            The example is the reference workload: entity `driver`, source `driver_stats`, view \
            `driver_hourly_stats` (ttl 2d), plus customer profiles, push sources, trips with \
            `driver_trip_aggs` (window aggregations) and `driver_last_trip` (a filter and derived \
            features), and three feature services. Data is generated deterministically (same --rows \
            and --data-start, same files): data/driver_stats, data/customer_profile, data/trips, and \
            data/rides and data/trip_labels (labelled events for training sets).
            """)

    @Argument(help: "The folder to create.")
    var directory: String

    @Option(help: "Rows of data/driver_stats (customer_profile and rides get a tenth).")
    var rows: Int = 1_000_000

    @Option(help: "The data files' format: parquet or csv.")
    var format: DataFormat = .defaultFormat

    @Option(help: "The project's name (default: the folder's name, made a valid identifier).")
    var project: String?

    @Flag(help: "Write into the folder even if it is not empty (existing files are overwritten).")
    var force = false

    @Option(
        help: ArgumentHelp(
            "The first day of the generated data (ISO 8601); event times span 30 days from it. Default: 30 days before today, so served values are fresh.",
            valueName: "date"))
    var dataStart: String?

    func validate() throws {
        guard rows > 0 else { throw ValidationError("--rows must be at least 1") }
        if let dataStart, Timestamp(parsing: dataStart) == nil {
            throw ValidationError("--data-start '\(dataStart)' is not an ISO 8601 date (2026-01-01)")
        }
    }

    /// Midnight UTC 30 days before today: the default start of the example's data.
    static var recentStart: Int64 {
        let day: Int64 = 86_400_000_000
        return (Timestamp.now.microseconds / day - 30) * day
    }

    func run() throws {
        try guarded {
            try InitCommand.create(
                directory: directory, rows: rows, format: format, project: project, force: force,
                start: dataStart.flatMap(Timestamp.init(parsing:))?.microseconds ?? InitCommand.recentStart)
        }
    }

    static func projectName(for directory: String) -> String {
        let base = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        var name = String(base.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
        if name.isEmpty || name.first?.isNumber == true { name = "features_" + name }
        return name
    }

    static func create(
        directory: String, rows: Int, format: DataFormat, project: String?, force: Bool,
        start: Int64 = InitCommand.recentStart
    ) throws {
        let fm = FileManager.default
        if let contents = try? fm.contentsOfDirectory(atPath: directory), !contents.isEmpty, !force {
            throw ValidationError("\(directory) exists and is not empty; choose another folder or pass --force")
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let example = ExampleRepository(
            project: project ?? projectName(for: directory), rows: rows, format: format.rawValue, start: start)
        let start = Date()
        var written = 0
        try example.write(to: directory) { path, schema, ranges, make in
            let total = ranges.last?.upperBound ?? 0
            try DataFiles.write(path: directory + "/" + path, format: format, schema: schema, ranges: ranges) {
                range in
                Console.progress("writing \(path): \(range.upperBound * 100 / max(1, total))%")
                return make(range)
            }
            written += total
        }
        Console.endProgress()
        let seconds = Date().timeIntervalSince(start)
        Console.print("Created feature repository '\(example.project)' in \(directory)")
        Console.print("  tessera.yaml, features/{drivers,customers,trips,rides,services}.yaml")
        Console.print(String(format: "  data/*.%@: %d rows in %.1f s", format.rawValue, written, seconds))
        Console.print("Next: tessera plan --repo \(directory)   then   tessera apply --repo \(directory)")
    }
}
