import Foundation
import FoundationNetworking
import Hummingbird
import Logging
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraServer
import TesseraTesting

/// A feature server over the fixture repository, holding the rows the Feast golden files
/// were made with (`benchmarks/online_feast_golden.py`).
struct ServerFixture {
    /// 2026-01-10T00:00:00Z: the fixture's rows (2026-01-09) are within the 2-day ttl.
    static let now = Timestamp(seconds: 1_768_003_200)

    let directory: TemporaryDirectory
    let store: FeatureStore
    let server: FeatureServer
    var lookup: FeatureLookup { server.lookup }

    init(
        label: String = "server", registryCheckInterval: Duration = .seconds(1), maxBodyBytes: Int = 10 * 1024 * 1024,
        configure: (inout FeatureServer.Configuration) -> Void = { _ in }, config: String = "project: fixture\n",
        definitions: Definitions = OnlineFixture.definitions, backends: Backends = .standard
    ) throws {
        directory = try TemporaryDirectory(label)
        let root = try OnlineFixture.repository(in: directory, definitions: definitions)
        try directory.write("tessera.yaml", config)
        store = try FeatureStore.open(root, backends: backends)
        var serverConfiguration = FeatureServer.Configuration(store.config.featureServer)
        serverConfiguration.port = 0
        serverConfiguration.maxBodyBytes = maxBodyBytes
        serverConfiguration.logLevel = .critical
        serverConfiguration.registryCheckInterval = registryCheckInterval
        serverConfiguration.now = { ServerFixture.now }
        configure(&serverConfiguration)
        server = try FeatureServer(store: store, configuration: serverConfiguration)
        let t = { (text: String) in Timestamp(parsing: text)?.microseconds ?? 0 }
        try server.lookup.store.write(
            try OnlineWriteBatch(
                view: "driver_hourly_stats", joinKeys: [.int64([1001, 1002])],
                eventTimestamps: .timestamp([t("2026-01-09T08:00:00Z"), t("2026-01-09T10:00:00Z")]),
                createdTimestamps: .timestamp([t("2026-01-09T08:00:05Z"), t("2026-01-09T10:00:05Z")]),
                features: [
                    ("conv_rate", .float32([0.5, 0.1])), ("acc_rate", .float32([0.25, 0.75])),
                    ("avg_daily_trips", .int32([10, 20])),
                ]))
    }

    /// Runs `body` against the server listening on a real socket (a free port on 127.0.0.1),
    /// then shuts the server down.
    func live<T: Sendable>(_ body: @Sendable (TestHTTPClient) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = server.application { continuation.yield($0) }
        let running = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            running.cancel()
            throw TestHTTPClient.Failure(description: "the server did not start")
        }
        do {
            let result = try await body(TestHTTPClient(port: port))
            running.cancel()
            _ = await running.result
            return result
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
    }

    /// The Parquet files of a push source's offline log.
    static func pushLogFiles(_ root: String, source: String) -> [String] {
        let fm = FileManager.default
        let folder = root + "/.tessera/push/" + source
        let schemas = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }
        return schemas.flatMap { schema in
            ((try? fm.contentsOfDirectory(atPath: folder + "/" + schema)) ?? []).filter { $0.hasSuffix(".parquet") }
                .map { folder + "/" + schema + "/" + $0 }
        }.sorted()
    }

    static func golden(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// A plain HTTP client for the live server (URLSession over libcurl; no extra dependency).
struct TestHTTPClient: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int

    /// How long a test waits for the live server's reply, by any client: its handlers share
    /// Swift's cooperative threads with a full run's other tests, and on 2 cores a reply can
    /// wait minutes for one (CI saw 30 s and 60 s waits run out).
    static let replyTimeout = 300

    /// POSTs `body` as JSON; returns the status code and the body as text.
    func post(_ uri: String, _ body: String, headers: [String: String] = [:]) async throws -> (Int, String) {
        try await send(uri, method: "POST", body: Data(body.utf8), headers: headers)
    }

    /// POSTs raw bytes (for bodies that are not valid UTF-8).
    func post(_ uri: String, bytes: [UInt8], headers: [String: String] = [:]) async throws -> (Int, String) {
        try await send(uri, method: "POST", body: Data(bytes), headers: headers)
    }

    func get(_ uri: String, headers: [String: String] = [:]) async throws -> (Int, String) {
        try await send(uri, method: "GET", body: nil, headers: headers)
    }

    private func send(_ uri: String, method: String, body: Data?, headers: [String: String]) async throws -> (
        Int, String
    ) {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(uri)") else {
            throw Failure(description: "bad uri \(uri)")
        }
        var request = URLRequest(url: url)
        request.timeoutInterval = TimeInterval(Self.replyTimeout)
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw Failure(description: "not an HTTP response") }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }
}

/// Parses a JSON text for comparisons (throws on malformed JSON).
func parsed(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

/// A response with its feature vectors keyed by name, so Feast's (unordered, per-view)
/// feature order does not matter.
func vectorsByName(_ response: JSONValue) -> [String: JSONValue] {
    guard case .array(let names)? = response["metadata"]?["feature_names"],
        case .array(let results)? = response["results"]
    else { return [:] }
    var out: [String: JSONValue] = [:]
    for (name, result) in zip(names, results) {
        if case .string(let text) = name { out[text] = result }
    }
    return out
}

extension JSONValue {
    /// A string's text, or the value written as JSON.
    var text: String {
        if case .string(let text) = self { return text }
        var writer = JSONWriter()
        writer.value(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
