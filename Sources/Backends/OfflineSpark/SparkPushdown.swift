import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraFormats
import TesseraOffline
import TesseraSQL

/// The as-of joins of one training set, run by Spark: per view, the entity rows that can
/// match are written as Parquet into the job's folder and joined where Spark reads the source.
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

    /// The step's entity rows that can match (a key and a time) as Parquet: `__row`,
    /// `__k0…`, `__ts` and `__lo` (the time minus the ttl).
    static func writeEntities(_ step: PushdownStep, to path: String) throws {
        let times = step.entityTimes
        var rows: [Int] = []
        rows.reserveCapacity(times.count)
        for row in 0..<times.count where times.isValid(row) && step.entityKeys.allSatisfy({ $0.isValid(row) }) {
            rows.append(row)
        }
        let ttl = step.view.ttl.microseconds
        let values = times.int64Values ?? []
        let lows = rows.map { values[$0] &- ttl }
        var fields = [Field("__row", .int64, nullable: false)]
        var columns = [Column.int64(rows.map { Int64($0) })]
        for (k, key) in step.entityKeys.enumerated() {
            fields.append(Field("__k\(k)", key.type, nullable: false))
            columns.append(key.take(rows))
        }
        fields += [Field("__ts", .timestamp, nullable: false), Field("__lo", .timestamp, nullable: false)]
        columns += [times.take(rows), Column(type: .timestamp, data: .int64(lows))]
        let schema = Schema(fields)
        let writer = try ParquetWriter(path: path, schema: schema)
        try writer.write(try RecordBatch(schema: schema, columns: columns))
        try writer.close()
    }
}
