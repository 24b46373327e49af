import CoreMetrics
import Foundation
import Hummingbird
import NIOCore
import TesseraCore
import TesseraOnline

/// The endpoint bodies. Every path turns failures into an `APIError` JSON answer: nothing a
/// client sends makes a handler trap.
struct Handlers: Sendable {
    let server: FeatureServer

    private var lookup: FeatureLookup { server.lookup }
    private var metrics: ServerMetrics { server.metrics }

    /// Runs `body`, answers its error as JSON, and records the request's metrics.
    private func measured(_ endpoint: String, _ body: () async throws(APIError) -> Response) async -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let response: Response
        var code: String?
        do {
            response = try await body()
        } catch {
            response = .json(error.json, status: HTTPResponse.Status(code: error.status))
            code = error.code
        }
        let elapsed = Int64(DispatchTime.now().uptimeNanoseconds &- start)
        metrics.record(endpoint: endpoint, status: response.status.code, nanoseconds: elapsed, error: code)
        return response
    }

    /// The request body as parsed JSON, refusing bodies over the limit with 413.
    private func json(_ request: Request) async throws(APIError) -> JSONValue {
        let limit = server.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Handlers.tooLarge(limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Handlers.tooLarge(limit)
        } catch {
            throw APIError(status: 400, code: "unreadable_body", field: "body", "the request body could not be read")
        }
        return try Handlers.parse(buffer)
    }

    /// Runs a lookup call, turning its error into the HTTP one.
    static func mapped<T>(_ body: () throws(LookupError) -> T) throws(APIError) -> T {
        do {
            return try body()
        } catch {
            throw APIError(error)
        }
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(
            status: 413, code: "payload_too_large", field: "body", "the request body is over \(limit) bytes",
            hint: "split the request, or raise --max-body-size")
    }

    func getOnlineFeatures(_ request: Request) async -> Response {
        await measured("/get-online-features") { () async throws(APIError) -> Response in
            let body = try await json(request)
            return .json(try lookupAnswer(body))
        }
    }

    /// The answer to a parsed `/get-online-features` body (shared with the event-loop fast path).
    func lookupAnswer(_ body: JSONValue) throws(APIError) -> [UInt8] {
        let lookupRequest = try FeastJSON.lookupRequest(body)
        let response = try Handlers.mapped { () throws(LookupError) in try lookup.onlineFeatures(lookupRequest) }
        let rows = response.results.first?.values.count ?? 0
        metrics.keysRead.increment(by: Int64(rows * max(0, response.results.count)))
        return FeastJSON.write(response)
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
        await measured("/push") { () async throws(APIError) -> Response in
            let body = try await json(request)
            let (pushRequest, target) = try FeastJSON.pushRequest(body)
            if target.offline && server.offlineSink == nil {
                throw APIError(
                    status: 501, code: "not_implemented", field: "to",
                    "this server has no offline push sink, so it cannot push \"to\": \"\(target.rawValue)\"",
                    hint: "push with \"to\": \"online\", or start the server with an OfflinePushSink")
            }
            let prepared = try Handlers.mapped { () throws(LookupError) in try lookup.preparePush(pushRequest) }
            // The offline log first: it is the record training sets read. If it fails nothing is
            // written; if the online write fails after it, a retry rewrites the same values
            // online (newest-wins makes that idempotent).
            if target.offline, let sink = server.offlineSink {
                do {
                    try await sink.append(prepared.batch, source: prepared.source)
                } catch {
                    throw APIError(
                        status: 503, code: "offline_sink_failed", field: "to",
                        "the offline push log refused the rows: \(error)")
                }
            }
            if target.online {
                let summaries = try Handlers.mapped { () throws(LookupError) in try lookup.writeOnline(prepared) }
                metrics.rowsWritten.increment(by: Int64(summaries.values.reduce(0) { $0 + $1.written }))
            }
            // Feast answers a push with an empty 200.
            return Response(status: .ok)
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

    func metricsText() -> Response {
        metrics.registryVersion.record(lookup.catalog().version ?? 0)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
}
