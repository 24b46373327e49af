import ArgumentParser
import Foundation
import TesseraApp
import TesseraColumnar
import TesseraConsole
import TesseraCore
import TesseraDefinitions
import TesseraOffline

struct TrainingSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training-set",
        abstract:
            "Build a point-in-time-correct training set: each entity row gets the feature values known at its time.",
        discussion: """
            For each entity row (join keys and a time t) and each feature view, the value is the one \
            with the greatest event time <= t (and >= t - ttl), ties broken by the greatest created \
            time. Rows without a match get nulls and are kept, in input order, with all their columns. \
            See docs/semantics.md. Reads the applied definitions (run `tessera apply` first).

            Examples:
              tessera training-set --entities data/rides.parquet --service ride_ranking_v1 --output train.parquet
              tessera training-set --entities labels.csv --features driver_hourly_stats:conv_rate,customer_profile --output out.csv
              tessera training-set --start 2026-01-10 --end 2026-01-11 --features driver_hourly_stats --output day.parquet
              tessera training-set --entities data/rides.parquet --service ride_ranking_v1 --explain
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(
        help: ArgumentHelp(
            "The entity rows: a Parquet file, folder or glob, a CSV file, or an Arrow IPC file (.arrow, .arrows).",
            valueName: "file"))
    var entities: String?

    @Option(
        help: ArgumentHelp(
            "Features: view:feature or view (all its features), comma-separated.", valueName: "refs"))
    var features: String?

    @Option(help: ArgumentHelp("A feature service instead of --features.", valueName: "name"))
    var service: String?

    @Option(
        help: ArgumentHelp(
            "Where to write the result; .parquet, .csv or .arrows (an Arrow IPC stream) picks the format.",
            valueName: "file"))
    var output: String?

    @Flag(
        help:
            "Print what the offline engine would run (a SQL engine's generated SQL, and where each view is computed) instead of building the training set."
    )
    var explain = false

    @Flag(help: "Name feature columns view__feature.")
    var fullFeatureNames = false

    @Option(help: "The entity rows' time column.")
    var timestampColumn = "event_timestamp"

    @Option(
        help: ArgumentHelp(
            "Entity columns that hold join keys under other names: column=join_key,column2=join_key2.",
            valueName: "map"))
    var joinKeyMap: String?

    @Flag(help: "Also require created_ts <= t, so values backfilled after the event do not leak.")
    var noFutureCreated = false

    @Option(help: ArgumentHelp("Without --entities: the first event time of the range (ISO 8601).", valueName: "time"))
    var start: String?

    @Option(help: ArgumentHelp("Without --entities: the last event time of the range (ISO 8601).", valueName: "time"))
    var end: String?

    @Option(help: "Cores to use (default: the offline store's threads, else all).")
    var threads: Int?

    @Option(
        help: ArgumentHelp(
            "Keep memory near this size (512MB, 2GB): the entity rows are read and the training set built and written in parts, each reading the sources again; the output is the same. Needs --entities and a .parquet or .csv --output.",
            valueName: "size"))
    var memoryLimit: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if (features == nil) == (service == nil) {
            throw ValidationError("give exactly one of --features and --service")
        }
        if entities == nil && (start == nil || end == nil) {
            throw ValidationError("give --entities FILE, or --start and --end to build rows from the sources")
        }
        if entities != nil && (start != nil || end != nil) {
            throw ValidationError("--start/--end build the rows from the sources; they do not combine with --entities")
        }
        if output == nil && !explain {
            throw ValidationError("give --output FILE (or --explain to see what would run)")
        }
        if let output, !output.lowercased().hasSuffix(".arrows") {
            guard DataFormat.of(path: output) != nil else {
                throw ValidationError(
                    "--output \(output): use a .parquet, .csv or .arrows (Arrow IPC stream) file (the extension picks the format)"
                )
            }
        }
        guard (threads ?? 1) >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let memoryLimit {
            guard let bytes = ByteSize.parse(memoryLimit), bytes > 0 else {
                throw ValidationError("--memory-limit \(memoryLimit): write a size such as 512MB or 2GB")
            }
            if entities == nil {
                throw ValidationError(
                    "--memory-limit reads the entity rows in parts from a file: give --entities (rows built from --start/--end are held whole)"
                )
            }
            if let output, output.lowercased().hasSuffix(".arrows") {
                throw ValidationError(
                    "--memory-limit writes the output in parts: use a .parquet or .csv --output (an Arrow IPC stream is written whole)"
                )
            }
        }
    }

    func parseKeyMap() throws -> [String: String] {
        guard let joinKeyMap else { return [:] }
        var out: [String: String] = [:]
        for pair in joinKeyMap.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--join-key-map: '\(pair)' is not column=join_key")
            }
            out[parts[0]] = parts[1]
        }
        return out
    }

    func run() throws {
        try guarded {
            let began = Date()
            let store = try repository.open()
            let threads = self.threads ?? store.defaultThreads
            let selection: TrainingSetRequest.Selection =
                service.map { .service($0) } ?? .features(FeatureReference.splitList(features ?? ""))
            var request = TrainingSetRequest(
                spine: .range(start: Timestamp(microseconds: 0), end: Timestamp(microseconds: 0)),
                selection: selection, timestampColumn: timestampColumn, fullFeatureNames: fullFeatureNames,
                joinKeyMap: try parseKeyMap(), createdNotAfterTime: noFutureCreated, threads: threads)
            if let entities {
                // A CSV entity file reads its key and time columns with the types the join needs
                // (so '00123' stays a string key); other columns are inferred.
                let (views, keyColumns, definitions) = try store.resolve(request)
                var declared: [String: ValueType] = [timestampColumn: .timestamp]
                for view in views {
                    for key in definitions.joinKeys(of: view.view) {
                        declared[keyColumns[key.name] ?? key.name] = key.type
                    }
                }
                if let limit = memoryLimit.flatMap(ByteSize.parse), !explain, let output {
                    try runInParts(
                        store, request, entities: entities, declared: declared, threads: threads, limit: limit,
                        output: output, began: began)
                    return
                }
                Console.progress("reading \(entities)")
                request.spine = .entities(
                    try DataFiles.read(entities, threads: threads, declaredTypes: declared), name: entities)
            } else {
                let now = Timestamp.now
                request.spine = .range(
                    start: try TimeArgument.parse(start ?? "", "--start", now: now),
                    end: try TimeArgument.parse(end ?? "", "--end", now: now))
            }
            if explain {
                Console.endProgress()
                Console.print(try store.explainTrainingSet(request))
                return
            }
            guard let output else { throw ValidationError("give --output FILE") }
            let result = try store.trainingSet(request) { Console.progress($0) }
            Console.progress("writing \(output)")
            try DataFiles.write(result.batch, to: output, threads: threads)
            Console.endProgress()
            try report(
                Summary(
                    output: output, rows: result.rows, rowsWithAllFeatures: result.rowsWithAllFeatures,
                    columns: result.batch.schema.names, seconds: Date().timeIntervalSince(began),
                    peakRSSBytes: Measure.peakRSS(), views: result.views))
        }
    }

    /// `--memory-limit`: the entity rows read, and the training set built and written, in
    /// parts sized to the limit (`FeatureStore.trainingSetParts`).
    func runInParts(
        _ store: FeatureStore, _ request: TrainingSetRequest, entities: String, declared: [String: ValueType],
        threads: Int, limit: Int, output: String, began: Date
    ) throws {
        let (schema, next) = try DataFiles.scan(entities, threads: threads, declaredTypes: declared)
        let parts = try store.trainingSetParts(request, entitySchema: schema, memoryLimit: limit)
        if parts.belowMinimum {
            Console.error(
                "warning: --memory-limit \(ByteSize.format(limit)) is below what the smallest part needs (about \(ByteSize.format(parts.reserved + TrainingSetParts.minimumRows * parts.bytesPerRow))); building in parts of \(TrainingSetParts.minimumRows) rows"
            )
        }
        let format = try DataFormat.required(for: output, option: "--output")
        var writer: TableWriter?
        let summary: TrainingSetPartsSummary
        do {
            summary = try store.trainingSet(
                request, parts: parts, entitySchema: schema, entityName: entities, next: next,
                progress: { Console.progress($0) }
            ) { batch in
                if writer == nil { writer = try TableWriter(path: output, schema: batch.schema, format: format) }
                try writer?.write(batch)
            }
            try writer?.close()
        } catch {
            writer?.abandon()
            throw error
        }
        Console.endProgress()
        var result = Summary(
            output: output, rows: summary.rows, rowsWithAllFeatures: summary.rowsWithAllFeatures,
            columns: summary.schema.names, seconds: Date().timeIntervalSince(began), peakRSSBytes: Measure.peakRSS(),
            views: summary.views)
        result.parts = summary.parts
        result.rowsPerPart = parts.rowsPerPart
        try report(result)
    }

    func report(_ summary: Summary) throws {
        if json {
            try Console.json(summary)
            return
        }
        let percent = summary.rows == 0 ? 100 : Double(summary.rowsWithAllFeatures) * 100 / Double(summary.rows)
        var line = String(
            format: "Wrote %@: %d rows (%d with every feature, %.1f%%), %d columns, in %.2f s",
            summary.output, summary.rows, summary.rowsWithAllFeatures, percent, summary.columns.count, summary.seconds)
        if let parts = summary.parts, let rows = summary.rowsPerPart {
            line += ", in \(parts) part\(parts == 1 ? "" : "s") of up to \(rows) rows"
        }
        Console.print(line + ".")
        let summed = summary.parts.map { $0 > 1 } ?? false ? " (summed over parts)" : ""
        for view in summary.views {
            Console.print(
                "  \(view.view): \(view.rowsRead) source rows read\(summed), \(view.rowsKept) kept after key and time pruning, \(view.matched) entity rows matched"
            )
        }
    }

    struct Summary: Encodable {
        var output: String
        var rows: Int
        var rowsWithAllFeatures: Int
        var columns: [String]
        var seconds: Double
        var peakRSSBytes: Int
        var views: [TrainingSet.ViewStats]
        /// With --memory-limit: how many parts, of up to how many entity rows.
        var parts: Int? = nil
        var rowsPerPart: Int? = nil

        enum CodingKeys: String, CodingKey {
            case output, rows, columns, seconds, views, parts
            case rowsWithAllFeatures = "rows_with_all_features"
            case peakRSSBytes = "peak_rss_bytes"
            case rowsPerPart = "rows_per_part"
        }
    }
}
