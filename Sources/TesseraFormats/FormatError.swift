/// A problem reading or writing a data file, with where it is: the file, and
/// inside it the row group, column, page, line or row.
public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's path as the user gave it.
    public var file: String
    /// Where in the file, in words: `row group 3, column 'conv_rate'`, `line 12, column 'driver_id'`.
    public var location: String?
    /// What is wrong and, when known, what was expected.
    public var message: String

    public init(file: String, location: String? = nil, _ message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String {
        if let location { return "\(file): \(location): \(message)" }
        return "\(file): \(message)"
    }
}
