import TesseraApp
import TesseraCore
import TesseraOnline

/// An error answer: an HTTP status and a JSON body naming the field at fault and why.
///
/// Body: `{"error": code, "field": field, "message": message, "hint": hint}` (`hint` only
/// when there is one). Messages never echo more than a short prefix of client data.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    /// A stable machine-readable code: `invalid_request`, `not_found`, `malformed_json`, …
    public var code: String
    public var field: String
    public var message: String
    public var hint: String?

    public init(status: Int, code: String, field: String, _ message: String, hint: String? = nil) {
        self.status = status
        self.code = code
        self.field = field
        self.message = message
        self.hint = hint
    }

    /// The HTTP form of a lookup error: 404 for unknown objects, 400 for bad requests,
    /// 503 when the registry or store fails.
    /// What a request gets when the pool that would run it has stopped.
    static var shuttingDown: APIError {
        APIError(status: 503, code: "unavailable", field: "server", "the server is shutting down")
    }

    public init(_ error: LookupError) {
        let status =
            switch error.kind {
            case .notFound: 404
            case .invalidRequest, .nameCollision: 400
            case .tooLarge: 413
            case .forbidden: 403
            case .unavailable: 503
            }
        self.init(status: status, code: error.kind.rawValue, field: error.field, error.message, hint: error.hint)
    }

    public static func invalid(_ field: String, _ message: String, hint: String? = nil) -> APIError {
        APIError(status: 400, code: "invalid_request", field: field, message, hint: hint)
    }

    public var description: String { "\(status) \(code) \(field): \(message)" }

    /// The JSON body. Field and message are clipped as a last guard, so that no answer
    /// carries more than a few hundred bytes of what a client sent (`Echo` clips each quote).
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"error\":")
        writer.string(code)
        writer.raw(",\"field\":")
        writer.string(Echo.clip(field, limit: 200))
        writer.raw(",\"message\":")
        writer.string(Echo.clip(message, limit: 1000))
        if let hint {
            writer.raw(",\"hint\":")
            writer.string(Echo.clip(hint, limit: 1000))
        }
        writer.byte(0x7D)
        return writer.bytes
    }
}
