import TesseraDefinitions

/// Reads the sources of one kind that live outside the repository's files (a database):
/// the seam through which a backend module gives the native engine a source type.
public protocol SourceConnector: Sendable {
    /// The source `type` it reads (`postgres`).
    var type: String { get }

    /// A reader of `source`, whose kind is this connector's; `root` is the repository's
    /// folder (for files a source names, such as a password file).
    func reader(for source: DataSource, root: String) throws -> any SourceReader

    /// A check of `source` for `tessera doctor`: what was found ("12 columns, PostgreSQL
    /// 15.8"), or the error.
    func check(_ source: DataSource, root: String) throws -> String
}

/// A source type this build has no connector for.
public struct MissingSourceConnector: Error, CustomStringConvertible {
    public var description: String
}
