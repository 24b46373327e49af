import ArgumentParser
import Foundation
import TesseraBench
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraOnline
import TesseraRegistry

struct MaterializeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Load each entity's latest feature values in [START, END] into the online store.",
        discussion: """
            For every online view (or those named with --views), the latest row of each entity with \
            START <= event time <= END — greatest event time, then greatest created time, the same rule \
            as training sets — is written to the online store. A stored value is never replaced by an \
            older one, so a newer pushed value survives, and the command is idempotent: killed at any \
            point and run again, the store ends as after an uninterrupted run. Each view's watermark \
            (for materialize-incremental) is recorded once its rows are all written.

            Examples:
              tessera materialize 2026-01-01 2026-01-31T00:00:00Z
              tessera materialize 2026-01-30 2026-01-31 --views driver_hourly_stats
            """)

    @Argument(help: "The first event time to load (ISO 8601).") var start: String
    @Argument(help: "The last event time to load (ISO 8601).") var end: String
    @OptionGroup var options: MaterializeOptions

    func run() throws {
        try guarded {
            guard let startTime = Timestamp(parsing: start) else {
                throw ValidationError("START '\(start)' is not an ISO 8601 time (2026-01-10 or 2026-01-10T08:00:00Z)")
            }
            guard let endTime = Timestamp(parsing: end) else {
                throw ValidationError("END '\(end)' is not an ISO 8601 time (2026-01-10 or 2026-01-10T08:00:00Z)")
            }
            guard startTime <= endTime else { throw ValidationError("START \(start) is after END \(end)") }
            try options.materialize { _, _ in (startTime, endTime) }
        }
    }
}

struct MaterializeIncrementalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize-incremental",
        abstract: "Continue materializing each online view from its watermark up to END.",
        discussion: """
            Each view starts where its last materialization ended, minus --lateness (rows that \
            arrive late, with an event time before the watermark, are picked up; Feast misses them). \
            A view never materialized starts at END - ttl (or at the beginning, for ttl 0).
            """)

    @Argument(help: "The last event time to load (ISO 8601).") var end: String
    @Option(
        help: ArgumentHelp("Re-read this much before each watermark for late rows (e.g. 1h).", valueName: "duration"))
    var lateness = "0"
    @OptionGroup var options: MaterializeOptions

    func run() throws {
        try guarded {
            guard let endTime = Timestamp(parsing: end) else {
                throw ValidationError("END '\(end)' is not an ISO 8601 time (2026-01-10 or 2026-01-10T08:00:00Z)")
            }
            guard let late = TimeSpan(parsing: lateness) else {
                throw ValidationError("--lateness '\(lateness)' is not a duration (e.g. 30m, 1h, 2d)")
            }
            try options.materialize { view, watermark in
                if let watermark { return (watermark.end - late, endTime) }
                return (view.ttl.isZero ? Timestamp(microseconds: Int64.min / 2) : endTime - view.ttl, endTime)
            }
        }
    }
}

/// What both materialize commands share: the repository, the view selection and the work itself.
struct MaterializeOptions: ParsableArguments {
    @OptionGroup var repository: RepositoryOptions

    @Option(help: ArgumentHelp("Only these feature views, comma-separated.", valueName: "names"))
    var views: String?

    @Option(help: "Cores to use (default: all).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Rows per write to the online store (each write is one transaction).")
    var batchRows = 262_144

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard batchRows >= 1 else { throw ValidationError("--batch-rows must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    struct ViewSummary: Encodable {
        var view: String
        var start: String
        var end: String
        var rowsRead: Int
        var entitiesWritten: Int
        var seconds: Double

        enum CodingKeys: String, CodingKey {
            case view, start, end, seconds
            case rowsRead = "rows_read"
            case entitiesWritten = "entities_written"
        }
    }

    /// Materializes the selected views over the interval `interval` gives for each.
    func materialize(interval: (FeatureView, MaterializationWatermark?) throws -> (Timestamp, Timestamp)) throws {
        let applied = try AppliedRepository(options: repository)
        let definitions = applied.definitions
        let online = definitions.featureViews.filter(\.online)
        var selected = online
        if let views {
            selected = []
            for name in views.split(separator: ",").map({ String($0).trimmingSpaces() }) {
                guard let view = definitions.featureView(name) else {
                    throw ValidationError(
                        "no feature view named '\(name)'"
                            + (Suggestions.hint(for: name, in: definitions.featureViews.map(\.name)).map { "; \($0)" }
                                ?? ""))
                }
                guard view.online else { throw ValidationError("feature view '\(name)' is not online (online: false)") }
                selected.append(view)
            }
        }
        guard !selected.isEmpty else { throw ValidationError("no online feature views to materialize") }
        // Finish drops an interrupted apply left pending before loading anything.
        _ = try ApplyCommand.finishOnlineDrops(store: applied.store, config: applied.config, root: applied.root)
        let config = applied.config.onlineStore
        let store = try SQLiteOnlineStore.open(
            type: config.type, path: config.path, options: config.options, root: applied.root)
        let watermarks = try applied.store.watermarks()
        let materializer = Materializer(definitions: definitions, readers: applied.readers)
        var summaries: [ViewSummary] = []
        let began = Date()
        for view in selected {
            let (start, end) = try interval(view, watermarks[view.name])
            let viewBegan = Date()
            let keyNames = definitions.joinKeys(of: view).map(\.name)
            let total = try applied.sources.estimatedRows(of: view, definitions: definitions)
            var written = 0
            let stats = try materializer.latestRows(
                of: view, start: start, end: end, threads: threads, batchRows: batchRows,
                progress: { rows in
                    Console.progress(Progress.bar(view.name, done: rows, total: total.map { $0 * 2 }))
                },
                emit: { batch in
                    let write = try OnlineWriteBatch(
                        view: view.name, batch: batch, joinKeys: keyNames, eventTimestamp: Materializer.eventColumn,
                        createdTimestamp: Materializer.createdColumn)
                    try store.write(write)
                    written += batch.rowCount
                    Console.progress(Progress.bar(view.name, done: (total ?? 0) + written, total: total.map { $0 * 2 }))
                })
            try applied.store.recordMaterialization([
                MaterializationWatermark(view: view.name, start: start, end: end, recordedAt: .now)
            ])
            Console.endProgress()
            let seconds = Date().timeIntervalSince(viewBegan)
            summaries.append(
                ViewSummary(
                    view: view.name, start: start.iso8601, end: end.iso8601, rowsRead: stats.rowsRead,
                    entitiesWritten: stats.entities, seconds: seconds))
            if !json {
                Console.print(
                    String(
                        format: "%@: %d rows read, %d entities written in %.2f s (%.0f rows/s), [%@, %@]", view.name,
                        stats.rowsRead, stats.entities, seconds, Double(stats.rowsRead) / max(seconds, 1e-9),
                        start.iso8601,
                        end.iso8601))
            }
        }
        if json {
            try Console.json(
                Summary(views: summaries, seconds: Date().timeIntervalSince(began), peakRSSBytes: Measure.peakRSS()))
        }
    }

    struct Summary: Encodable {
        var views: [ViewSummary]
        var seconds: Double
        var peakRSSBytes: Int

        enum CodingKeys: String, CodingKey {
            case views, seconds
            case peakRSSBytes = "peak_rss_bytes"
        }
    }
}

/// A one-line progress bar.
enum Progress {
    static func bar(_ label: String, done: Int, total: Int?) -> String {
        guard let total, total > 0 else { return "\(label): \(done) rows" }
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        return "\(label) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + String(format: "] %3.0f%%", fraction * 100)
    }
}
