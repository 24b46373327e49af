import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOffline
import TesseraSQL

/// The as-of joins and window aggregations of one training set, run by Spark: per view, the
/// entity rows that can match are written as Parquet into the job's folder and joined where
/// Spark reads the source.
final class SparkPushdown: AsOfJoinPushdown {
    let engine: SparkOfflineEngine
    let definitions: Definitions
    /// The views Spark joins, placed by the engine for this request.
    let placements: [String: SparkOfflineEngine.Placement]
    let progress: @Sendable (String) -> Void

    init(
        engine: SparkOfflineEngine, definitions: Definitions, placements: [String: SparkOfflineEngine.Placement],
        progress: @escaping @Sendable (String) -> Void
    ) {
        self.engine = engine
        self.definitions = definitions
        self.placements = placements
        self.progress = progress
    }

    /// The relation of an entity file in Spark SQL.
    static func entitiesRelation(_ path: String) -> String {
        "parquet." + SQLDialect.spark.quoted(path)
    }

    func join(_ step: PushdownStep) throws -> PushdownResult? {
        guard let placement = placements[step.view.name] else { return nil }
        progress("joining \(step.view.name) in Spark")
        let (scan, names) = engine.scan(
            placement, view: step.view, features: step.features, definitions: definitions, lower: step.lower,
            upper: step.timeRange.1)
        let bounded = step.view.ttl.microseconds > 0
        var collector = PushdownCollector(features: step.features, entityRows: step.entityTimes.count)
        try engine.run(
            purpose: "the point-in-time join of \(step.view.name)",
            prepare: { job in
                let path = job + "/entities.parquet"
                try Self.writeEntities(step, to: path)
                return PointInTimeSQL(
                    entities: Self.entitiesRelation(path), scan: scan, bounded: bounded,
                    createdNotAfterTime: step.createdNotAfterTime
                ).sql(.spark)
            }
        ) { result in
            guard result.columns.count == names.count + 1, let rows = result.columns.first?.int64Values else {
                throw SparkEngineError(
                    description: "Spark returned \(result.columns.count) columns for the join of \(step.view.name)")
            }
            let batch = try RecordBatch(
                schema: Schema(zip(names, result.schema.fields.dropFirst()).map { Field($0, $1.type) }),
                columns: Array(result.columns.dropFirst()))
            let typed = try TypedSourceBatch(
                batch, source: placement.source, columns: placement.sourceColumns, keys: step.keys,
                features: step.features, view: step.view.name)
            try collector.add(typed.features, rows: rows.map { Int($0) }, view: step.view.name)
        }
        return try collector.result()
    }

    func aggregate(_ step: AggregationStep) throws -> PushdownResult? {
        guard let placement = placements[step.view.name],
            case .success(let (partials, scan)) = engine.aggregationScan(
                placement, view: step.view, features: step.features, definitions: definitions, range: step.timeRange)
        else { return nil }
        progress("aggregating \(step.view.name) in Spark")
        var collector = AggregationCollector(partials: partials, features: step.features, entityTimes: step.entityTimes)
        let columns = 1 + partials.banded.count + partials.parts.count
        try engine.run(
            purpose: "the window aggregations of \(step.view.name)",
            prepare: { job in
                let path = job + "/entities.parquet"
                try Self.writeEntities(
                    keys: step.entityKeys, times: step.entityTimes,
                    lows: partials.windows.enumerated().map { ("__lo\($0)", $1) }, to: path)
                return WindowAggregationSQL(entities: Self.entitiesRelation(path), scan: scan, partials: partials)
                    .sql(.spark)
            }
        ) { result in
            guard result.columns.count == columns, let rows = result.columns.first?.int64Values else {
                throw SparkEngineError(
                    description:
                        "Spark returned \(result.columns.count) columns for the aggregations of \(step.view.name)")
            }
            let bands = partials.banded.indices.map { result.columns[1 + $0] }
            let parts = partials.parts.indices.map { result.columns[1 + partials.banded.count + $0] }
            try collector.add(rows: rows.map { Int($0) }, bands: bands, parts: parts, view: step.view.name)
        }
        return try collector.result(view: step.view.name)
    }

    static func writeEntities(_ step: PushdownStep, to path: String) throws {
        let ttl = step.view.ttl.microseconds
        try writeEntities(keys: step.entityKeys, times: step.entityTimes, lows: [("__lo", ttl)], to: path)
    }

    /// The entity rows that can match (a key and a time) as Parquet: `__row`, `__k0…`,
    /// `__ts` and each of `lows`: the time minus its span (null without one).
    static func writeEntities(keys: [Column], times: Column, lows: [(name: String, span: Int64?)], to path: String)
        throws
    {
        var rows: [Int] = []
        rows.reserveCapacity(times.count)
        for row in 0..<times.count where times.isValid(row) && keys.allSatisfy({ $0.isValid(row) }) {
            rows.append(row)
        }
        let values = times.int64Values ?? []
        var fields = [Field("__row", .int64, nullable: false)]
        var columns = [Column.int64(rows.map { Int64($0) })]
        for (k, key) in keys.enumerated() {
            fields.append(Field("__k\(k)", key.type, nullable: false))
            columns.append(key.take(rows))
        }
        fields.append(Field("__ts", .timestamp, nullable: false))
        columns.append(times.take(rows))
        for low in lows {
            fields.append(Field(low.name, .timestamp, nullable: low.span == nil))
            columns.append(
                low.span.map { span in Column(type: .timestamp, data: .int64(rows.map { values[$0] &- span })) }
                    ?? Column(nulls: .timestamp, count: rows.count))
        }
        let schema = Schema(fields)
        let writer = try ParquetWriter(path: path, schema: schema)
        try writer.write(try RecordBatch(schema: schema, columns: columns))
        try writer.close()
    }
}
