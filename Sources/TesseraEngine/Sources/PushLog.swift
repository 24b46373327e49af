import Foundation
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraFormats

/// Rows pushed to the offline store: Parquet files under `.tessera/push/<source>/<schema>/`.
///
/// Each push is one file, written to a temporary name and renamed, so a push is in the log
/// entirely or not at all. Columns are stored under the source's own names (the batch
/// source's field mapping undone), so the log reads like the batch source's files. Files of
/// one schema share a folder (named by the schema's digest); when a view gains a feature, new
/// pushes go to a new folder and older files read the missing column as null.
public struct PushLog: Sendable {
    public let folder: String

    /// The log of `source` in a repository rooted at `root`.
    public init(root: String, source: String) {
        folder = root + "/.tessera/push/" + source
    }

    /// Appends one push's rows (named as views name them; see `FeatureStore.push`), once.
    ///
    /// Idempotent by `pushID` (a digest of the push's content, see `PushLog.pushID`): a push
    /// is recorded under `.ids/<pushID>` before its file is written, so appending it again — a
    /// client retrying after a timeout, or after the online write failed — adds nothing, and a
    /// retry after a crash between the two finishes the file under its recorded name. Window
    /// aggregations count rows, so a duplicated push would change their values.
    public func append(
        _ batch: RecordBatch, columns: SourceColumns, pushID: String, at time: Timestamp = .init(microseconds: 0)
    ) throws {
        guard batch.rowCount > 0 else { return }
        guard !pushID.isEmpty, pushID.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw PushLogError(message: "push id '\(pushID.prefix(40))' is not a hex digest")
        }
        let fields = batch.schema.fields.map { Field(columns.sourceColumn(for: $0.name), $0.type, nullable: true) }
        let schema = Schema(fields)
        var digest = SHA256()
        for field in fields { digest.update("\(field.name):\(field.type.name)\n") }
        let schemaName = String(SHA256.hexString(digest.finalize()).prefix(12))
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder + "/" + schemaName, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: folder + "/.ids", withIntermediateDirectories: true)
        let marker = folder + "/.ids/" + pushID
        let relative: String
        if let recorded = try? String(contentsOfFile: marker, encoding: .utf8), !recorded.isEmpty {
            if fm.fileExists(atPath: folder + "/" + recorded) { return }
            relative = recorded
        } else {
            let stamp = time.microseconds > 0 ? time.microseconds : Int64(Date().timeIntervalSince1970 * 1_000_000)
            let name = String(format: "%020lld-%@.parquet", stamp, String(pushID.prefix(16)))
            let candidate = schemaName + "/" + name
            // link(2) creates the marker only if it does not exist, with its whole content: of two
            // identical pushes racing, one records the name and the other adopts it.
            let temporary = folder + "/.ids/.tmp-\(pushID.prefix(16))-\(UInt32.random(in: 0...UInt32.max))"
            try candidate.write(toFile: temporary, atomically: false, encoding: .utf8)
            defer { unlink(temporary) }
            if link(temporary, marker) != 0 {
                guard errno == EEXIST, let recorded = try? String(contentsOfFile: marker, encoding: .utf8),
                    !recorded.isEmpty
                else {
                    throw PushLogError(message: "cannot record push \(pushID.prefix(16)) in \(folder): errno \(errno)")
                }
                if fm.fileExists(atPath: folder + "/" + recorded) { return }
                relative = recorded
            } else {
                relative = candidate
            }
        }
        let writer = try ParquetWriter(path: folder + "/" + relative, schema: schema)
        try writer.write(try RecordBatch(schema: schema, columns: batch.columns))
        try writer.close()
    }

    /// Readers of the log, one per schema folder, oldest folder first.
    func readers(declaredTypes: [String: ValueType]) throws -> [any SourceReader] {
        let fm = FileManager.default
        guard let folders = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
        var out: [(Int64, any SourceReader)] = []
        for sub in folders where !sub.hasPrefix(".") {
            let path = folder + "/" + sub
            guard let files = try? fm.contentsOfDirectory(atPath: path),
                let first = files.filter({ $0.hasSuffix(".parquet") }).min()
            else { continue }
            let dataset = try Dataset.open(path, format: ParquetFormat())
            out.append(
                (
                    Int64(first.prefix(20)) ?? 0,
                    PaddedSourceReader(base: DatasetSourceReader(dataset: dataset), types: declaredTypes)
                ))
        }
        return out.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// A reader whose missing columns read as nulls (older push files lack newer features).
struct PaddedSourceReader: SourceReader {
    let base: DatasetSourceReader
    let types: [String: ValueType]

    func schema() throws -> Schema { try base.schema() }

    func scan(columns: [String], filter: TimeFilter?, threads: Int, _ body: (RecordBatch) throws -> Void) throws {
        let present = Set(base.dataset.schema.names)
        let available = columns.filter { present.contains($0) }
        try base.scan(columns: available, filter: filter, threads: threads) { batch in
            var fields: [Field] = []
            var out: [Column] = []
            for name in columns {
                if let column = batch.column(named: name) {
                    fields.append(Field(name, column.type))
                    out.append(column)
                } else {
                    let type = types[name] ?? .string
                    fields.append(Field(name, type))
                    out.append(Column(nulls: type, count: batch.rowCount))
                }
            }
            try body(try RecordBatch(schema: Schema(fields), columns: out))
        }
    }
}

/// The push log cannot record a push.
public struct PushLogError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
