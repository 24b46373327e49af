import TesseraColumnar
import TesseraCore

/// CSV files as a dataset format: columns the caller knows are read with their declared
/// types (a feature view's schema, its join keys, its timestamps); the others are inferred.
public struct CSVFormat: DatasetFileFormat {
    /// Column name → type, for the columns whose type is known in advance.
    public var declaredTypes: [String: ValueType]
    public var options: CSVReadOptions

    public init(declaredTypes: [String: ValueType] = [:], options: CSVReadOptions = CSVReadOptions()) {
        self.declaredTypes = declaredTypes
        self.options = options
    }

    public var name: String { "CSV" }
    public var fileExtension: String { "csv" }

    public func open(path: String) throws(FormatError) -> any DatasetFileReader {
        let inferred = try CSVReader.inferSchema(path: path, options: options)
        let fields = inferred.fields.map { field in
            declaredTypes[field.name].map { Field(field.name, $0) } ?? field
        }
        return CSVFileReader(path: path, schema: Schema(fields), options: options)
    }
}

/// One CSV file of a dataset.
struct CSVFileReader: DatasetFileReader {
    let path: String
    let schema: Schema
    let options: CSVReadOptions

    func batches(_ request: DatasetScanRequest) throws(FormatError) -> any DatasetBatchStream {
        let names = request.columns ?? schema.names
        let fields = names.compactMap { schema[$0] }
        var options = self.options
        options.threads = max(options.threads, request.threads)
        return CSVBatchStream(reader: try CSVReader(path: path, schema: Schema(fields), options: options))
    }
}

/// Adapts a `CSVReader` to the dataset's stream protocol.
struct CSVBatchStream: DatasetBatchStream {
    let reader: CSVReader

    mutating func next() throws(FormatError) -> RecordBatch? {
        try reader.next()
    }
}
