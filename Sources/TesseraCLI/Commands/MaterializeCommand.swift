import ArgumentParser
import Foundation
import TesseraApp
import TesseraConsole
import TesseraCore
import TesseraDefinitions

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

            A view with window aggregations is rebuilt instead: each entity's state (its source \
            rows from now minus the longest window up to END, pushed rows included) replaces the \
            stored one, for every entity in one transaction; START does not apply to it.

            Times are ISO 8601, `now`, or relative to now: `now-30m`, `now-2d` (or `-2d` after `--`).

            Examples:
              tessera materialize 2026-01-01 2026-01-31T00:00:00Z
              tessera materialize now-2d now --views driver_hourly_stats
            """)

    @Argument(help: "The first event time to load (ISO 8601, now, or now-1h).") var start: String
    @Argument(help: "The last event time to load (ISO 8601, now, or now-1h).") var end: String
    @OptionGroup var options: MaterializeOptions

    func run() throws {
        try guarded {
            let now = Timestamp.now
            let startTime = try TimeArgument.parse(start, "START", now: now)
            let endTime = try TimeArgument.parse(end, "END", now: now)
            guard startTime <= endTime else { throw ValidationError("START \(start) is after END \(end)") }
            try options.materialize(.range(start: startTime, end: endTime))
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
            A view never materialized starts at END - ttl (or at the beginning, for ttl 0). A view \
            with window aggregations is rebuilt, as by `tessera materialize`.

            END is ISO 8601, `now`, or relative to now (`now-30m`).

            Examples:
              tessera materialize-incremental now --lateness 1h
              tessera materialize-incremental 2026-01-31T00:00:00Z --views driver_hourly_stats
            """)

    @Argument(help: "The last event time to load (ISO 8601, now, or now-1h).") var end: String
    @Option(
        help: ArgumentHelp("Re-read this much before each watermark for late rows (e.g. 1h).", valueName: "duration"))
    var lateness = "0"
    @OptionGroup var options: MaterializeOptions

    func run() throws {
        try guarded {
            let endTime = try TimeArgument.parse(end, "END", now: .now)
            guard let late = TimeSpan(parsing: lateness) else {
                throw ValidationError("--lateness '\(lateness)' is not a duration (e.g. 30m, 1h, 2d)")
            }
            try options.materialize(.incremental(end: endTime, lateness: late))
        }
    }
}

/// Time arguments of commands.
enum TimeArgument {
    static func parse(_ text: String, _ name: String, now: Timestamp) throws -> Timestamp {
        guard let time = Timestamp(argument: text, now: now) else {
            throw ValidationError("\(name) '\(text)' is not a time; write \(Timestamp.argumentForms)")
        }
        return time
    }
}

/// What both materialize commands share: the repository, the view selection and the output.
struct MaterializeOptions: ParsableArguments {
    @OptionGroup var repository: RepositoryOptions

    @Option(help: ArgumentHelp("Only these feature views, comma-separated.", valueName: "names"))
    var views: String?

    @Option(help: "Cores to use (default: the offline store's threads, else all).")
    var threads: Int?

    @Option(help: "Rows per write to the online store (each write is one transaction).")
    var batchRows = 262_144

    @Option(
        help: ArgumentHelp(
            "Keep memory near this size (512MB, 2GB): a view's entities are found in parts by key hash, each part reading the source again (native engine; the end state is the same).",
            valueName: "size"))
    var memoryLimit: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard batchRows >= 1 else { throw ValidationError("--batch-rows must be at least 1") }
        guard (threads ?? 1) >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let memoryLimit, (ByteSize.parse(memoryLimit) ?? 0) <= 0 {
            throw ValidationError("--memory-limit \(memoryLimit): write a size such as 512MB or 2GB")
        }
    }

    func materialize(_ interval: MaterializeRequest.Interval) throws {
        let store = try repository.open()
        let names = views.map { $0.split(separator: ",").map { String($0).trimmingSpaces() } }
        var lastView = ""
        var request = MaterializeRequest(
            interval, views: names, threads: threads ?? store.defaultThreads, batchRows: batchRows)
        request.memoryLimit = memoryLimit.flatMap(ByteSize.parse)
        let summary = try store.materialize(request) { progress in
            if progress.view != lastView {
                if !lastView.isEmpty { Console.endProgress() }
                lastView = progress.view
            }
            // Reading counts for the first half of the bar, writing for the second.
            let total = progress.estimatedRows.map { $0 * 2 }
            let done =
                progress.entitiesWritten > 0
                ? (progress.estimatedRows ?? 0) + progress.entitiesWritten : progress.rowsRead
            Console.progress(Progress.bar(progress.view, done: done, total: total))
        }
        Console.endProgress()
        if json {
            try Console.json(Summary(views: summary.views, seconds: summary.seconds, peakRSSBytes: Measure.peakRSS()))
            return
        }
        for view in summary.views {
            Console.print(
                String(
                    format: "%@: %d rows read, %d entities written in %.2f s (%.0f rows/s), [%@, %@]", view.view,
                    view.rowsRead, view.entitiesWritten, view.seconds, Double(view.rowsRead) / max(view.seconds, 1e-9),
                    view.start.iso8601, view.end.iso8601))
            if let parts = view.parts, parts > 1 {
                Console.print("  in \(parts) parts by key hash, each reading the source again (--memory-limit)")
            }
            if let note = view.note { Console.print("  note: \(note)") }
        }
    }

    struct Summary: Encodable {
        var views: [MaterializeSummary.View]
        var seconds: Double
        var peakRSSBytes: Int

        enum CodingKeys: String, CodingKey {
            case views, seconds
            case peakRSSBytes = "peak_rss_bytes"
        }
    }
}
