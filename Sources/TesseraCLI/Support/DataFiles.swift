import ArgumentParser
import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats

/// The data formats commands read and write.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case parquet
    case csv

    static let defaultFormat = DataFormat.csv

    /// The format a file's extension names.
    static func of(path: String) -> DataFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".parquet") || lower.hasSuffix(".pq") { return .parquet }
        if lower.hasSuffix(".csv") { return .csv }
        return nil
    }
}

/// Writes tables in the chosen format, pulling batches one at a time so memory stays bounded.
enum DataFiles {
    static func write(
        path: String, format: DataFormat, schema: Schema, ranges: [Range<Int>], make: (Range<Int>) -> RecordBatch
    ) throws {
        switch format {
        case .parquet:
            throw ValidationError("writing Parquet is not available in this build yet; use --format csv")
        case .csv:
            let writer = try CSVWriter(path: path, schema: schema)
            do {
                for range in ranges { try writer.write(make(range)) }
                try writer.close()
            } catch {
                writer.abandon()
                throw error
            }
        }
    }
}
