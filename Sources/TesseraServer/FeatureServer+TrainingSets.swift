import Foundation
import Hummingbird
import NIOCore
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats
import TesseraOffline

/// `POST /get-historical-features`: a training set over HTTP. The entity rows come as the
/// body (a Parquet file or an Arrow IPC stream or file, told apart by their first bytes);
/// what to join comes in the query (`features=view:a,view:b` or
/// `feature_service=NAME`, `full_feature_names`, `timestamp_column`); the training set
/// goes back as an Arrow IPC stream (`application/vnd.apache.arrow.stream`), which
/// pyarrow and pandas read without conversion.
extension Handlers {
    /// Entity files larger than this are refused with 413 (the JSON endpoints keep
    /// `maxBodyBytes`).
    static let maxEntityFileBytes = 1 << 30

    static let arrowStream = "application/vnd.apache.arrow.stream"

    func getHistoricalFeatures(_ request: Request) async -> Response {
        await measured("/get-historical-features", request, role: .reader) { () async throws(APIError) -> Response in
            let query = request.uri.queryParameters
            let features = query.get("features").map { String($0) }
            let service = query.get("feature_service").map { String($0) }
            guard (features == nil) != (service == nil) else {
                throw APIError(
                    status: 400, code: "invalid_request", field: "features",
                    "give exactly one of the query parameters 'features' and 'feature_service'",
                    hint:
                        "POST /get-historical-features?features=driver_hourly_stats:conv_rate,driver_hourly_stats:acc_rate"
                )
            }
            let full = try Handlers.flag(query.get("full_feature_names").map { String($0) }, "full_feature_names")
            let timestamp = query.get("timestamp_column").map { String($0) } ?? "event_timestamp"
            let body = try await Handlers.collect(request, limit: Handlers.maxEntityFileBytes)
            let parquet =
                body.readableBytes >= 12
                && body.getBytes(at: body.readerIndex, length: 4) == Array("PAR1".utf8)
                && body.getBytes(at: body.writerIndex - 4, length: 4) == Array("PAR1".utf8)
            guard parquet || ArrowIPCReader.looksLikeArrow(body.readableBytesView) else {
                throw APIError(
                    status: 415, code: "unsupported_media_type", field: "body",
                    "the body is neither a Parquet file nor an Arrow IPC stream (it takes the entity rows as either)",
                    hint:
                        "send the entity DataFrame as Arrow IPC (pyarrow.ipc.new_stream) or Parquet (df.to_parquet(buffer))"
                )
            }
            let store = server.store
            let result = try await blocking(server.pools.maintenance) { () throws(APIError) -> RecordBatch in
                try Handlers.trainingSet(
                    store, body: body, parquet: parquet, features: features, service: service,
                    fullFeatureNames: full, timestampColumn: timestamp)
            }
            // Streamed: one record-batch message at a time, so the answer is never held
            // encoded whole beside the table (chunked transfer encoding).
            return Response(
                status: .ok, headers: [.contentType: Handlers.arrowStream],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(bytes: ArrowIPCWriter.header(result.schema)))
                    for range in ArrowIPCWriter.ranges(result.rowCount) {
                        try await writer.write(ByteBuffer(bytes: try ArrowIPCWriter.message(result.slice(range))))
                    }
                    try await writer.write(ByteBuffer(bytes: ArrowIPCWriter.end))
                    try await writer.finish(nil)
                })
        }
    }

    /// The training set (blocking: run it on a pool).
    static func trainingSet(
        _ store: FeatureStore, body: ByteBuffer, parquet: Bool, features: String?, service: String?,
        fullFeatureNames: Bool, timestampColumn: String
    ) throws(APIError) -> RecordBatch {
        let selection: TrainingSetRequest.Selection =
            service.map { .service($0) } ?? .features(FeatureReference.splitList(features ?? ""))
        var request = TrainingSetRequest(
            spine: .range(start: Timestamp(microseconds: 0), end: Timestamp(microseconds: 0)), selection: selection,
            timestampColumn: timestampColumn, fullFeatureNames: fullFeatureNames, threads: store.defaultThreads)
        let entities = try parquet ? parquetRows(body, store: store) : arrowRows(body)
        request.spine = .entities(entities, name: "the request body")
        return try answer(store, request)
    }

    /// The entity rows of an Arrow IPC body.
    static func arrowRows(_ body: ByteBuffer) throws(APIError) -> RecordBatch {
        do {
            return try ArrowIPCReader.read(Array(body.readableBytesView), source: "the request body")
        } catch {
            throw APIError(
                status: 400, code: "invalid_request", field: "body",
                "the entity rows cannot be read: \(Echo.clip(error.description, limit: 300))")
        }
    }

    /// The entity rows of a Parquet body (staged in a temporary file for the Parquet reader).
    static func parquetRows(_ body: ByteBuffer, store: FeatureStore) throws(APIError) -> RecordBatch {
        let folder = NSTemporaryDirectory() + "tessera-entities-\(UUID().uuidString)"
        let path = folder + "/entities.parquet"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(body.readableBytesView).write(to: URL(fileURLWithPath: path))
        } catch {
            throw APIError(status: 503, code: "unavailable", field: "body", "cannot stage the entity file: \(error)")
        }
        do {
            return try Dataset.open(path, format: ParquetFormat()).read(threads: store.defaultThreads)
        } catch {
            throw APIError(
                status: 400, code: "invalid_request", field: "body",
                "the entity file cannot be read: \(Echo.clip(String(describing: error), limit: 300))")
        }
    }

    /// The training set of `request`.
    static func answer(_ store: FeatureStore, _ request: TrainingSetRequest) throws(APIError) -> RecordBatch {
        let result: TrainingSet
        do {
            result = try store.trainingSet(request)
        } catch let error as TrainingSetError {
            throw Handlers.trainingSetError(error.message, hint: error.hint)
        } catch {
            throw Handlers.trainingSetError(String(describing: error), hint: nil)
        }
        return result.batch
    }

    /// A training-set failure as an answer: unknown names are 404, the rest 400.
    static func trainingSetError(_ message: String, hint: String?) -> APIError {
        let lowered = message.lowercased()
        let notFound =
            lowered.hasPrefix("no feature") || lowered.contains(" has no feature ")
            || lowered.hasPrefix("unknown feature")
        return APIError(
            status: notFound ? 404 : 400, code: notFound ? "not_found" : "invalid_request",
            field: notFound ? "features" : "body", Echo.clip(message, limit: 400), hint: hint)
    }

    static func flag(_ text: String?, _ name: String) throws(APIError) -> Bool {
        switch text?.lowercased() {
        case nil, "false", "0": return false
        case "true", "1", "": return true
        default:
            throw APIError(
                status: 400, code: "invalid_request", field: name, "'\(Echo.clip(text ?? ""))' is not true or false")
        }
    }
}
