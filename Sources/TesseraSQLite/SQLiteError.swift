/// An error from SQLite, with the database file, the statement and SQLite's own message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// SQLite's primary result code (`SQLITE_BUSY`, `SQLITE_CORRUPT`, …).
    public var code: Int32
    public var message: String
    public var path: String
    public var sql: String?

    public init(code: Int32, message: String, path: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.sql = sql
    }

    /// True when the file is not a database or is damaged (SQLITE_NOTADB, SQLITE_CORRUPT).
    public var isCorruption: Bool { code == 26 || code == 11 }

    public var description: String {
        if isCorruption {
            return "\(path): not a readable SQLite database (\(message)); restore it from a backup or move it aside"
        }
        return "\(path): \(message)"
    }
}
