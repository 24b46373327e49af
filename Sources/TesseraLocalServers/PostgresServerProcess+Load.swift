import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats

extension PostgresServerProcess {
    /// Creates `table` with the columns of a Parquet file and copies its rows in (through a
    /// CSV file next to it and psql's `\copy`), for tests and benchmarks of PostgreSQL sources.
    ///
    /// - Returns: the rows loaded.
    @discardableResult
    public func load(parquet: String, table: String, scratch: String) throws -> Int {
        let batch = try ParquetFile(path: parquet).read()
        try CSVWriter.write(batch, to: scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func sqlType(_ type: ValueType) -> String {
            switch type {
            case .bool: "boolean"
            case .int32: "integer"
            case .int64: "bigint"
            case .float32: "real"
            case .float64: "double precision"
            case .timestamp: "timestamptz"
            case .bytes: "bytea"
            default: "text"
            }
        }
        let columns = batch.schema.fields.map { "\"\($0.name)\" \(sqlType($0.type))" }.joined(separator: ", ")
        try psql("CREATE TABLE \(table) (\(columns))")
        try psql("\\copy \(table) FROM '\(scratch)' WITH (FORMAT csv, HEADER)")
        try psql("ANALYZE \(table)")
        return batch.rowCount
    }
}
