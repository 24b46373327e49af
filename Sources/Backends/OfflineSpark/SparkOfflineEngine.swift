import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOffline
import TesseraSQL

/// `offline_store: {type: spark}`: training sets and materializations computed by Spark over
/// the repository's Parquet sources, with the Spark SQL of `TesseraSQL`.
///
/// For each view over a Parquet source the entity rows (those with keys and a time) are
/// written as one Parquet file beside the job, one query joins them to the source where
/// Spark reads it, and Spark writes the chosen rows as Parquet, which Tessera reads back
/// and types as the native engine does. Ties on event and created time go to the row read
/// last, files in path order then rows in file order — Spark's `_metadata.file_path` and
/// `_metadata.row_index` — as natively. What the SQL does not express yet runs in the
/// native engine (see `PostgresOfflineEngine`); `--explain` shows where each view runs.
public struct SparkOfflineEngine: NativeBackedEngine {
    public let native: NativeEngine
    let session: SparkSession
    /// Where jobs' inputs and outputs are written: a folder Spark's executors can read and
    /// write (the repository's `.tessera/spark` by default, for `local[…]`).
    public let workFolder: String
    /// Whether window aggregations are computed in SQL (`aggregations: sql`, the default)
    /// or natively from the source's rows (`aggregations: native`).
    public var aggregationsInSQL = true

    init(native: NativeEngine, session: SparkSession, workFolder: String) {
        self.native = native
        self.session = session
        self.workFolder = workFolder
    }

    // MARK: Where a view runs

    /// A view Spark can compute: its Parquet location and the columns the native reader sees.
    struct Placement {
        var location: String
        var source: DataSource
        var schema: Schema
        var sourceColumns: SourceColumns
        /// The view's filter as a condition on the source's columns, or `nil`.
        var condition: String?
    }

    func placement(of view: FeatureView, definitions: Definitions) -> Result<Placement, NativeReason> {
        guard var source = definitions.source(view.source) else {
            return .failure(NativeReason("its source '\(view.source)' is not defined"))
        }
        let sources = native.sources(definitions)
        let readers: [any SourceReader]
        do {
            readers = try sources.readers(for: source)
        } catch {
            return .failure(NativeReason("its source cannot be read: \(error)"))
        }
        if case .push(let batch?) = source.kind, let batchSource = definitions.source(batch) {
            guard readers.count == 1 else {
                return .failure(NativeReason("rows pushed to '\(source.name)' are in the local push log"))
            }
            source = batchSource
        }
        guard case .file(let path, .parquet) = source.kind, readers.count == 1, let reader = readers.first else {
            return .failure(NativeReason("its source '\(source.name)' is not a Parquet dataset"))
        }
        let schema: Schema
        do {
            schema = try reader.schema()
        } catch {
            return .failure(NativeReason("its source cannot be read: \(error)"))
        }
        let columns = definitions.sourceColumns(of: definitions.source(view.source) ?? source)
        for key in definitions.joinKeys(of: view) {
            guard let type = schema.fields.first(where: { $0.name == columns.sourceColumn(for: key.name) })?.type,
                Column.canJoin(type, as: key.type), [.int64, .int32, .string, .bytes].contains(key.type)
            else {
                return .failure(NativeReason("join key '\(key.name)' is not compared in Spark as natively"))
            }
        }
        for time in [columns.timestamp] + [columns.created].compactMap({ $0 }) {
            guard schema.fields.first(where: { $0.name == time })?.type == .timestamp else {
                return .failure(NativeReason("column '\(time)' is not a timestamp"))
            }
        }
        let location = path.hasPrefix("/") ? path : native.root + "/" + path
        var placement = Placement(location: location, source: source, schema: schema, sourceColumns: columns)
        let quoted = SQLDialect.spark.quoted
        switch FilterSQL.transforms(
            of: view, columns: columns, dialect: .spark,
            { name in schema.fields.first { $0.name == name }.map { (quoted(name), $0.type) } })
        {
        case .success(let condition): placement.condition = condition
        case .failure(let why): return .failure(why)
        }
        return .success(placement)
    }

    /// The scan of a view's Parquet source returning the columns `TypedSourceBatch` reads,
    /// under their source names.
    func scan(
        _ placement: Placement, view: FeatureView, features: [Feature], definitions: Definitions, lower: Int64?,
        upper: Int64
    ) -> (sql: SourceScanSQL, names: [String]) {
        let columns = placement.sourceColumns
        let keys = definitions.joinKeys(of: view).map { columns.sourceColumn(for: $0.name) }
        let names = columns.joinColumns(
            keys: definitions.joinKeys(of: view).map(\.name), features: features.map(\.name))
        let quoted = SQLDialect.spark.quoted
        let sql = SourceScanSQL(
            source: "parquet." + quoted(placement.location), keys: keys.map(quoted), eventColumn: columns.timestamp,
            createdColumn: columns.created, outputs: names.map(quoted),
            rowOrder: ["_metadata.file_path", "_metadata.row_index"], lower: lower, upper: upper,
            condition: placement.condition)
        return (sql, names)
    }

    /// Runs a query in Spark: `prepare` writes the job's inputs into its fresh folder and
    /// returns the query; `body` gets the result's batches (columns named as the query names
    /// them). The folder is removed afterwards. A failure names Spark's message and keeps the
    /// SQL in a file the message names.
    func run(purpose: String, prepare: (String) throws -> String, _ body: (RecordBatch) throws -> Void) throws {
        let fm = FileManager.default
        let job = workFolder + "/job-\(Timestamp.now.microseconds)-\(ProcessInfo.processInfo.processIdentifier)"
        try fm.createDirectory(atPath: job, withIntermediateDirectories: true)
        // TESSERA_SPARK_KEEP_JOBS=1 keeps each job's inputs and result for inspection.
        let keep = ProcessInfo.processInfo.environment["TESSERA_SPARK_KEEP_JOBS"] != nil
        defer { if !keep { try? fm.removeItem(atPath: job) } }
        let query = try prepare(job)
        let output = job + "/result"
        do {
            try session.run(query: query, output: output)
        } catch {
            let saved = workFolder + "/failed-\(Timestamp.now.microseconds).sql"
            let place =
                fm.createFile(atPath: saved, contents: Data((query + ";\n").utf8))
                ? "\n    the query is in \(saved)" : "\n    the query:\n\(query)"
            throw SparkEngineError(description: "Spark could not compute \(purpose): \(error.description)\(place)")
        }
        let files = ((try? fm.contentsOfDirectory(atPath: output)) ?? []).filter { $0.hasSuffix(".parquet") }
        guard !files.isEmpty else { return }
        let dataset = try Dataset.open(output)
        try DatasetSourceReader(dataset: dataset).scan(
            columns: dataset.schema.names, filter: nil, threads: native.threads, body)
    }

    // MARK: Training sets

    public func trainingSet(
        _ request: TrainingSetRequest, definitions: Definitions, progress: @escaping @Sendable (String) -> Void
    ) throws -> TrainingSet {
        let builder = TrainingSetBuilder(definitions: definitions) { [native] source in
            try native.sources(definitions).readers(for: source)
        }
        let placements = try placements(for: request, definitions: definitions)
        guard !placements.isEmpty else { return try builder.build(request, progress: progress) }
        let pushdown = SparkPushdown(
            engine: self, definitions: definitions, placements: placements, progress: progress)
        return try builder.build(request, pushdown: pushdown, progress: progress)
    }

    /// The requested views whose joins run in Spark, by name, each placed once per request
    /// (its files' footers read once).
    func placements(for request: TrainingSetRequest, definitions: Definitions) throws -> [String: Placement] {
        try FeatureResolution.placements(for: request, in: definitions) { view in
            try? placement(of: view, definitions: definitions).get()
        }
    }

    public func explain(_ request: TrainingSetRequest, definitions: Definitions) throws -> String {
        let header = "-- Spark (\(session.settings.connect ?? session.settings.master))"
        return try TrainingSetExplanation.sqlEngine(
            request, definitions: definitions, header: header,
            plain: { plain, lower, upper in
                placement(of: plain.view, definitions: definitions).map { placement in
                    let view = plain.view
                    let (scan, _) = self.scan(
                        placement, view: view, features: plain.features, definitions: definitions, lower: lower,
                        upper: upper)
                    return [
                        "-- \(view.name): as-of join of \(plain.features.map(\.name).joined(separator: ", ")) in Spark; the entity rows (__row, __k0…, __ts, __lo) are written to <job>/entities.parquet, the result to <job>/result",
                        PointInTimeSQL(
                            entities: SparkPushdown.entitiesRelation("<job>/entities.parquet"), scan: scan,
                            bounded: view.ttl.microseconds > 0, createdNotAfterTime: request.createdNotAfterTime
                        ).sql(.spark) + ";",
                    ]
                }
            },
            aggregated: { aggregated, range in
                placement(of: aggregated.view, definitions: definitions).flatMap { placement in
                    aggregationScan(
                        placement, view: aggregated.view, features: aggregated.features, definitions: definitions,
                        range: range)
                }.map { partials, scan in
                    let view = aggregated.view
                    return [
                        "-- \(view.name): window aggregations \(aggregated.features.map(\.name).joined(separator: ", ")) in Spark (exact partial sums, merged and rounded once by Tessera); the entity rows (__row, __k0…, __ts, __lo0… = __ts - each window) are written to <job>/entities.parquet, the result to <job>/result",
                        WindowAggregationSQL(
                            entities: SparkPushdown.entitiesRelation("<job>/entities.parquet"), scan: scan,
                            partials: partials
                        ).sql(.spark) + ";",
                    ]
                }
            })
    }

    /// The partials of a view's aggregated `features` and the scan returning their inputs
    /// (`c0…`, in the partials' order), or why Spark does not compute them.
    func aggregationScan(
        _ placement: Placement, view: FeatureView, features: [Feature], definitions: Definitions,
        range: (Int64, Int64)
    ) -> Result<(AggregationPartials, SourceScanSQL), NativeReason> {
        guard aggregationsInSQL else { return .failure(NativeReason("offline_store sets aggregations: native")) }
        let columns = placement.sourceColumns
        let quoted = SQLDialect.spark.quoted
        let partials: AggregationPartials
        let outputs: [String]
        switch WindowAggregationSQL.inputs(
            of: features, columns: columns, engine: "Spark",
            { name, type in
                placement.schema.fields.first { $0.name == name }.flatMap {
                    AggregationPartials.reads($0.type, as: type) ? quoted(name) : nil
                }
            })
        {
        case .success(let found): (partials, outputs) = found
        case .failure(let why): return .failure(why)
        }
        let keys = definitions.joinKeys(of: view).map { quoted(columns.sourceColumn(for: $0.name)) }
        let scan = SourceScanSQL(
            source: "parquet." + quoted(placement.location), keys: keys, eventColumn: columns.timestamp,
            createdColumn: columns.created, outputs: outputs, rowOrder: [], lower: partials.lower(earliest: range.0),
            upper: range.1, condition: placement.condition)
        return .success((partials, scan))
    }

    // MARK: Materialization

    public func latestRows(
        _ request: LatestRowsRequest, definitions: Definitions, progress: (Int) -> Void,
        emit: (RecordBatch) throws -> Void
    ) throws -> LatestRowsStats {
        guard case .success(let placement) = placement(of: request.view, definitions: definitions) else {
            return try native.latestRows(request, definitions: definitions, progress: progress, emit: emit)
        }
        let view = request.view
        let (scan, names) = scan(
            placement, view: view, features: view.plainFeatures, definitions: definitions,
            lower: request.start.microseconds, upper: request.end.microseconds)
        let schema = LatestRows.schema(of: view, definitions: definitions)
        let keys = definitions.joinKeys(of: view)
        var entities = 0
        let query = LatestRowsSQL(scan: scan).sql(.spark)
        try run(purpose: "the latest rows of \(view.name)", prepare: { _ in query }) { result in
            let batch = try RecordBatch(
                schema: Schema(zip(names, result.schema.fields).map { Field($0, $1.type) }), columns: result.columns)
            let all = try TypedSourceBatch.latestRows(
                batch, source: placement.source, columns: placement.sourceColumns, view: view, keys: keys,
                schema: schema)
            var start = 0
            while start < all.rowCount {
                let end = min(all.rowCount, start + request.batchRows)
                try emit(all.slice(start..<end))
                start = end
            }
            entities += batch.rowCount
            progress(entities)
        }
        return LatestRowsStats(view: view.name, rowsRead: entities, entities: entities)
    }

}

/// A Spark job that failed: Spark's message and the file holding the SQL.
public struct SparkEngineError: Error, CustomStringConvertible {
    public var description: String
}
