import ArgumentParser
import Foundation
import TesseraColumnar
import TesseraConsole
import TesseraCore
import TesseraFormats

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a Parquet file: schema, row groups, rows, encodings, compression and statistics.",
        discussion: "For a CSV file: the header and the types Tessera infers (see docs/cli.md for the rule).")

    @Argument(help: "A .parquet or .csv file.")
    var file: String

    func run() throws {
        try guarded {
            switch try DataFormat.required(for: file, option: "FILE") {
            case .parquet:
                Console.print(try ParquetFile(path: file).inspect().render())
            case .csv:
                let schema = try CSVReader.inferSchema(path: file)
                Console.print(
                    "\(file): CSV, \(schema.fields.count) columns (types inferred from the first 10,000 rows)")
                Console.print(
                    TextTable.render(header: ["COLUMN", "TYPE"], rows: schema.fields.map { [$0.name, $0.type.name] }))
            }
        }
    }
}

struct HeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "head",
        abstract: "Print the first rows of a Parquet or CSV file as a table (or JSON).")

    @Argument(help: "A .parquet or .csv file.")
    var file: String

    @Option(name: .short, help: "How many rows.")
    var n: Int = 10

    @Option(help: ArgumentHelp("Only these columns, comma-separated.", valueName: "names"))
    var columns: String?

    @Flag(help: "Print one JSON object per row.")
    var json = false

    func validate() throws {
        guard n >= 0 else { throw ValidationError("-n must be 0 or more") }
    }

    func run() throws {
        try guarded {
            let names = columns?.split(separator: ",").map { String($0).trimmingSpaces() }
            var batch: RecordBatch
            switch try DataFormat.required(for: file, option: "FILE") {
            case .parquet: batch = try ParquetFile(path: file).head(n, columns: names)
            case .csv:
                batch = try CSVReader.head(path: file, rows: n)
                if let names { batch = try batch.project(names) }
            }
            if json {
                for row in 0..<batch.rowCount {
                    var object: [String: Any] = [:]
                    for (field, value) in zip(batch.schema.fields, batch.row(row)) {
                        object[field.name] = value.jsonValue
                    }
                    let data = try JSONSerialization.data(
                        withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    Console.print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            let header = batch.schema.fields.map { "\($0.name)\n\($0.type.name)" }
            let rows = (0..<batch.rowCount).map { row in batch.row(row).map(\.description) }
            Console.print(
                TextTable.render(header: header.map { $0.replacingOccurrences(of: "\n", with: ":") }, rows: rows))
        }
    }
}

extension ScalarValue {
    /// The value for JSON output: numbers, strings, ISO 8601 times, arrays, null.
    var jsonValue: Any {
        switch self {
        case .null: NSNull()
        case .bool(let v): v
        case .int32(let v): Int(v)
        case .int64(let v): Int(v)
        case .float32(let v): v.isFinite ? Double(v) : String(describing: v) as Any
        case .float64(let v): v.isFinite ? v : String(describing: v) as Any
        case .string(let v): v
        case .bytes(let v): Data(v).base64EncodedString()
        case .timestamp(let v): v.iso8601
        case .list(let v): v.map(\.jsonValue)
        }
    }
}
