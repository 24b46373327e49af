import ArgumentParser
import Foundation
import TesseraColumnar
import TesseraCore

/// The data formats commands read and write.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case parquet
    case csv

    static let defaultFormat = DataFormat.csv
}

/// Writes tables in the chosen format, pulling batches one at a time so memory stays bounded.
enum DataFiles {
    static func write(
        path: String, format: DataFormat, schema: Schema, ranges: [Range<Int>], make: (Range<Int>) -> RecordBatch
    ) throws {
        switch format {
        case .csv, .parquet:
            // Interim writer until the formats library lands; replaced by TesseraFormats' writers.
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("cannot write \(path)")
            }
            defer { try? handle.close() }
            handle.write(Data((schema.names.joined(separator: ",") + "\n").utf8))
            for range in ranges {
                let batch = make(range)
                var text = ""
                for row in 0..<batch.rowCount {
                    text += batch.columns.map { $0.isValid(row) ? $0.value(at: row).description : "" }.joined(
                        separator: ",")
                    text += "\n"
                }
                handle.write(Data(text.utf8))
            }
        }
    }
}
