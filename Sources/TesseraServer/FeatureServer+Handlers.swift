import CoreMetrics
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import TesseraApp
import TesseraCore
import TesseraDefinitions
import TesseraOnline

/// The endpoint bodies. Every path turns failures into an `APIError` JSON answer: nothing a
/// client sends makes a handler trap. Blocking work runs on the server's pools.
struct Handlers: Sendable {
    let server: FeatureServer

    private var lookup: FeatureLookup { server.lookup }
    private var metrics: ServerMetrics { server.metrics }

    /// Checks the caller's role, runs `body`, answers its error as JSON, and records the
    /// request's metrics.
    func measured(
        _ endpoint: String, _ request: Request, role: AccessRole?,
        _ body: () async throws(APIError) -> Response
    ) async -> Response {
        let start = MonotonicClock.nanoseconds()
        let response: Response
        var code: String?
        do throws(APIError) {
            if let role, let denied = server.authenticator.check(request.headers[.authorization], needs: role) {
                throw denied
            }
            response = try await body()
        } catch {
            response = Handlers.errorResponse(error)
            code = error.code
        }
        let elapsed = Int64(MonotonicClock.nanoseconds() &- start)
        metrics.record(endpoint: endpoint, status: response.status.code, nanoseconds: elapsed, error: code)
        return response
    }

    static func errorResponse(_ error: APIError) -> Response {
        var response = Response.json(error.json, status: HTTPResponse.Status(code: error.status))
        if error.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    /// The request body as parsed JSON, refusing bodies over the limit with 413.
    private func json(_ request: Request) async throws(APIError) -> JSONValue {
        try Handlers.parse(try await Handlers.collect(request, limit: server.configuration.maxBodyBytes))
    }

    /// The whole request body, refusing bodies over `limit` bytes with 413.
    static func collect(_ request: Request, limit: Int) async throws(APIError) -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Handlers.tooLarge(limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Handlers.tooLarge(limit)
        } catch {
            throw APIError(status: 400, code: "unreadable_body", field: "body", "the request body could not be read")
        }
    }

    /// Runs a lookup-layer call, turning its error into the HTTP one.
    static func mapped<T>(_ body: () throws(LookupError) -> T) throws(APIError) -> T {
        do {
            return try body()
        } catch {
            throw APIError(error)
        }
    }

    /// Runs `work` on `pool` (never on an event loop or the cooperative pool).
    func blocking<T: Sendable>(_ pool: NIOThreadPool, _ work: @escaping @Sendable () throws(APIError) -> T)
        async throws(APIError) -> T
    {
        let result: Result<T, APIError>
        do {
            result = try await pool.runIfActive { () -> Result<T, APIError> in
                do throws(APIError) {
                    return .success(try work())
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw APIError.shuttingDown
        }
        return try result.get()
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(
            status: 413, code: "payload_too_large", field: "body", "the request body is over \(limit) bytes",
            hint: "split the request, or raise --max-body-size")
    }

    func getOnlineFeatures(_ request: Request) async -> Response {
        await measured("/get-online-features", request, role: .reader) { () async throws(APIError) -> Response in
            let body = try await json(request)
            let handlers = self
            return .json(
                try await blocking(server.pools.reads) { () throws(APIError) in try handlers.lookupAnswer(body) })
        }
    }

    /// The answer to a parsed `/get-online-features` body (shared with the event-loop fast
    /// path); blocking: run it on the read pool.
    func lookupAnswer(_ body: JSONValue) throws(APIError) -> [UInt8] {
        let lookupRequest = try FeastJSON.lookupRequest(body)
        return encoded(try Handlers.mapped { () throws(LookupError) in try lookup.onlineFeatures(lookupRequest) })
    }

    /// A lookup's answer as the response body, counted in the metrics.
    func encoded(_ response: OnlineFeaturesResponse) -> [UInt8] {
        let rows = response.results.first?.values.count ?? 0
        metrics.keysRead.increment(by: Int64(rows * max(0, response.results.count)))
        return FeastJSON.write(response)
    }

    /// The same answer without blocking, when the store can call back (Redis): parsed and
    /// resolved on the calling thread (an event loop), `done` called with the encoded answer
    /// once the store replied — or, for a lookup of window-aggregated views, once the read
    /// pool answered it (already resolved: nothing is parsed twice). `false`: the store
    /// blocks; answer with `lookupAnswer` on the read pool instead.
    func lookupAnswer(
        _ body: ByteBuffer, on loop: any EventLoop, done: @escaping @Sendable (Result<[UInt8], APIError>) -> Void
    ) -> Bool {
        guard lookup.store is any CallbackOnlineStore else { return false }
        let lookupRequest: LookupRequest
        do {
            lookupRequest = try FeastJSON.lookupRequest(try Handlers.parse(body))
        } catch {
            done(.failure(error))
            return true
        }
        let (handlers, lookup) = (self, self.lookup)
        let answer: @Sendable (Result<OnlineFeaturesResponse, LookupError>) -> Void = { result in
            done(result.map(handlers.encoded).mapError(APIError.init))
        }
        guard let prepared = lookup.onlineFeatures(lookupRequest, done: answer) else { return true }
        server.pools.reads.runIfActive(eventLoop: loop) {
            Result { () throws(LookupError) in try lookup.onlineFeatures(prepared) }
        }.whenComplete { outcome in
            switch outcome {
            case .success(let result): answer(result)
            case .failure:
                done(.failure(APIError.shuttingDown))
            }
        }
        return true
    }

    /// Parses a complete body.
    static func parse(_ buffer: ByteBuffer) throws(APIError) -> JSONValue {
        let parsed: Result<JSONValue, JSONParseError> = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(JSONParseError) -> JSONValue in try JSONParser.parse(bytes) }
        }
        switch parsed {
        case .success(let value): return value
        case .failure(let error):
            throw APIError(status: 400, code: "malformed_json", field: "body", error.description)
        }
    }

    func push(_ request: Request) async -> Response {
        await measured("/push", request, role: .writer) { () async throws(APIError) -> Response in
            let body = try await json(request)
            let (pushRequest, target) = try FeastJSON.pushRequest(body)
            let (store, lookup, metrics) = (server.store, lookup, metrics)
            try await blocking(server.pools.writes) { () throws(APIError) in
                do {
                    let result = try store.push(pushRequest, to: target, lookup: lookup)
                    metrics.rowsWritten.increment(by: Int64(result.online.values.reduce(0) { $0 + $1.written }))
                } catch let error as LookupError {
                    throw APIError(error)
                } catch {
                    throw APIError(
                        status: 503, code: "unavailable", field: target.offline ? "to" : "online_store",
                        "the push could not be stored: \(Echo.clip(String(describing: error), limit: 300))",
                        hint: "nothing is half-written: retrying the same push is safe")
                }
            }
            // Feast answers a push with an empty 200.
            return Response(status: .ok)
        }
    }

    func writeToOnlineStore(_ request: Request) async -> Response {
        await measured("/write-to-online-store", request, role: .writer) { () async throws(APIError) -> Response in
            let body = try await json(request)
            let (view, columns) = try FeastJSON.writeRequest(body)
            let (store, lookup, metrics) = (server.store, lookup, metrics)
            try await blocking(server.pools.writes) { () throws(APIError) in
                do {
                    let summary = try store.writeToOnlineStore(view: view, columns: columns, lookup: lookup)
                    metrics.rowsWritten.increment(by: Int64(summary.written))
                } catch let error as LookupError {
                    throw APIError(error)
                } catch {
                    throw APIError(
                        status: 503, code: "unavailable", field: "online_store",
                        "the rows could not be written: \(Echo.clip(String(describing: error), limit: 300))")
                }
            }
            return .jsonNull
        }
    }

    func materialize(_ request: Request, incremental: Bool) async -> Response {
        let endpoint = incremental ? "/materialize-incremental" : "/materialize"
        return await measured(endpoint, request, role: .admin) { () async throws(APIError) -> Response in
            let body = try await json(request)
            let parsed = try FeastJSON.materializeRequest(
                body, incremental: incremental, now: server.configuration.now())
            let store = server.store
            try await blocking(server.pools.maintenance) { () throws(APIError) in
                do {
                    _ = try store.materialize(parsed)
                } catch let error as FeatureStoreError {
                    throw APIError(
                        status: error.message.hasPrefix("no feature view") ? 404 : 400,
                        code: error.message.hasPrefix("no feature view") ? "not_found" : "invalid_request",
                        field: "feature_views", error.message, hint: error.hint)
                } catch {
                    throw APIError(
                        status: 500, code: "materialization_failed", field: "body",
                        Echo.clip(String(describing: error), limit: 500),
                        hint: "views loaded before the failure keep their watermarks; running it again is safe")
                }
            }
            return .jsonNull
        }
    }

    func health() -> Response {
        let catalog = lookup.catalog()
        metrics.registryVersion.record(catalog.version ?? 0)
        var writer = JSONWriter()
        if let error = lookup.registryError {
            writer.raw("{\"status\":\"unavailable\",\"error\":")
            writer.string(error)
            writer.byte(0x7D)
            return .json(writer.bytes, status: .serviceUnavailable)
        }
        writer.raw("{\"status\":\"ok\",\"project\":")
        if let project = catalog.project { writer.string(project) } else { writer.null() }
        writer.raw(",\"registry_version\":")
        if let version = catalog.version { writer.int(Int64(version)) } else { writer.null() }
        writer.byte(0x7D)
        return .json(writer.bytes)
    }

    func metricsText(_ request: Request) -> Response {
        if let denied = server.authenticator.check(request.headers[.authorization], needs: .reader) {
            return Handlers.errorResponse(denied)
        }
        metrics.registryVersion.record(lookup.catalog().version ?? 0)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    /// 405 naming the method the path takes (RFC 9110: with an `Allow` header).
    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: HTTPRequest.Method) -> Response {
        let error = APIError(
            status: 405, code: "method_not_allowed", field: "method",
            "\(method.rawValue) is not served here; use \(allowed.rawValue)")
        var response = Response.json(error.json, status: .methodNotAllowed)
        response.headers[.allow] = allowed.rawValue
        if method == .head { response.body = ResponseBody() }
        return response
    }

    func openAPI() -> Response {
        .json(Array(OpenAPIDocument.json.utf8))
    }
}
