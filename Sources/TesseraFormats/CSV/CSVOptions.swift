/// How `CSVReader` reads a file.
///
/// The reader is strict RFC 4180 with these choices, each chosen so that a
/// file Tessera writes reads back to the same values:
/// - The first line is a header of column names (a UTF-8 byte order mark before it is skipped).
///   An empty or duplicate name is an error.
/// - Lines end with LF or CRLF; the last line may or may not end with one.
/// - A field may be quoted with `"`; inside, `""` is one quote, and delimiters and line
///   breaks are data. After the closing quote only a delimiter or a line end may follow.
///   A quote in the middle of an unquoted field is an ordinary character (as pyarrow reads it).
/// - An empty unquoted field is null. A quoted empty field (`""`) is the empty string in
///   string and bytes columns, and null in every other type (it holds no number, no time).
/// - Every row must have as many fields as the header. A blank line is skipped when the
///   header has two or more columns; with one column, it is a row whose value is null.
public struct CSVReadOptions: Sendable {
    /// The field separator, an ASCII byte other than `"`, CR and LF (`,` by default; `\t`, `;`, `|` also work).
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// Rows per `RecordBatch` that `CSVReader.next()` yields (the last batch may be shorter).
    public var batchRows: Int = 1 << 17
    /// Rows sampled to infer column types when no schema is declared; `nil` reads the whole
    /// file once to infer (exact, but two passes). See `CSVReader` for the inference rule.
    public var inferenceRows: Int? = 10_000
    /// Threads used to parse: 1, or 2 to split each chunk of at least 1 MB at a line break
    /// and parse the halves concurrently (a split that lands inside a quoted field is
    /// detected and that chunk's second half parsed again in order). Values above 2 use 2.
    public var threads: Int = 1
    /// Bytes read from the file at a time. A row longer than this grows the buffer.
    public var chunkBytes: Int = 8 << 20

    public init(
        delimiter: UInt8 = UInt8(ascii: ","), batchRows: Int = 1 << 17, inferenceRows: Int? = 10_000,
        threads: Int = 1, chunkBytes: Int = 8 << 20
    ) {
        self.delimiter = delimiter
        self.batchRows = batchRows
        self.inferenceRows = inferenceRows
        self.threads = threads
        self.chunkBytes = chunkBytes
    }
}

/// How `CSVWriter` writes a file.
///
/// Output is RFC 4180: a header line, one line per row, a field quoted only when it
/// holds the delimiter, a quote, CR or LF, or is an empty string (`""`, so that it reads
/// back as an empty string rather than null). Nulls are empty fields. Values:
/// - bool: `true` / `false`; integers in decimal.
/// - float32 / float64: the shortest text that reads back to the same value (Swift's
///   `description`: `0.1`, `1e-05`, `1.0`), with `nan`, `inf` and `-inf` for the
///   non-finite values (every NaN is written `nan`).
/// - timestamp: ISO 8601 in UTC, `2026-01-01T00:00:00Z`, with a fraction only when needed
///   (`2026-01-01T00:00:00.5Z`), as `Timestamp.iso8601`.
/// - string: its UTF-8 bytes; bytes: the raw bytes, unchanged (quoted like strings when needed).
/// - list: JSON-like `[1, 2.5, null]`, strings in JSON quotes (`["a", "b\"c"]`).
public struct CSVWriteOptions: Sendable {
    /// The field separator (an ASCII byte other than `"`, CR and LF).
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// End lines with CRLF instead of LF.
    public var crlf: Bool = false
    /// Write the header line of column names.
    public var header: Bool = true

    public init(delimiter: UInt8 = UInt8(ascii: ","), crlf: Bool = false, header: Bool = true) {
        self.delimiter = delimiter
        self.crlf = crlf
        self.header = header
    }
}
