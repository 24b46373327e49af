import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting

/// Values in the notation the Python oracle prints (see `ParquetOracleScripts.canonical`).
enum ParquetCanonical {
    static func strings(_ column: Column) -> [String] {
        (0..<column.count).map { string(column, $0) }
    }

    static func string(_ column: Column, _ index: Int) -> String {
        guard column.isValid(index) else { return "null" }
        switch column.data {
        case .bool(let v): return v[index] ? "true" : "false"
        case .int32(let v): return String(v[index])
        case .int64(let v): return column.type == .timestamp ? "t\(v[index])" : String(v[index])
        case .float32(let v): return "f" + hex(UInt64(v[index].bitPattern), 8)
        case .float64(let v): return "d" + hex(v[index].bitPattern, 16)
        case .binary(let v):
            if column.type == .string { return "s" + v.string(at: index) }
            return "b" + v.bytes(at: index).map { hex(UInt64($0), 2) }.joined()
        case .list(let offsets, let values):
            let items = (offsets[index]..<offsets[index + 1]).map { string(values, $0) }
            return "[" + items.joined(separator: ",") + "]"
        }
    }

    static func hex(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// The expected content of one file, as the oracle printed it.
struct ExpectedTable {
    var schema: [(String, String)]
    var rows: Int
    var columns: [String: [String]]

    init?(_ json: Any?) {
        guard let object = json as? [String: Any], let schema = object["schema"] as? [[String]],
            let rows = object["rows"] as? Int, let columns = object["columns"] as? [String: [String]]
        else { return nil }
        self.schema = schema.map { ($0[0], $0[1]) }
        self.rows = rows
        self.columns = columns
    }

    /// Differences between `batch` and this table, described (empty when equal).
    func differences(_ batch: RecordBatch) -> [String] {
        var problems: [String] = []
        if batch.rowCount != rows { problems.append("rows: \(batch.rowCount) vs expected \(rows)") }
        let names = batch.schema.fields.map { "\($0.name):\($0.type.name)" }
        let expectedNames = schema.map { "\($0.0):\($0.1)" }
        if names != expectedNames { problems.append("schema: \(names) vs expected \(expectedNames)") }
        for (name, _) in schema {
            guard let column = batch.column(named: name), let expected = columns[name] else { continue }
            let actual = ParquetCanonical.strings(column)
            if actual != expected {
                let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }
                if let first {
                    problems.append(
                        "column \(name) row \(first.offset): \(first.element.0) vs expected \(first.element.1)")
                } else {
                    problems.append("column \(name): \(actual.count) values vs expected \(expected.count)")
                }
            }
        }
        return problems
    }
}

enum OracleJSON {
    static func parse(_ text: String) throws -> [String: Any] {
        let data = Data(text.utf8)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw OracleOutputError(text: String(text.prefix(500)))
        }
        return object
    }
}

struct OracleOutputError: Error, CustomStringConvertible {
    var text: String
    var description: String { "the oracle printed no JSON object: \(text)" }
}
