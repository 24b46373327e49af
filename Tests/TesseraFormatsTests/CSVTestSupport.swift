import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting

@testable import TesseraFormats

/// Helpers shared by the CSV tests: files in a temporary folder, reading them, and errors.
enum CSVFixture {
    /// Writes `text` (as raw bytes) to a fresh file and returns its path.
    static func file(_ text: String, name: String = "data.csv") throws -> String {
        try file(bytes: Array(text.utf8), name: name)
    }

    static func file(bytes: [UInt8], name: String = "data.csv") throws -> String {
        let folder = try TemporaryDirectory("csv-test")
        let path = folder.file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func read(
        _ text: String, schema: Schema? = nil, options: CSVReadOptions = CSVReadOptions()
    ) throws -> RecordBatch {
        try CSVReader.read(path: try file(text), schema: schema, options: options)
    }

    /// The error reading `text` throws, as the user sees it (with the file name shortened to `data.csv`).
    static func error(_ text: String, schema: Schema? = nil, options: CSVReadOptions = CSVReadOptions()) throws
        -> String?
    {
        let path = try file(text)
        do {
            _ = try CSVReader.read(path: path, schema: schema, options: options)
            return nil
        } catch {
            return error.description.replacingOccurrences(of: path, with: "data.csv")
        }
    }

    /// A schema of (name, type) pairs, nullable.
    static func schema(_ fields: KeyValuePairs<String, ValueType>) -> Schema {
        Schema(fields.map { Field($0.key, $0.value) })
    }

    /// Every option combination that must read a file the same way: one or two threads,
    /// tiny or default chunks (tiny ones cut rows and quoted fields at every byte).
    static let variants: [CSVReadOptions] = [
        CSVReadOptions(),
        CSVReadOptions(batchRows: 3, chunkBytes: 16),
        CSVReadOptions(batchRows: 1, threads: 2, chunkBytes: 17),
        CSVReadOptions(threads: 2),
    ]
}

/// A small deterministic generator (SplitMix64) for randomized tests without a dependency.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
