import Foundation
import Synchronization
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOffline
import TesseraRegistry
import TesseraTesting
import Testing

/// Online = offline for window aggregations: the same events reach the online state by
/// batch materialization, by pushes (in random order, so many arrive late), or by a mix,
/// and every function's served value at many read times equals, to the bit, what a
/// training set computes for an entity row at that time — for a view whose filter and
/// expression inputs apply to the events too.
@Suite(.serialized) struct AggregationReplayTests {
    static let hour: Int64 = 3_600_000_000
    static let base: Int64 = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z

    static let functions = [
        "count", "sum", "mean", "min", "max", "first", "last", "last_n(3)", "var", "stddev", "approx_count_distinct",
        "approx_percentile(0.5)", "approx_percentile(0.9)",
    ]

    static var definitions: String {
        """
        entities:
          - name: driver
            join_keys: {driver_id: int64}
        sources:
          - name: trips
            path: data/trips.parquet
            timestamp_field: ts
          - name: trips_push
            type: push
            batch_source: trips
        feature_views:
          - name: aggs
            entities: [driver]
            source: trips_push
            aggregations:
              - function: count
                windows: [1h, 1d, 3d]
              - column: fare
                functions: [\(functions.joined(separator: ", "))]
                windows: [1h, 1d, 3d]
              - column: n
                functions: [count, sum, mean, min, max, last_n(2), approx_count_distinct, approx_percentile(0.5)]
                windows: [1h, 3d]
              - column: rider
                functions: [min, max, first, last, approx_count_distinct]
                windows: [1d]
          # A filter and an expression input: pushes must drop and compute what training sets do.
          - name: filtered
            entities: [driver]
            source: trips_push
            filter: "n IS NULL OR n >= 0"
            aggregations:
              - function: count
                name: "kept_{function}_{window}"
                windows: [1h, 1d]
              - expression: "fare * 2 + coalesce(n, 0)"
                name: "e_{function}_{window}"
                functions: [sum, mean, max, last]
                windows: [1h, 3d]
          # Lifetime windows: states fold the rows older than 2h before now into running
          # aggregates (most of the events, as writes happen at day 2).
          - name: lifelong
            entities: [driver]
            source: trips_push
            aggregations:
              - function: count
                name: "l_{function}_{window}"
                windows: [2h, lifetime]
              - column: fare
                name: "l_{column}_{function}_{window}"
                functions: [\(functions.joined(separator: ", "))]
                windows: [lifetime]
              - column: n
                name: "l_{column}_{function}_{window}"
                functions: [count, sum, mean, min, max, first, last_n(2), approx_count_distinct, approx_percentile(0.5)]
                windows: [lifetime]
              - column: rider
                name: "l_{column}_{function}_{window}"
                functions: [min, max, first, last, last_n(2), approx_count_distinct]
                windows: [lifetime]

        """
    }

    struct Event {
        var driver: Int64
        var time: Int64
        var fare: Double?
        var n: Int64?
        var rider: String?
    }

    static func events(seed: UInt64, count: Int) -> [Event] {
        var rng = SplitMixRNG(seed: seed)
        return (0..<count).map { _ in
            // Whole minutes over 3 days, so equal times (and exact window edges) are common.
            let time = base + Int64(rng.below(3 * 24 * 60)) * 60_000_000
            let fareKind = rng.below(10)
            let fare: Double? =
                fareKind == 0
                ? nil : fareKind == 1 ? -0.0 : Double(rng.below(100_000)) / 100 * (fareKind == 2 ? 1e-3 : 1)
            return Event(
                driver: Int64(rng.below(6)), time: time, fare: fare,
                n: rng.below(8) == 0 ? nil : Int64(rng.below(1000)) - 200,
                rider: rng.below(8) == 0 ? nil : "r\(rng.below(40))")
        }
    }

    static func columns(_ events: [Event]) -> [(name: String, values: [ScalarValue])] {
        [
            ("driver_id", events.map { .int64($0.driver) }),
            ("ts", events.map { .timestamp(Timestamp(microseconds: $0.time)) }),
            ("fare", events.map { $0.fare.map(ScalarValue.float64) ?? .null }),
            ("n", events.map { $0.n.map(ScalarValue.int64) ?? .null }),
            ("rider", events.map { $0.rider.map(ScalarValue.string) ?? .null }),
        ]
    }

    static func writeParquet(_ events: [Event], to path: String) throws {
        let cols = columns(events)
        let batch = try RecordBatch(
            schema: Schema([
                Field("driver_id", .int64), Field("ts", .timestamp), Field("fare", .float64), Field("n", .int64),
                Field("rider", .string),
            ]),
            columns: [
                Column(type: .int64, scalars: cols[0].values) ?? Column(empty: .int64),
                Column(type: .timestamp, scalars: cols[1].values) ?? Column(empty: .timestamp),
                Column(type: .float64, scalars: cols[2].values) ?? Column(empty: .float64),
                Column(type: .int64, scalars: cols[3].values) ?? Column(empty: .int64),
                Column(type: .string, scalars: cols[4].values) ?? Column(empty: .string),
            ])
        let writer = try ParquetWriter(path: path, schema: batch.schema)
        try writer.write(batch)
        try writer.close()
    }

    enum Route: String, CaseIterable, Sendable {
        case batch, pushes, mix
    }

    /// Runs one route: a repository whose file holds the batch part, the rest pushed, then
    /// lookups at many times compared with training sets at those times.
    /// - Parameter foldRows: pushed rows pending before a push folds them into the states
    ///   (small: many folds between pushes and reads).
    /// Where the repository keeps its registry and online state.
    enum Stores {
        case memory
        /// The embedded SQLite files (the default).
        case sqlite
        /// The embedded registry and a redis-server on this port, keys under the prefix.
        case redis(port: Int, prefix: String)
        /// The embedded registry and a Redis Cluster of these nodes.
        case redisCluster(ports: [Int], prefix: String)

        var config: String {
            switch self {
            case .memory: "project: replay\nregistry: {type: memory}\nonline_store: {type: memory}\n"
            case .sqlite: "project: replay\n"
            // The test's clock is not the wall clock: keys must not expire by it.
            case .redis(let port, let prefix):
                "project: replay\nonline_store: {type: redis, url: \"redis://127.0.0.1:\(port)/0\", key_prefix: \(prefix), expire_keys: false}\n"
            case .redisCluster(let ports, let prefix):
                "project: replay\nonline_store: {type: redis, cluster: [\(ports.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))], key_prefix: \(prefix), expire_keys: false}\n"
            }
        }

        /// Whether a second process can open the same stores.
        var shared: Bool {
            if case .memory = self { return false }
            return true
        }
    }

    static func replay(_ route: Route, seed: UInt64, sqlite: Bool, foldRows: Int? = nil) throws {
        try replay(route, seed: seed, stores: sqlite ? .sqlite : .memory, foldRows: foldRows)
    }

    static func replay(_ route: Route, seed: UInt64, stores: Stores, foldRows: Int? = nil) throws {
        let dir = try TemporaryDirectory("aggregation-replay")
        defer { dir.remove() }
        let all = events(seed: seed, count: 400)
        var rng = SplitMixRNG(seed: seed &+ 99)
        let batchPart: [Event]
        var pushed: [Event]
        switch route {
        case .batch: (batchPart, pushed) = (all, [])
        case .pushes: (batchPart, pushed) = ([], all)
        case .mix: (batchPart, pushed) = (Array(all.prefix(200)), Array(all.suffix(200)))
        }
        // Pushes in random order: many arrive after rows with later event times (late events).
        for i in pushed.indices.reversed() { pushed.swapAt(i, rng.below(i + 1)) }
        try dir.write("tessera.yaml", stores.config)
        try dir.write("features/aggs.yaml", definitions)
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        try writeParquet(batchPart, to: dir.file("data/trips.parquet"))

        // The clock: writes happen at day 2; reads at day 2 and later.
        let clock = Mutex<Int64>(base + 48 * hour)
        var configuration = FeatureStore.Configuration()
        configuration.now = { Timestamp(microseconds: clock.withLock { $0 }) }
        if let foldRows {
            var settings = PendingStates.Settings()
            settings.foldRows = foldRows
            configuration.pendingStates = settings
        }
        let store = try FeatureStore.open(dir.path, backends: .withMemory, configuration: configuration)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        if route != .pushes {
            _ = try store.materialize(
                MaterializeRequest(
                    .range(start: Timestamp(microseconds: 0), end: Timestamp(microseconds: base + 96 * hour))))
        }
        var at = 0
        while at < pushed.count {
            let part = Array(pushed[at..<min(pushed.count, at + 1 + rng.below(30))])
            at += part.count
            let request = PushRequest(source: "trips_push", columns: columns(part))
            _ = try store.push(request, to: .onlineAndOffline)
            // A client's retry of the same push changes nothing, online or offline.
            if rng.below(4) == 0 { _ = try store.push(request, to: .onlineAndOffline) }
        }
        if route == .mix {
            // A rebuild after the pushes: the source holds the pushed rows too (they went offline
            // as well), so the logged ones must not be merged again.
            _ = try store.materialize(
                MaterializeRequest(
                    .range(start: Timestamp(microseconds: 0), end: Timestamp(microseconds: base + 96 * hour))))
        }
        // Another process on the same file replays the log of pushes it did not make.
        let other = stores.shared ? try FeatureStore.open(dir.path, configuration: configuration) : nil

        let definitions = try store.applied().definitions
        let aggs = definitions.featureView("aggs")?.features.map(\.name) ?? []
        #expect(aggs.count == 3 + 13 * 3 + 8 * 2 + 5)
        let filtered = definitions.featureView("filtered")?.features.map(\.name) ?? []
        #expect(filtered.count == 2 + 4 * 2)
        let lifelong = definitions.featureView("lifelong")?.features.map(\.name) ?? []
        #expect(lifelong.count == 2 + 13 + 9 + 6)
        let names = aggs + filtered + lifelong
        let references =
            aggs.map { "aggs:\($0)" } + filtered.map { "filtered:\($0)" } + lifelong.map { "lifelong:\($0)" }
        let drivers: [Int64] = [0, 1, 2, 3, 4, 5, 77]
        // Read times: the write time, event times and their neighbours, and later instants.
        var times: [Int64] = [base + 48 * hour, base + 60 * hour, base + 72 * hour, base + 200 * hour]
        for event in all.shuffled(using: &rng).prefix(12) where event.time >= base + 48 * hour {
            times += [event.time, event.time + 1, event.time - 1 + 3_600_000_000, event.time + 86_400_000_000]
        }
        var compared = 0
        var present = 0
        for t in times where t >= base + 48 * hour {
            clock.withLock { $0 = t }
            let request = LookupRequest(
                features: .references(references), entities: [("driver_id", drivers.map { .int64($0) })])
            let online = try store.onlineFeatures(request)
            if let other {
                let seen = try other.onlineFeatures(request)
                for name in names {
                    let a = online.vector(named: name)?.values ?? []
                    let b = seen.vector(named: name)?.values ?? []
                    #expect(
                        a.count == b.count && zip(a, b).allSatisfy { Self.sameBits($0, $1) },
                        "\(route) seed \(seed): \(name) read by another process: \(b), not \(a)")
                }
            }
            let spine = try RecordBatch([
                "driver_id": .int64(drivers), "event_timestamp": .timestamp(Array(repeating: t, count: drivers.count)),
            ])
            let offline = try store.trainingSet(
                TrainingSetRequest(
                    spine: .entities(spine, name: "spine"), selection: .features(["aggs", "filtered", "lifelong"]))
            ).batch
            for name in names {
                let served = online.vector(named: name)?.values ?? []
                let computed = offline.column(named: name)
                for (row, driver) in drivers.enumerated() {
                    let a = served.indices.contains(row) ? served[row] : .null
                    let b = computed?.value(at: row) ?? .null
                    #expect(
                        Self.sameBits(a, b),
                        "\(route) seed \(seed): \(name) for driver \(driver) at t = base + \(Double(t - base) / Double(hour))h: online \(a), training set \(b)"
                    )
                    compared += 1
                    if b != .null && b != .int64(0) { present += 1 }
                }
            }
        }
        #expect(compared > 1000)
        #expect(present > compared / 3, "\(present) of \(compared) values were neither null nor 0")
    }

    /// Equal values with equal bits (so 0.0 and -0.0, or two roundings of a sum, differ).
    static func sameBits(_ a: ScalarValue, _ b: ScalarValue) -> Bool {
        switch (a, b) {
        case (.float64(let x), .float64(let y)): x.bitPattern == y.bitPattern
        case (.list(let x), .list(let y)): x.count == y.count && zip(x, y).allSatisfy { sameBits($0, $1) }
        default: a == b
        }
    }

    @Test(arguments: Route.allCases)
    func onlineEqualsOffline(_ route: Route) async throws {
        try await runOffPool {
            for seed in [1, 2, 3] as [UInt64] { try Self.replay(route, seed: seed, sqlite: false) }
            try Self.replay(route, seed: 4, sqlite: true)
            // Folds between pushes, through either store.
            try Self.replay(route, seed: 5, sqlite: false, foldRows: 37)
            try Self.replay(route, seed: 6, sqlite: true, foldRows: 23)
        }
    }

    /// The same through a Redis online store (states merged in place by each push; a second
    /// process reads them from the server).
    @Test(arguments: Route.allCases)
    func onlineEqualsOfflineThroughRedis(_ route: Route) async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let port = server.port
        try await runOffPool {
            for seed in [7, 8] as [UInt64] {
                try Self.replay(route, seed: seed, stores: .redis(port: port, prefix: "seed\(seed)"))
            }
        }
    }

    /// And through a Redis Cluster (states merged per slot, each with its compare-and-set).
    @Test func onlineEqualsOfflineThroughARedisCluster() async throws {
        let cluster = try RedisClusterProcess()
        defer { cluster.stop() }
        let ports = cluster.ports
        try await runOffPool {
            for route in Route.allCases {
                try Self.replay(route, seed: 9, stores: .redisCluster(ports: ports, prefix: "r-\(route)"))
            }
        }
    }

    /// A view an apply drops loses its pushed rows too: re-created, it serves no rows until
    /// materialized, in the process that pushed as in a new one.
    @Test func aDroppedViewForgetsItsPushedRows() throws {
        let dir = try TemporaryDirectory("aggregation-drop")
        defer { dir.remove() }
        try dir.write("tessera.yaml", "project: drop\n")
        try dir.write("features/aggs.yaml", Self.definitions)
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        try Self.writeParquet([], to: dir.file("data/trips.parquet"))
        let clock = Mutex<Int64>(Self.base + 48 * Self.hour)
        var configuration = FeatureStore.Configuration()
        configuration.now = { Timestamp(microseconds: clock.withLock { $0 }) }
        let store = try FeatureStore.open(dir.path, configuration: configuration)
        _ = try store.apply(try store.repository(), allowBreaking: false)
        let events = (0..<3).map {
            Event(driver: 1, time: Self.base + 47 * Self.hour + Int64($0), fare: 2, n: 1, rider: "r")
        }
        _ = try store.push(PushRequest(source: "trips_push", columns: Self.columns(events)), to: .online)
        func count(_ store: FeatureStore) throws -> ScalarValue? {
            try store.onlineFeatures(
                LookupRequest(features: .references(["aggs:count_1d"]), entities: [("driver_id", [.int64(1)])])
            ).vector(named: "count_1d")?.values.first
        }
        #expect(try count(store) == .int64(3))
        // Drop the view, then bring it back without materializing.
        let without = Self.definitions.replacingOccurrences(of: "  - name: aggs\n", with: "  - name: aggs_gone\n")
        try dir.write("features/aggs.yaml", without)
        _ = try store.apply(try store.repository(), allowBreaking: true)
        try dir.write("features/aggs.yaml", Self.definitions)
        _ = try store.apply(try store.repository(), allowBreaking: true)
        #expect(try count(store) == .int64(0), "the process that pushed")
        #expect(try count(try FeatureStore.open(dir.path, configuration: configuration)) == .int64(0), "a new process")
    }
}
