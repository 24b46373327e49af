import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraRegistry
import TesseraServer
import TesseraWorkload

/// Online serving against its peers, on WORKLOAD.md's data: loading the store, in-process
/// lookups (beside Feast's `get_online_features`), and HTTP under `wrk` (beside
/// `feast serve` and `redis-benchmark`), all in one run.
public enum OnlineBenchmark {
    public struct Options: Sendable {
        /// The workload whose newest row per driver fills the store (default M: 1M drivers).
        public var workload = Workload(rows: 10_000_000)
        public var wrkSeconds = 20
        /// wrk runs per configuration and server (alternating); the median is reported.
        public var repeats = 1
        public var connections = [2, 16]
        public var entitiesPerRequest = [1, 100]
        /// Timed in-process lookups of one entity.
        public var lookups = 200_000
        /// Drivers written to Feast's online store (its writes are slow; reads pick among them).
        public var feastDrivers = 100_000
        /// A Python with `feast` installed; `nil` skips Feast.
        public var feastPython: String? = "/work/feastvenv/bin/python"
        public var feastWorkers = 1
        /// Run the HTTP figures (wrk, Redis, feast serve).
        public var http = true
        /// Serve with an API key required, and send it (the target is measured with it on).
        public var authentication = true
        /// Serve from the embedded store or from a redis-server the benchmark starts.
        public var onlineStore = MaterializeBenchmark.Store.sqlite
        public var progress: @Sendable (String) -> Void = { _ in }

        public init() {}
    }

    /// A named WORKLOAD.md size.
    public static func workload(named name: String) -> Workload? { Workload.named(name) }

    /// The end of the workload's event times: lookups run "now" there, so the 2-day ttl
    /// keeps most rows servable (the data is from January 2026).
    static let workloadNow = Timestamp(microseconds: Workload.defaultStart + 30 * 86_400_000_000)

    static let definitions = Definitions(
        entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])],
        sources: [
            DataSource(
                name: "driver_stats", kind: .file(path: "data/driver_stats.parquet", format: .parquet),
                timestampField: "event_timestamp", createdTimestampField: "created")
        ],
        featureViews: [
            FeatureView(
                name: "driver_hourly_stats", entities: ["driver"], source: "driver_stats",
                features: [
                    Feature("conv_rate", .float32), Feature("acc_rate", .float32), Feature("avg_daily_trips", .int32),
                ],
                ttl: .days(2))
        ])

    public static func run(options: Options) async throws -> BenchmarkReport {
        let folder = NSTemporaryDirectory() + "tessera-bench-online-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/.tessera", withIntermediateDirectories: true)
        var redis: RedisServer?
        if options.onlineStore == .redis { redis = try RedisServer.start() }
        defer { redis?.stop() }
        let postgres = options.onlineStore == .postgres ? try PostgresBenchServer.start() : nil
        defer { postgres?.stop() }
        // The workload's times are from January: Redis keys must not expire by today's clock.
        let config =
            redis.map {
                "project: bench\nonline_store: {type: redis, url: \"redis://127.0.0.1:\($0.port)/0\", connections: 16, expire_keys: false}\n"
            } ?? postgres.map {
                "project: bench\nonline_store: {type: postgres, url: \"\($0.url)\", connections: 16}\n"
            }
            ?? "project: bench\n"
        try config.write(toFile: folder + "/tessera.yaml", atomically: true, encoding: .utf8)
        let featureStore = try FeatureStore.open(folder)
        _ = try featureStore.registry.with { (registry) throws(RegistryError) in
            try registry.apply(
                definitions, plan: Plan(from: Definitions(), to: definitions), project: "bench", user: "bench",
                expectedVersion: nil, at: workloadNow)
        }
        let workload = options.workload
        var report = BenchmarkReport(
            title:
                "online (\(options.onlineStore.rawValue) store): \(workload.rows) driver_stats rows → \(workload.entities) drivers, view driver_hourly_stats"
        )

        options.progress("generating the workload's newest row per driver…")
        let batch = try newestRows(workload)
        options.progress("loading \(batch.count) drivers into the online store…")
        let store = try featureStore.onlineStore()
        let loadSeconds = try Measure.seconds { try store.write(batch) }

        var feast: FeastFigures?
        if let python = options.feastPython, FileManager.default.isExecutableFile(atPath: python) {
            options.progress("Feast: writing \(options.feastDrivers) drivers and timing get_online_features…")
            feast = try? FeastPeer.setUp(
                python: python, folder: folder + "/feast", workload: workload, drivers: options.feastDrivers,
                extra: postgres.map { ["--postgres", String($0.port), $0.password] } ?? [])
            if feast == nil {
                report.notes.append("Feast could not be set up with \(python); its figures are missing.")
            }
        }
        report.figures.append(
            BenchmarkFigure(
                task: "load the online store (\(batch.count) drivers)", metric: "rows/s",
                tessera: Double(batch.count) / loadSeconds,
                peer: feast.map { Double($0.rowsWritten) / $0.writeSeconds },
                peerName: feast.map { _ in "Feast write_to_online_store" }, higherIsBetter: true,
                target: String(
                    format: "%.2f s for 1M: well under a few seconds", loadSeconds * 1_000_000 / Double(batch.count))))

        var configuration = FeatureLookup.Configuration()
        configuration.now = { workloadNow }
        let lookup = try featureStore.lookup(configuration: configuration)
        options.progress("in-process lookups…")
        // Three rounds, the median round reported: the machine is shared and its load drifts.
        let one = try (0..<3).map { _ in
            try timeLookups(lookup, entities: 1, count: options.lookups, drivers: workload.entities)
        }.sorted { $0.median < $1.median }[1]
        let hundred = try timeLookups(
            lookup, entities: 100, count: max(1, options.lookups / 100), drivers: workload.entities)
        let peerName = "Feast get_online_features (\(options.onlineStore.peerName))"
        let target =
            switch options.onlineStore {
            case .sqlite: "≤ 5 µs"
            case .redis: "one round trip to Redis"
            case .postgres: "≥ 10× Feast"
            }
        report.figures.append(
            BenchmarkFigure(
                task: "in-process lookup, 1 entity", metric: "median µs", tessera: one.median,
                peer: feast?.lookup1Median, peerName: feast.map { _ in peerName }, target: target))
        report.figures.append(
            BenchmarkFigure(
                task: "in-process lookup, 1 entity", metric: "p99 µs", tessera: one.p99, peer: feast?.lookup1P99,
                peerName: feast.map { _ in peerName }))
        report.figures.append(
            BenchmarkFigure(
                task: "in-process lookup, 100 entities", metric: "median µs", tessera: hundred.median,
                peer: feast?.lookup100Median, peerName: feast.map { _ in peerName },
                target: options.onlineStore == .postgres ? "≥ 10× Feast" : nil))

        if options.onlineStore == .postgres && options.http {
            report.notes.append(
                "HTTP figures are measured with the sqlite and redis stores; this run times the PostgreSQL store in process."
            )
        }
        if options.onlineStore == .sqlite {
            try JSONParseBenchmark.run(report: &report)
            try alternativeLayout(batch: batch, folder: folder, workload: workload, report: &report)
        }

        if options.http && options.onlineStore != .postgres {
            try await HTTPBenchmark.run(
                store: featureStore, options: options, feast: feast, folder: folder, redisPort: redis?.port,
                report: &report)
        }
        return report
    }

    /// The newest row (greatest event, then created; later row on ties) of every driver.
    static func newestRows(_ workload: Workload) throws -> OnlineWriteBatch {
        let drivers = workload.entities
        var event = [Int64](repeating: .min, count: drivers)
        var created = [Int64](repeating: .min, count: drivers)
        var conv = [Float](repeating: 0, count: drivers)
        var acc = [Float](repeating: 0, count: drivers)
        var trips = [Int32](repeating: 0, count: drivers)
        for range in workload.driverStatsBatches() {
            let rows = workload.driverStats(range)
            guard case .int64(let ids) = rows.columns[0].data, case .int64(let events) = rows.columns[1].data,
                case .int64(let createds) = rows.columns[2].data, case .float32(let convs) = rows.columns[3].data,
                case .float32(let accs) = rows.columns[4].data, case .int32(let tripss) = rows.columns[5].data
            else { continue }
            for i in 0..<ids.count {
                let d = Int(ids[i])
                if (events[i], createds[i]) >= (event[d], created[d]) {
                    event[d] = events[i]
                    created[d] = createds[i]
                    conv[d] = convs[i]
                    acc[d] = accs[i]
                    trips[d] = tripss[i]
                }
            }
        }
        let seen = (0..<drivers).filter { event[$0] != .min }
        return try OnlineWriteBatch(
            view: "driver_hourly_stats", joinKeys: [.int64(seen.map(Int64.init))],
            eventTimestamps: .timestamp(seen.map { event[$0] }),
            createdTimestamps: .timestamp(seen.map { created[$0] }),
            features: [
                ("conv_rate", .float32(seen.map { conv[$0] })), ("acc_rate", .float32(seen.map { acc[$0] })),
                ("avg_daily_trips", .int32(seen.map { trips[$0] })),
            ])
    }

    struct Latencies {
        var median: Double
        var p99: Double
    }

    /// Times `count` lookups of `entities` random drivers each, one by one (µs).
    static func timeLookups(_ lookup: FeatureLookup, entities: Int, count: Int, drivers: Int) throws -> Latencies {
        var state: UInt64 = 0x5EED
        func next() -> Int64 {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            return Int64(Workload.random(7, 9, state) % UInt64(drivers))
        }
        let features = LookupRequest.Features.references([
            "driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips",
        ])
        var times: [Double] = []
        times.reserveCapacity(count)
        let warmup = max(100, count / 10)
        for i in 0..<(count + warmup) {
            let request = LookupRequest(
                features: features, entities: [("driver_id", (0..<entities).map { _ in .int64(next()) })])
            let start = DispatchTime.now().uptimeNanoseconds
            let response = try lookup.onlineFeatures(request)
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            guard response.results.count == 4 else { throw OnlineStoreError(.io, "a lookup returned the wrong shape") }
            if i >= warmup { times.append(Double(elapsed) / 1000) }
        }
        times.sort()
        return Latencies(median: times[times.count / 2], p99: times[min(times.count - 1, times.count * 99 / 100)])
    }

    /// The measured alternative: the same load and lookups on a rowid table with a key index.
    static func alternativeLayout(
        batch: OnlineWriteBatch, folder: String, workload: Workload, report: inout BenchmarkReport
    ) throws {
        // The same registry, another online store file: chosen in tessera.yaml, as a user would.
        let other = folder + "/rowid"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try """
        project: bench
        registry: ../.tessera/registry.db
        online_store: {type: sqlite, path: ../.tessera/online-rowid.db, table_layout: rowid}

        """.write(toFile: other + "/tessera.yaml", atomically: true, encoding: .utf8)
        let featureStore = try FeatureStore.open(other)
        let store = try featureStore.onlineStore()
        let seconds = try Measure.seconds { try store.write(batch) }
        var lookupConfiguration = FeatureLookup.Configuration()
        lookupConfiguration.now = { workloadNow }
        let lookup = try featureStore.lookup(configuration: lookupConfiguration)
        let one = try timeLookups(lookup, entities: 1, count: 100_000, drivers: workload.entities)
        func megabytes(_ path: String) -> Double {
            // The database and its WAL: right after a load most pages are still in the WAL.
            let sizes = [path, path + "-wal"].map {
                (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0
            }
            return Double(sizes.reduce(0, +)) / 1e6
        }
        let size = megabytes(folder + "/.tessera/online-rowid.db")
        let clusteredSize = megabytes(folder + "/.tessera/online.db")
        report.notes.append(
            String(
                format:
                    "Alternative layout (rowid table + unique key index): load %.0f rows/s, 1-entity lookup median %.2f µs, p99 %.2f µs; file %.0f MB (clustered WITHOUT ROWID: %.0f MB).",
                Double(batch.count) / seconds, one.median, one.p99, size, clusteredSize))
    }
}
