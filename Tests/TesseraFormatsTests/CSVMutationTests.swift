import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

/// Corrupted files must give an error or a result — never a crash, a hang or a batch
/// whose columns disagree.
@Suite("CSV mutations")
struct CSVMutationTests {
    static let seed = #"""
        id,name,score,when,flag,tags,blob
        1,"a, b",0.5,2026-01-01T00:00:00Z,true,"[1, 2]",xyz
        2,"multi
        line ""quoted""",-1e3,2026-01-02 10:00:00.25,false,[],
        3,,nan,,TRUE,"[null]",""
        """#

    static let schema = Schema([
        Field("id", .int64), Field("name", .string), Field("score", .float64), Field("when", .timestamp),
        Field("flag", .bool), Field("tags", .list(.int32)), Field("blob", .bytes),
    ])

    static func mutate(_ bytes: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var out = bytes
        let specials: [UInt8] = [34, 44, 10, 13, 0, 0xEF, 0xBB, 0xBF, 0xFF, 0xC3, 91, 93, 32, 45, 46, 101]
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = out.isEmpty ? 0 : Int(random.next() % UInt64(out.count))
            let byte =
                random.next() % 2 == 0
                ? specials[Int(random.next() % UInt64(specials.count))] : UInt8(truncatingIfNeeded: random.next())
            switch random.next() % 5 {
            case 0 where !out.isEmpty: out[position] = byte
            case 1: out.insert(byte, at: position)
            case 2 where !out.isEmpty: out.remove(at: position)
            case 3: out = Array(out.prefix(position))
            default: out.insert(contentsOf: out[position...].prefix(Int(random.next() % 12)), at: position)
            }
        }
        return out
    }

    static func check(_ batch: RecordBatch) {
        for column in batch.columns {
            #expect(column.count == batch.rowCount)
            _ = column.values  // every value must be readable
        }
    }

    @Test func corruptedFilesGiveAnErrorOrAResult() throws {
        let folder = try TemporaryDirectory("csv-mutation")
        defer { folder.remove() }
        var random = SeededRandom(seed: 99)
        let original = Array(Self.seed.utf8)
        var errors = 0
        var results = 0
        for trial in 0..<3000 {
            let bytes =
                trial % 10 == 0
                ? (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                : Self.mutate(original, &random)
            let path = folder.file("m\(trial % 50).csv")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for options in [CSVReadOptions(), CSVReadOptions(batchRows: 2, threads: 2, chunkBytes: 16)] {
                for schema in [Self.schema, nil] {
                    do {
                        let reader = try CSVReader(path: path, schema: schema, options: options)
                        while let batch = try reader.next() { Self.check(batch) }
                        results += 1
                    } catch {
                        #expect(error.file == path && !error.message.isEmpty)
                        errors += 1
                    }
                }
            }
        }
        // Both outcomes must occur, or the mutations are not testing anything.
        #expect(errors > 1000 && results > 1000, "\(errors) errors, \(results) results")
    }

    /// Large random files through the two-thread path, including unbalanced quotes.
    @Test func largeCorruptedFilesThroughTheParallelPath() throws {
        let folder = try TemporaryDirectory("csv-mutation")
        defer { folder.remove() }
        var random = SeededRandom(seed: 5)
        var base: [UInt8] = Array("a,b\n".utf8)
        while base.count < 3 << 20 {
            switch random.next() % 6 {
            case 0: base += Array("\"x\ny\",1\n".utf8)
            case 1: base += Array("\"\"\"\",2\n".utf8)
            default: base += Array("\(random.next() % 1000),\(random.next() % 1000)\n".utf8)
            }
        }
        for trial in 0..<12 {
            var bytes = base
            for _ in 0..<trial {
                bytes[Int(random.next() % UInt64(bytes.count))] = [34, 10, 44, 120][Int(random.next() % 4)]
            }
            let path = folder.file("big\(trial).csv")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            var outcomes: [String] = []
            for options in [
                CSVReadOptions(), CSVReadOptions(threads: 2),
                CSVReadOptions(batchRows: 10_000, threads: 2, chunkBytes: 1 << 20),
            ] {
                do {
                    let batch = try CSVReader.read(
                        path: path, schema: Schema([Field("a", .string), Field("b", .string)]), options: options)
                    Self.check(batch)
                    outcomes.append("rows \(batch.rowCount) \(batch.columns.map(\.nullCount))")
                } catch {
                    outcomes.append(error.description)
                }
            }
            // One thread or two, any chunk size: the same answer.
            #expect(Set(outcomes).count == 1, "\(outcomes)")
        }
    }
}
