import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The server's Prometheus metrics, on a registry of its own (no global bootstrap, so many
/// servers can live in one process, as in tests).
///
/// - `tessera_http_requests_total{endpoint, status}`
/// - `tessera_http_request_duration_seconds{endpoint}` (histogram)
/// - `tessera_http_errors_total{endpoint, error}`
/// - `tessera_online_store_keys_read_total`, `tessera_online_store_rows_written_total`
/// - `tessera_registry_version`
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let requests = Mutex<[String: CoreMetrics.Counter]>([:])
    private let errors = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])
    let keysRead: CoreMetrics.Counter
    let rowsWritten: CoreMetrics.Counter
    let registryVersion: CoreMetrics.Gauge

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Lookups take microseconds: buckets from 50 µs up.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100),
            .milliseconds(500), .seconds(2),
        ]
        self.factory = factory
        keysRead = CoreMetrics.Counter(label: "tessera_online_store_keys_read_total", factory: factory)
        rowsWritten = CoreMetrics.Counter(label: "tessera_online_store_rows_written_total", factory: factory)
        registryVersion = CoreMetrics.Gauge(label: "tessera_registry_version", factory: factory)
        let ok = CoreMetrics.Counter(
            label: "tessera_http_requests_total",
            dimensions: [("endpoint", "/get-online-features"), ("status", "200")],
            factory: factory)
        let timer = CoreMetrics.Timer(
            label: "tessera_http_request_duration_seconds", dimensions: [("endpoint", "/get-online-features")],
            factory: factory)
        lookupOK = ok
        lookupTimer = timer
        requests.withLock { $0["/get-online-features 200"] = ok }
        timers.withLock { $0["/get-online-features"] = timer }
    }

    /// The hot pair, made once: successful lookups skip the keyed caches below.
    private let lookupOK: CoreMetrics.Counter
    private let lookupTimer: CoreMetrics.Timer

    /// Records one successful `/get-online-features` answer.
    func recordLookup(nanoseconds: Int64) {
        lookupOK.increment()
        lookupTimer.recordNanoseconds(nanoseconds)
    }

    /// Records one answered request.
    func record(endpoint: String, status: Int, nanoseconds: Int64, error: String?) {
        let key = "\(endpoint) \(status)"
        let counter = requests.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "tessera_http_requests_total", dimensions: [("endpoint", endpoint), ("status", String(status))],
                factory: factory)
            cache[key] = counter
            return counter
        }
        counter.increment()
        let timer = timers.withLock { cache in
            if let timer = cache[endpoint] { return timer }
            let timer = CoreMetrics.Timer(
                label: "tessera_http_request_duration_seconds", dimensions: [("endpoint", endpoint)], factory: factory)
            cache[endpoint] = timer
            return timer
        }
        timer.recordNanoseconds(nanoseconds)
        if let error {
            let key = "\(endpoint) \(error)"
            let counter = errors.withLock { cache in
                if let counter = cache[key] { return counter }
                let counter = CoreMetrics.Counter(
                    label: "tessera_http_errors_total", dimensions: [("endpoint", endpoint), ("error", error)],
                    factory: factory)
                cache[key] = counter
                return counter
            }
            counter.increment()
        }
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
