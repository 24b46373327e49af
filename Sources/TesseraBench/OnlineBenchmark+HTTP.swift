import Foundation
import Logging
import TesseraApp
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraServer
import TesseraWorkload

/// The HTTP figures: `tessera serve` (in this process) and `feast serve` under the same wrk
/// load, and `redis-benchmark` GET as the ceiling for a lookup over loopback.
enum HTTPBenchmark {
    struct WrkResult {
        var requestsPerSecond: Double
        var p99Milliseconds: Double
        var errors: Int
    }

    /// `tessera serve` for `store` in this process on a free port (quiet); cancel the task to stop it.
    static func serve(_ store: FeatureStore) async throws -> (port: Int, task: Task<Void, any Error>) {
        var configuration = FeatureServer.Configuration()
        configuration.port = 0
        configuration.logLevel = .critical
        let server = try FeatureServer(store: store, configuration: configuration)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run { continuation.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            serving.cancel()
            throw OnlineStoreError(.io, "the server did not start")
        }
        return (port, serving)
    }

    /// - Parameter redisPort: the redis-server the store serves from, if it does: the ceiling
    ///   is measured on it (else on a server of its own).
    static func run(
        store: FeatureStore, options: OnlineBenchmark.Options, feast: FeastFigures?, folder: String,
        redisPort: Int? = nil, report: inout BenchmarkReport
    ) async throws {
        guard let wrk = Processes.which("wrk") else {
            report.notes.append("wrk is not installed (apt-get install wrk): no HTTP figures.")
            return
        }
        let drivers = options.workload.entities
        // Tessera, in process.
        var configuration = FeatureServer.Configuration()
        configuration.port = 0
        configuration.logLevel = .critical
        configuration.now = { OnlineBenchmark.workloadNow }
        // With authentication on, as a server exposed to a network runs: every request carries a key.
        let key = "tsk_bench_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        if options.authentication {
            var digest = SHA256()
            digest.update(key)
            configuration.apiKeys = [APIKey(name: "bench", role: .reader, sha256: SHA256.hexString(digest.finalize()))]
        }
        let server = try FeatureServer(store: store, configuration: configuration)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run { continuation.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw PeerError(description: "the server did not start") }
        defer { serving.cancel() }

        // Feast, started up front so each configuration runs on both servers back to back:
        // the shared machine's load drifts, and interleaving keeps the ratio fair.
        var feastPort: Int?
        var feastProcess: Process?
        if let feast {
            let feastBinary = URL(fileURLWithPath: feast.python).deletingLastPathComponent()
                .appendingPathComponent("feast").path
            let port = LoopbackPort.free()
            feastProcess = try Processes.start(
                feastBinary,
                [
                    "serve", "-p", String(port), "--no-access-log", "--max-requests", "0", "-w",
                    String(options.feastWorkers),
                ],
                directory: feast.repository)
            if await Processes.waitForHTTP("http://127.0.0.1:\(port)/health", seconds: 120) {
                feastPort = port
            } else {
                report.notes.append("feast serve did not become healthy within 120 s; no Feast HTTP figures.")
            }
        }
        defer { feastProcess.map(Processes.stop) }

        var tessera: [String: WrkResult] = [:]
        var feastResults: [String: WrkResult] = [:]
        for entities in options.entitiesPerRequest {
            let script = try writeScript(
                folder: folder, entities: entities, drivers: drivers, key: options.authentication ? key : nil)
            let feastScript = try feast.map { try writeScript(folder: folder, entities: entities, drivers: $0.drivers) }
            for connections in options.connections {
                // Each configuration runs `repeats` times on both servers, alternating; the
                // median run (by requests/s) of each is reported.
                var ours: [WrkResult] = []
                var theirs: [WrkResult] = []
                for round in 1...max(1, options.repeats) {
                    options.progress(
                        "wrk: tessera serve, \(entities) entities, \(connections) connections (round \(round))…")
                    ours.append(
                        try measure(
                            wrk, port: port, script: script, connections: connections, seconds: options.wrkSeconds))
                    if let feastPort, let feastScript {
                        options.progress(
                            "wrk: feast serve, \(entities) entities, \(connections) connections (round \(round))…")
                        theirs.append(
                            try measure(
                                wrk, port: feastPort, script: feastScript, connections: connections,
                                seconds: options.wrkSeconds))
                    }
                }
                tessera["\(entities)/\(connections)"] = median(ours)
                if !theirs.isEmpty { feastResults["\(entities)/\(connections)"] = median(theirs) }
            }
        }

        // Redis GET, the ceiling.
        var redis: [Int: (Double, Double)] = [:]
        if Processes.which("redis-server") != nil, let bench = Processes.which("redis-benchmark") {
            // The store's own server, or one of the benchmark's.
            let own = redisPort == nil ? try RedisServer.start() : nil
            defer { own?.stop() }
            let port = redisPort ?? own?.port ?? 0
            for connections in options.connections {
                options.progress("redis-benchmark GET, \(connections) connections…")
                let csv = try Processes.run(
                    bench, ["-p", String(port), "-t", "get", "-n", "400000", "-c", String(connections), "--csv"])
                if let figures = parseRedisCSV(csv) { redis[connections] = figures }
            }
        }

        for entities in options.entitiesPerRequest {
            for connections in options.connections {
                guard let ours = tessera["\(entities)/\(connections)"] else { continue }
                let theirs = feastResults["\(entities)/\(connections)"]
                let task = "HTTP, \(entities) entit\(entities == 1 ? "y" : "ies")/request, \(connections) connections"
                let isTarget = entities == 1 && connections == 16
                report.figures.append(
                    BenchmarkFigure(
                        task: task, metric: "req/s", tessera: ours.requestsPerSecond, peer: theirs?.requestsPerSecond,
                        peerName: theirs.map { _ in "feast serve" }, higherIsBetter: true,
                        target: isTarget && redisPort == nil ? "≥ 40× feast serve" : nil))
                report.figures.append(
                    BenchmarkFigure(
                        task: task, metric: "p99 ms", tessera: ours.p99Milliseconds, peer: theirs?.p99Milliseconds,
                        peerName: theirs.map { _ in "feast serve" },
                        target: isTarget ? (redisPort == nil ? "≤ 1 ms" : "≤ 2 ms") : nil))
                if ours.errors > 0 || (theirs?.errors ?? 0) > 0 {
                    report.notes.append(
                        "\(task): wrk counted \(ours.errors) errors for tessera, \(theirs?.errors ?? 0) for feast.")
                }
                if entities == 1, let (rps, p99) = redis[connections] {
                    report.figures.append(
                        BenchmarkFigure(
                            task: "\(task), against the ceiling", metric: "req/s", tessera: ours.requestsPerSecond,
                            peer: rps, peerName: "redis-benchmark GET", higherIsBetter: true,
                            target: (redisPort == nil ? "≥ 0.5×" : "≥ 0.3×")
                                + String(format: " (Redis p99 %.3f ms)", p99)))
                }
            }
        }
        if let feast {
            report.notes.append(
                "Feast held \(feast.drivers) drivers (its online writes are slow); Tessera held \(drivers). wrk -t2 for \(options.wrkSeconds) s per run; each request asks for conv_rate, acc_rate and avg_daily_trips of random drivers\(options.authentication ? ", with an API key (authentication on)" : "")."
            )
        }
    }

    static func median(_ runs: [WrkResult]) -> WrkResult? {
        let sorted = runs.sorted { $0.requestsPerSecond < $1.requestsPerSecond }
        return sorted.isEmpty ? nil : sorted[sorted.count / 2]
    }

    /// A wrk script posting Feast-style requests for `entities` random drivers (1000 bodies, cycled).
    static func writeScript(
        folder: String, entities: Int, drivers: Int, key: String? = nil,
        features: [String] = [
            "driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips",
        ], requestField: String? = nil
    ) throws -> String {
        let list = features.map { "\"\($0)\"" }.joined(separator: ",")
        let path =
            folder
            + "/wrk-\(entities)-\(drivers)-\(String(SHA256.hex(list + (requestField ?? "")).prefix(8)))\(key == nil ? "" : "-auth").lua"
        // A request field for on-demand features: a random amount per entity row, beside the keys.
        let extra =
            requestField.map { #",\"\#($0)\":[' .. table.concat(amounts, ",") .. ']"# } ?? ""
        let headers =
            key.map { #"{["Content-Type"] = "application/json", ["Authorization"] = "Bearer \#($0)"}"# }
            ?? #"{["Content-Type"] = "application/json"}"#
        let script = """
            local bodies = {}
            local n = 0
            function init(args)
              math.randomseed(\(entities * 7919 + drivers))
              for i = 1, 1000 do
                local ids = {}
                local amounts = {}
                for k = 1, \(entities) do
                  ids[k] = math.random(0, \(max(1, drivers) - 1))
                  amounts[k] = string.format("%.2f", 5 + math.random() * 75)
                end
                bodies[i] = wrk.format("POST", "/get-online-features", \(headers),
                  '{"features":[\(list)],"entities":{"driver_id":[' .. table.concat(ids, ",") .. ']\(extra)}}')
              end
            end
            function request()
              n = n % 1000 + 1
              return bodies[n]
            end
            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func measure(_ wrk: String, port: Int, script: String, connections: Int, seconds: Int) throws -> WrkResult {
        let output = try Processes.run(
            wrk,
            [
                "-t", String(min(2, connections)), "-c", String(connections), "-d", "\(seconds)s", "--latency", "-s",
                script,
                "http://127.0.0.1:\(port)",
            ])
        return try parseWrk(output)
    }

    /// Reads `Requests/sec:`, the `99%` latency and error counts from wrk's report.
    static func parseWrk(_ output: String) throws -> WrkResult {
        var rps: Double?
        var p99: Double?
        var errors = 0
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), let last = fields.last { rps = Double(last) }
            if fields.first == "99%", fields.count >= 2 { p99 = milliseconds(String(fields[1])) }
            if line.contains("Non-2xx or 3xx responses:"), let last = fields.last { errors += Int(last) ?? 0 }
            if line.contains("Socket errors:") {
                errors += fields.compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }.reduce(
                    0, +)
            }
        }
        guard let rps, let p99 else { throw PeerError(description: "unexpected wrk output:\n\(output)") }
        return WrkResult(requestsPerSecond: rps, p99Milliseconds: p99, errors: errors)
    }

    static func milliseconds(_ text: String) -> Double? {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return nil
    }

    /// redis-benchmark --csv: `"GET","rps","avg","min","p50","p95","p99","max"` → (rps, p99 ms).
    static func parseRedisCSV(_ csv: String) -> (Double, Double)? {
        for line in csv.split(separator: "\n") where line.hasPrefix("\"GET") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            guard fields.count >= 7, let rps = Double(fields[1]), let p99 = Double(fields[6]) else { continue }
            return (rps, p99)
        }
        return nil
    }
}
