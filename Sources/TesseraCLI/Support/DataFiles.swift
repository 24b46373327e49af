import ArgumentParser
import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats

/// The data formats commands read and write.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case parquet
    case csv

    static let defaultFormat = DataFormat.parquet

    /// The format a file's extension names.
    static func of(path: String) -> DataFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".parquet") || lower.hasSuffix(".pq") { return .parquet }
        if lower.hasSuffix(".csv") { return .csv }
        return nil
    }

    /// The format of `path`, or an error a user can act on.
    static func required(for path: String, option: String) throws -> DataFormat {
        guard let format = of(path: path) else {
            throw ValidationError("\(option) \(path): use a .parquet or .csv file (the extension picks the format)")
        }
        return format
    }
}

/// A writer for either format, streaming batches into a temporary file renamed on `close()`.
final class TableWriter {
    private let parquet: ParquetWriter?
    private let csv: CSVWriter?

    init(path: String, schema: Schema, format: DataFormat, threads: Int = 1) throws {
        switch format {
        case .parquet:
            parquet = try ParquetWriter(path: path, schema: schema, options: ParquetWriteOptions(threads: threads))
            csv = nil
        case .csv:
            csv = try CSVWriter(path: path, schema: schema)
            parquet = nil
        }
    }

    func write(_ batch: RecordBatch) throws {
        if let parquet { try parquet.write(batch) }
        if let csv { try csv.write(batch) }
    }

    func close() throws {
        if let parquet { try parquet.close() }
        if let csv { try csv.close() }
    }

    func abandon() {
        csv?.abandon()
    }
}

/// Reading and writing whole tables in the formats users keep their data in.
enum DataFiles {
    /// Writes a table, pulling batches one range at a time so memory stays bounded.
    static func write(
        path: String, format: DataFormat, schema: Schema, ranges: [Range<Int>], make: (Range<Int>) -> RecordBatch
    ) throws {
        let writer = try TableWriter(path: path, schema: schema, format: format)
        do {
            for range in ranges { try writer.write(make(range)) }
            try writer.close()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Whether `path` names an Arrow IPC file: `.arrows` (a stream) or `.arrow` (read only).
    static func isArrow(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".arrows") || lower.hasSuffix(".arrow")
    }

    /// Writes one batch to `path` in the format its extension names (`.arrows`: an Arrow IPC
    /// stream, written to a temporary name and renamed).
    static func write(_ batch: RecordBatch, to path: String, threads: Int = 1) throws {
        if path.lowercased().hasSuffix(".arrows") {
            let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
            do {
                try Data(try ArrowIPCWriter.stream(batch)).write(to: URL(fileURLWithPath: temporary))
                guard rename(temporary, path) == 0 else {
                    throw FormatError(file: path, "cannot be written: \(String(cString: strerror(errno)))")
                }
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            }
            return
        }
        let writer = try TableWriter(
            path: path, schema: batch.schema, format: try DataFormat.required(for: path, option: "--output"),
            threads: threads)
        do {
            try writer.write(batch)
            try writer.close()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Opens a table to read batch by batch (a Parquet row group, or a CSV chunk, at a time;
    /// an Arrow IPC file is read whole): its schema, and a function giving the next batch
    /// (`nil` at the end).
    static func scan(_ path: String, threads: Int = 1, declaredTypes: [String: ValueType] = [:]) throws -> (
        schema: Schema, next: () throws -> RecordBatch?
    ) {
        if isArrow(path) {
            var whole: RecordBatch? = try read(path, threads: threads)
            let schema = whole?.schema ?? Schema([])
            return (
                schema,
                {
                    defer { whole = nil }
                    return whole
                }
            )
        }
        let format = datasetFormat(path, threads: threads, declaredTypes: declaredTypes)
        var scanner = try Dataset.open(path, format: format).scan(threads: threads)
        return (scanner.output, { try scanner.next() })
    }

    /// The format `read` and `scan` open a non-Arrow table with (by extension; Parquet else).
    private static func datasetFormat(_ path: String, threads: Int, declaredTypes: [String: ValueType])
        -> any DatasetFileFormat
    {
        DataFormat.of(path: path) == .csv
            ? CSVFormat(declaredTypes: declaredTypes, options: CSVReadOptions(threads: threads)) : ParquetFormat()
    }

    /// Reads a whole table: a Parquet file, folder or glob, or a CSV file (columns named in
    /// `declaredTypes` read with those types, the others inferred).
    static func read(_ path: String, threads: Int = 1, declaredTypes: [String: ValueType] = [:]) throws -> RecordBatch {
        if isArrow(path) {
            let bytes: [UInt8]
            do {
                bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe))
            } catch {
                throw FormatError(file: path, "cannot be read: \(error.localizedDescription)")
            }
            return try ArrowIPCReader.read(bytes, source: path)
        }
        let format = datasetFormat(path, threads: threads, declaredTypes: declaredTypes)
        return try Dataset.open(path, format: format).read(threads: threads)
    }
}
