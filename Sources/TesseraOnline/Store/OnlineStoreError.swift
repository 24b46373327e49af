/// An online-store problem a user can act on: what went wrong, with which view or file.
///
/// `description` stays generic enough for HTTP responses and logs (no row data);
/// `debugDescription` adds the underlying detail (SQL, SQLite's message).
public struct OnlineStoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Broad classes of failure, for callers that branch (HTTP status, retries).
    public enum Kind: Sendable, Equatable {
        /// A write batch whose shape or values are wrong (lengths, types, null keys).
        case invalidBatch
        /// The store's file is not a readable database.
        case corrupt
        /// The store cannot be opened, read or written (permissions, disk full, locks).
        case io
        /// The configuration names a store this build does not have.
        case unsupported
        /// Another writer changed what this write depended on (it folded the log first).
        case conflict
    }

    public var kind: Kind
    public var message: String
    /// Extra detail for logs and debugging (SQL text, SQLite's message).
    public var detail: String?

    public init(_ kind: Kind, _ message: String, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.detail = detail
    }

    public var description: String { message }

    public var debugDescription: String {
        guard let detail else { return message }
        return "\(message) [\(detail)]"
    }
}
