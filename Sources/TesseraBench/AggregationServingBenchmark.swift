import Foundation
import Logging
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOnline
import TesseraRegistry
import TesseraServer
import TesseraWorkload

/// `tessera bench aggregations-online`: the online side of `driver_trip_aggs` on the trips
/// workload, in process: rebuilding its state against materializing a plain view of the
/// same source, lookups of its 14 features against a lookup of plain features, pushes into
/// its state, and how soon a pushed trip is served.
public enum AggregationServingBenchmark {
    public struct Options: Sendable {
        public var size = "M"
        public var lookups = 50_000
        public var pushedEvents = 400_000
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        /// Seconds per wrk run over HTTP (0: no HTTP figures).
        public var httpSeconds = 10
        public var progress: @Sendable (String) -> Void = { _ in }
        public init() {}
    }

    static let features = """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: trips
            path: data/trips.parquet
            timestamp_field: event_timestamp
          - name: trips_push
            type: push
            batch_source: trips
        feature_views:
          - name: driver_trip_aggs
            entities: [driver]
            source: trips_push
            \(AggregationBenchmark.tripAggregations)
          - name: driver_last_trip
            entities: [driver]
            source: trips
            ttl: 7d
            schema: {fare: float64, rider_id: int64}

        """

    public static func run(_ options: Options) async throws -> BenchmarkReport {
        guard let sized = Workload.named(options.size) else {
            throw FeatureStoreError("unknown size '\(options.size)'", hint: "XS, S, M or L")
        }
        // The trips end now, so the online windows (which end at now) hold them.
        let end = Timestamp.now.microseconds / 1_000_000 * 1_000_000
        let workload = Workload(rows: sized.rows, start: end - 30 * 86_400_000_000)
        let folder = NSTemporaryDirectory() + "tessera-bench-aggs-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/features", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        try "project: bench\n".write(toFile: folder + "/tessera.yaml", atomically: true, encoding: .utf8)
        try features.write(toFile: folder + "/features/trips.yaml", atomically: true, encoding: .utf8)
        options.progress("writing \(workload.tripRows) trips…")
        let writer = try ParquetWriter(path: folder + "/data/trips.parquet", schema: Workload.tripsSchema)
        for start in stride(from: 0, to: workload.tripRows, by: 1 << 20) {
            try writer.write(workload.trips(start..<min(workload.tripRows, start + (1 << 20))))
        }
        try writer.close()

        let store = try FeatureStore.open(folder)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        var report = BenchmarkReport(
            title: "online window aggregations (driver_trip_aggs, 14 features), trips \(options.size.uppercased())")

        options.progress("materializing…")
        let range = MaterializeRequest.Interval.range(
            start: Timestamp(microseconds: workload.start), end: Timestamp(microseconds: end + 86_400_000_000))
        let plain = try Measure.seconds {
            _ = try store.materialize(MaterializeRequest(range, views: ["driver_last_trip"], threads: options.threads))
        }
        var keys = 0
        let rebuilt = try Measure.seconds {
            keys =
                try store.materialize(
                    MaterializeRequest(range, views: ["driver_trip_aggs"], threads: options.threads)
                ).views.first?.entitiesWritten ?? 0
        }
        report.figures.append(
            BenchmarkFigure(
                task: "materialize driver_trip_aggs (state of \(keys) drivers)", metric: "seconds", tessera: rebuilt,
                peer: plain, peerName: "materialize a plain view of the same source", target: "≤ 2× the plain view"))

        let online = try store.onlineStore()
        let sampleKeys = (0..<min(1000, workload.tripDrivers)).map { EntityKey(int64: Int64($0)) }
        let states = try online.readStates(view: "driver_trip_aggs", keys: sampleKeys).compactMap { $0 }
        let bytes = states.map(\.count).reduce(0, +)
        report.notes.append(
            String(
                format:
                    "State per driver: %.0f bytes on average (%d drivers sampled): its trips of the last 7 days, 32 bytes each plus a header.",
                Double(bytes) / Double(max(1, states.count)), states.count))

        options.progress("in-process lookups…")
        let lookup = try store.lookup()
        let names = (try store.applied().definitions.featureView("driver_trip_aggs")?.features.map(\.name)) ?? []
        let aggregated = try timeLookups(
            lookup, features: names.map { "driver_trip_aggs:\($0)" }, count: options.lookups,
            drivers: workload.tripDrivers)
        let plainLookup = try timeLookups(
            lookup, features: ["driver_last_trip:fare", "driver_last_trip:rider_id"], count: options.lookups,
            drivers: workload.tripDrivers)
        report.figures.append(
            BenchmarkFigure(
                task: "in-process lookup, 14 aggregated features, 1 driver", metric: "median µs",
                tessera: aggregated.median, peer: plainLookup.median,
                peerName: "Tessera, 2 plain features (reference)", target: "≤ 10 µs"))
        report.figures.append(
            BenchmarkFigure(
                task: "in-process lookup, 14 aggregated features, 1 driver", metric: "p99 µs", tessera: aggregated.p99,
                peer: plainLookup.p99, peerName: "Tessera, 2 plain features (reference)"))

        options.progress("pushes…")
        for batch in [100, 1000] {
            let rate = try pushRate(
                store, lookup: lookup, batch: batch, events: options.pushedEvents, drivers: workload.tripDrivers,
                now: end)
            report.figures.append(
                BenchmarkFigure(
                    task: "push into aggregation state, batches of \(batch) (in process, to online)",
                    metric: "events/s", tessera: rate.pushes, higherIsBetter: true, target: "≥ 200,000 events/s"))
            report.figures.append(
                BenchmarkFigure(
                    task: "the same, with the fold of every pushed row into the stored states (sustained)",
                    metric: "events/s", tessera: rate.sustained, higherIsBetter: true, target: "≥ 200,000 events/s"))
            report.figures.append(
                BenchmarkFigure(
                    task: "fold of the rows still pending after those pushes", metric: "seconds", tessera: rate.fold))
        }
        let freshness = try pushLatency(store, lookup: lookup, drivers: workload.tripDrivers, now: end)
        report.figures.append(
            BenchmarkFigure(
                task: "freshness: a pushed trip served (push returns, then a lookup sees it)", metric: "median µs",
                tessera: freshness))
        report.notes.append(
            "Each run in this process on the embedded SQLite store (WAL); lookups read at the wall clock, the trips end now. A push appends its rows to the store's pushed-event log (durable when it returns) and to this process's pending rows, which lookups merge into the stored states; a push folds them into the states once \(store.pending.settings.foldRows) rows are pending (docs/semantics.md)."
        )
        if options.httpSeconds > 0 {
            try await http(
                store, aggregated: names.map { "driver_trip_aggs:\($0)" }, drivers: workload.tripDrivers,
                folder: folder, options: options, report: &report)
        }
        return report
    }

    /// `tessera serve` in this process under wrk: lookups of the 14 aggregated features
    /// against plain ones, and `/push` of trips in batches of 100.
    static func http(
        _ store: FeatureStore, aggregated: [String], drivers: Int, folder: String, options: Options,
        report: inout BenchmarkReport
    ) async throws {
        guard let wrk = Processes.which("wrk") else {
            report.notes.append("wrk is not installed (apt-get install wrk): no HTTP figures.")
            return
        }
        let (port, serving) = try await HTTPBenchmark.serve(store)
        defer { serving.cancel() }
        options.progress("wrk: lookups over HTTP…")
        let aggregatedScript = try HTTPBenchmark.writeScript(
            folder: folder, entities: 1, drivers: drivers, features: aggregated)
        let plainScript = try HTTPBenchmark.writeScript(
            folder: folder, entities: 1, drivers: drivers,
            features: ["driver_last_trip:fare", "driver_last_trip:rider_id"])
        let ours = try HTTPBenchmark.measure(
            wrk, port: port, script: aggregatedScript, connections: 16, seconds: options.httpSeconds)
        let plain = try HTTPBenchmark.measure(
            wrk, port: port, script: plainScript, connections: 16, seconds: options.httpSeconds)
        report.figures.append(
            BenchmarkFigure(
                task: "HTTP lookups, 14 aggregated features, 1 driver, 16 connections", metric: "requests/s",
                tessera: ours.requestsPerSecond, peer: plain.requestsPerSecond,
                peerName: "Tessera, 2 plain features", higherIsBetter: true, target: "within 20% of plain"))
        options.progress("wrk: pushes over HTTP…")
        let pushScript = folder + "/wrk-push.lua"
        try """
        local bodies = {}
        local n = 0
        function init(args)
          math.randomseed(42)
          local now = os.time()
          for i = 1, 200 do
            local ids, times, fares, riders = {}, {}, {}, {}
            for k = 1, 100 do
              ids[k] = math.random(0, \(max(1, drivers) - 1))
              times[k] = now - math.random(0, 3599)
              fares[k] = string.format("%.2f", 2 + math.random() * 78)
              riders[k] = math.random(0, 99999)
            end
            local c = table.concat
            bodies[i] = wrk.format("POST", "/push", {["Content-Type"] = "application/json"},
              '{"push_source_name":"trips_push","to":"online","df":{"trip_id":[' .. c(ids, ",") ..
              '],"driver_id":[' .. c(ids, ",") .. '],"rider_id":[' .. c(riders, ",") ..
              '],"event_timestamp":[' .. c(times, ",") .. '],"fare":[' .. c(fares, ",") ..
              '],"distance_km":[' .. c(fares, ",") .. ']}}')
          end
        end
        function request()
          n = n % 200 + 1
          return bodies[n]
        end
        """.write(toFile: pushScript, atomically: true, encoding: .utf8)
        let pushes = try HTTPBenchmark.measure(
            wrk, port: port, script: pushScript, connections: 4, seconds: options.httpSeconds)
        report.figures.append(
            BenchmarkFigure(
                task: "HTTP /push of trips, batches of 100, 4 connections", metric: "events/s",
                tessera: pushes.requestsPerSecond * 100, higherIsBetter: true, target: "≥ 20,000 events/s"))
        if ours.errors + plain.errors + pushes.errors > 0 {
            report.notes.append(
                "wrk counted errors: \(ours.errors) aggregated lookups, \(plain.errors) plain, \(pushes.errors) pushes."
            )
        }
    }

    struct Latencies {
        var median: Double
        var p99: Double
    }

    static func timeLookups(_ lookup: FeatureLookup, features: [String], count: Int, drivers: Int) throws -> Latencies {
        // Steady state: every driver read once first (1,000 per request), so the store file's
        // pages are mapped, as in a server that has run for a while, and the timed reads
        // measure lookups rather than first-touch page faults (13,000 of them on M otherwise).
        for start in stride(from: 0, to: drivers, by: 1_000) {
            let keys = (start..<min(drivers, start + 1_000)).map { ScalarValue.int64(Int64($0)) }
            _ = try lookup.onlineFeatures(
                LookupRequest(features: .references(features), entities: [("driver_id", keys)]))
        }
        var state: UInt64 = 0x5EED
        var times: [Double] = []
        times.reserveCapacity(count)
        let warmup = max(100, count / 10)
        for i in 0..<(count + warmup) {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            let driver = Int64(Workload.random(7, 9, state) % UInt64(drivers))
            let request = LookupRequest(features: .references(features), entities: [("driver_id", [.int64(driver)])])
            let start = MonotonicClock.nanoseconds()
            let response = try lookup.onlineFeatures(request)
            let elapsed = MonotonicClock.nanoseconds() &- start
            guard response.results.count == features.count + 1 else {
                throw OnlineStoreError(.io, "a lookup returned the wrong shape")
            }
            if i >= warmup { times.append(Double(elapsed) / 1000) }
        }
        times.sort()
        return Latencies(median: times[times.count / 2], p99: times[min(times.count - 1, times.count * 99 / 100)])
    }

    /// A push of `count` trips of random drivers in the last hour.
    static func trips(count: Int, seed: UInt64, drivers: Int, now: Int64) -> PushRequest {
        var ids: [ScalarValue] = []
        var times: [ScalarValue] = []
        var fares: [ScalarValue] = []
        var riders: [ScalarValue] = []
        for i in 0..<count {
            let r = Workload.random(seed, 77, UInt64(i))
            ids.append(.int64(Int64(r % UInt64(drivers))))
            times.append(.timestamp(Timestamp(microseconds: now - Int64((r >> 20) % 3_600) * 1_000_000)))
            fares.append(.float64(Double(200 + (r >> 33) % 7800) / 100))
            riders.append(.int64(Int64((r >> 45) % 100_000)))
        }
        return PushRequest(
            source: "trips_push",
            columns: [
                ("trip_id", ids), ("driver_id", ids), ("rider_id", riders), ("event_timestamp", times), ("fare", fares),
                ("distance_km", fares), ("status", Array(repeating: .string("completed"), count: count)),
            ])
    }

    /// Pushes `events` trips in batches of `batch`, then folds what is still pending into the
    /// stored states: the push rate, the fold's time and the rate over both (sustained).
    static func pushRate(
        _ store: FeatureStore, lookup: FeatureLookup, batch: Int, events: Int, drivers: Int, now: Int64
    ) throws -> (pushes: Double, fold: Double, sustained: Double) {
        let requests = (0..<max(1, events / batch)).map {
            trips(count: batch, seed: UInt64(batch * 1_000_003 + $0), drivers: drivers, now: now)
        }
        let seconds = try Measure.seconds {
            for request in requests { _ = try store.push(request, to: .online, lookup: lookup) }
        }
        let fold = try Measure.seconds { try lookup.foldPending(wait: true) }
        let count = Double(requests.count * batch)
        return (count / seconds, fold, count / (seconds + fold))
    }

    static func pushLatency(_ store: FeatureStore, lookup: FeatureLookup, drivers: Int, now: Int64) throws -> Double {
        var times: [Double] = []
        for i in 0..<2_000 {
            let request = trips(count: 1, seed: 0xF4E5 &+ UInt64(i), drivers: drivers, now: now)
            let driver = request.columns[1].values[0]
            let start = MonotonicClock.nanoseconds()
            _ = try store.push(request, to: .online, lookup: lookup)
            let response = try lookup.onlineFeatures(
                LookupRequest(features: .references(["driver_trip_aggs:count_7d"]), entities: [("driver_id", [driver])])
            )
            times.append(Double(MonotonicClock.nanoseconds() &- start) / 1000)
            guard case .int64(let n)? = response.vector(named: "count_7d")?.values.first, n > 0 else {
                throw OnlineStoreError(.io, "a pushed trip was not served")
            }
        }
        times.sort()
        return times[times.count / 2]
    }
}
