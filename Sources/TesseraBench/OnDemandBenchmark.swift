import Foundation
import Logging
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOnline
import TesseraServer
import TesseraWorkload

/// `tessera bench on-demand`: what four on-demand features add to an online lookup of the
/// three driver features they read (and request data), in process and over HTTP, against
/// Feast's `get_online_features` with an equivalent on-demand view in the same run.
public enum OnDemandBenchmark {
    public struct Options: Sendable {
        public var size = "S"
        public var lookups = 20_000
        /// Seconds per wrk run over HTTP (0: no HTTP figures).
        public var httpSeconds = 10
        /// The Python with Feast (`nil` or empty: no Feast figures).
        public var feastPython: String? = nil
        public var progress: @Sendable (String) -> Void = { _ in }
        public init() {}
    }

    static let plain = [
        "driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips",
    ]
    static let onDemand = ["expected_value", "acceptance_gap", "busy", "fare_band"].map { "ride_scoring:\($0)" }

    static let definitions = """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: driver_stats
            path: data/driver_stats.parquet
            timestamp_field: event_timestamp
            created_timestamp_field: created
        feature_views:
          - name: driver_hourly_stats
            entities: [driver]
            source: driver_stats
            ttl: 3650d
            schema: {conv_rate: float32, acc_rate: float32, avg_daily_trips: int32}
        request_sources:
          - name: ride_request
            schema: {fare_estimate: float64}
        on_demand_feature_views:
          - name: ride_scoring
            sources: [driver_hourly_stats, ride_request]
            features:
              expected_value: {type: float64, expression: "conv_rate * fare_estimate"}
              acceptance_gap: {type: float64, expression: "acc_rate - conv_rate"}
              busy: {type: bool, expression: "avg_daily_trips >= 10"}
              fare_band:
                type: string
                expression: "CASE WHEN fare_estimate < 15 THEN 'short' WHEN fare_estimate < 40 THEN 'medium' ELSE 'long' END"

        """

    public static func run(_ options: Options) async throws -> BenchmarkReport {
        guard let workload = Workload.named(options.size) else {
            throw FeatureStoreError("unknown size '\(options.size)'", hint: "XS, S, M or L")
        }
        let folder = NSTemporaryDirectory() + "tessera-bench-on-demand-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/features", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        try "project: bench\n".write(toFile: folder + "/tessera.yaml", atomically: true, encoding: .utf8)
        try definitions.write(toFile: folder + "/features/rides.yaml", atomically: true, encoding: .utf8)
        options.progress("writing \(workload.rows) driver_stats rows…")
        let writer = try ParquetWriter(path: folder + "/data/driver_stats.parquet", schema: Workload.statsSchema)
        for range in workload.driverStatsBatches() { try writer.write(workload.driverStats(range)) }
        try writer.close()
        let store = try FeatureStore.open(folder)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        options.progress("materializing…")
        _ = try store.materialize(
            MaterializeRequest(.range(start: Timestamp.earliestSupported, end: Timestamp.latestSupported)))
        let lookup = try store.lookup()
        let drivers = workload.entities
        var report = BenchmarkReport(
            title: "on-demand features: 4 expressions over 3 looked-up features and a request field, \(drivers) drivers"
        )

        var feast: [String: Double] = [:]
        if let python = options.feastPython, !python.isEmpty {
            options.progress("Feast: repository, online store and lookups with an on-demand view…")
            let output = try Processes.run(
                python,
                [
                    FeastPeer.packageRoot + "/benchmarks/on_demand_feast.py", folder + "/feast", String(workload.rows),
                    String(drivers),
                ])
            guard let figures = PeerProcess.lastJSON(output) as? [String: Double] else {
                throw PeerError(description: "on_demand_feast.py printed no figures:\n\(output.suffix(2000))")
            }
            feast = figures
        }

        for entities in [1, 100] {
            options.progress("in-process lookups, \(entities) entities…")
            // Interleaved rounds, so both kinds see the same machine; the median of each kind.
            var plainTimes: [Double] = []
            var onDemandTimes: [Double] = []
            let per = max(10, options.lookups / entities / 5)
            for round in 0..<5 {
                plainTimes += try time(lookup, plain, entities: entities, count: per, drivers: drivers, seed: round)
                onDemandTimes += try time(
                    lookup, plain + onDemand, entities: entities, count: per, drivers: drivers, seed: round)
            }
            let plainMedian = median(plainTimes)
            let onDemandMedian = median(onDemandTimes)
            let perFeature = (onDemandMedian - plainMedian) / Double(onDemand.count * entities)
            report.figures.append(
                BenchmarkFigure(
                    task: "in-process lookup, \(entities) entit\(entities == 1 ? "y" : "ies"): 3 plain + 4 on-demand",
                    metric: "median µs", tessera: onDemandMedian, peer: plainMedian,
                    peerName: "Tessera, the 3 plain features alone"))
            report.figures.append(
                BenchmarkFigure(
                    task: "on-demand cost per feature per entity row (\(entities) entit\(entities == 1 ? "y" : "ies"))",
                    metric: "µs", tessera: perFeature, target: "≤ 1 µs"))
            if let theirs = feast["on_demand_\(entities)_median_us"], let base = feast["plain_\(entities)_median_us"] {
                report.figures.append(
                    BenchmarkFigure(
                        task:
                            "Feast get_online_features, \(entities) entit\(entities == 1 ? "y" : "ies"): 3 plain + 4 on-demand (python mode)",
                        metric: "median µs", tessera: onDemandMedian, peer: theirs,
                        peerName: "Feast 0.67 (its 3 plain features alone: \(String(format: "%.0f", base)) µs)"))
                report.figures.append(
                    BenchmarkFigure(
                        task:
                            "on-demand cost per feature per entity row (\(entities) entit\(entities == 1 ? "y" : "ies"))",
                        metric: "µs", tessera: perFeature, peer: (theirs - base) / Double(onDemand.count * entities),
                        peerName: "Feast 0.67, python-mode on-demand view"))
            }
        }
        if options.httpSeconds > 0 { try await http(store, drivers: drivers, folder: folder, options, &report) }
        report.notes.append(
            "Embedded SQLite online store (WAL), one process; request data (fare_estimate) sent beside the join key. Feast runs the same four formulas in a python-mode on-demand view over its SQLite store."
        )
        return report
    }

    static func time(
        _ lookup: FeatureLookup, _ features: [String], entities: Int, count: Int, drivers: Int, seed: Int
    ) throws -> [Double] {
        var state = UInt64(0x0D0D + seed)
        var times: [Double] = []
        times.reserveCapacity(count)
        for i in 0..<(count + count / 10) {
            var ids: [ScalarValue] = []
            var fares: [ScalarValue] = []
            for _ in 0..<entities {
                state = state &+ 0x9E37_79B9_7F4A_7C15
                let r = Workload.random(3, 5, state)
                ids.append(.int64(Int64(r % UInt64(drivers))))
                fares.append(.float64(5 + Double(r >> 40) / Double(1 << 24) * 75))
            }
            let request = LookupRequest(
                features: .references(features), entities: [("driver_id", ids), ("fare_estimate", fares)])
            let start = MonotonicClock.nanoseconds()
            let response = try lookup.onlineFeatures(request)
            let elapsed = MonotonicClock.nanoseconds() &- start
            guard response.results.count == features.count + 1 else {
                throw OnlineStoreError(.io, "a lookup returned the wrong shape")
            }
            if i >= count / 10 { times.append(Double(elapsed) / 1000) }
        }
        return times
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// `tessera serve` in this process under wrk: the 3 plain features against the same plus
    /// the 4 on-demand ones, one entity row with its request field, alternating runs.
    static func http(
        _ store: FeatureStore, drivers: Int, folder: String, _ options: Options, _ report: inout BenchmarkReport
    ) async throws {
        guard let wrk = Processes.which("wrk") else {
            report.notes.append("wrk is not installed (apt-get install wrk): no HTTP figures.")
            return
        }
        let (port, serving) = try await HTTPBenchmark.serve(store)
        defer { serving.cancel() }
        let plainScript = try HTTPBenchmark.writeScript(
            folder: folder, entities: 1, drivers: drivers, features: plain, requestField: "fare_estimate")
        let onDemandScript = try HTTPBenchmark.writeScript(
            folder: folder, entities: 1, drivers: drivers, features: plain + onDemand, requestField: "fare_estimate")
        var ours: [Double] = []
        var theirs: [Double] = []
        var errors = 0
        for round in 1...3 {
            options.progress("wrk: plain and on-demand lookups over HTTP (round \(round) of 3)…")
            let p = try HTTPBenchmark.measure(
                wrk, port: port, script: plainScript, connections: 16, seconds: options.httpSeconds)
            let o = try HTTPBenchmark.measure(
                wrk, port: port, script: onDemandScript, connections: 16, seconds: options.httpSeconds)
            theirs.append(p.requestsPerSecond)
            ours.append(o.requestsPerSecond)
            errors += p.errors + o.errors
        }
        report.figures.append(
            BenchmarkFigure(
                task: "HTTP lookups, 1 entity, 16 connections: 3 plain + 4 on-demand", metric: "requests/s",
                tessera: median(ours), peer: median(theirs), peerName: "Tessera, the 3 plain features alone",
                higherIsBetter: true, target: "within 15% of plain"))
        if errors > 0 { report.notes.append("wrk counted \(errors) errors.") }
    }
}
