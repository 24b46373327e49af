import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

/// Mutated files (flipped bytes, truncations, zeroed stretches) must give a `FormatError`
/// or a result — never a crash: a crash would kill this test process.
@Suite struct ParquetCorruptionTests {
    /// SplitMix64: a small deterministic generator, so failures reproduce.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    static func seeds() throws -> [(String, [UInt8])] {
        let folder = try TemporaryDirectory("parquet-fuzz-seeds")
        defer { folder.remove() }
        try PythonOracle.run(ParquetOracleScripts.fuzzSeeds, arguments: [folder.path])
        var seeds: [(String, [UInt8])] = []
        for name in ["dict_snappy", "v2_zstd_delta", "gzip_plain", "int96_lz4"] {
            seeds.append((name, Array(try Data(contentsOf: folder.url.appendingPathComponent("\(name).parquet")))))
        }
        for (name, options) in [
            ("tessera_snappy", ParquetWriteOptions(rowGroupRows: 60)),
            ("tessera_zstd_plain", ParquetWriteOptions(compression: .zstd, dictionary: false, pageSize: 256)),
        ] {
            let path = folder.file("\(name).parquet")
            let writer = try ParquetWriter(path: path, schema: ParquetTestData.schema, options: options)
            try writer.write(ParquetTestData.batch(rows: 150))
            try writer.close()
            seeds.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
        return seeds
    }

    /// Opens and fully reads `bytes`; returns whether it failed (with a FormatError naming the file).
    static func attempt(_ bytes: [UInt8], name: String) -> (failed: Bool, namedRight: Bool) {
        do {
            let file = try ParquetFile(bytes: bytes, name: name)
            _ = try file.read()
            var iterator = try file.batches(ParquetReadOptions(threads: 2))
            while try iterator.next() != nil {}
            for group in file.rowGroups { _ = group.columns.map(\.statistics) }
            return (false, true)
        } catch {
            return (true, error.file == name)
        }
    }

    @Test func mutatedFilesNeverCrashTheReader() throws {
        var random = Generator(state: 20_260_101)
        var cases = 0
        var failures = 0
        for (name, original) in try Self.seeds() {
            // The seed itself reads cleanly.
            #expect(!Self.attempt(original, name: name).failed, "\(name) should read")
            let size = original.count
            var mutants: [[UInt8]] = []
            // Truncations at many points, denser near the footer.
            for k in 0..<60 { mutants.append(Array(original.prefix(size * k / 60))) }
            for k in 1...40 { mutants.append(Array(original.prefix(max(0, size - k * 3)))) }
            // Random flipped bytes anywhere, then concentrated in the footer (the metadata).
            for round in 0..<500 {
                var bytes = original
                let footer = round % 2 == 1
                for _ in 0..<(1 + random.below(4)) {
                    let position = footer ? size - 8 - random.below(min(size - 8, 400)) - 1 : random.below(size)
                    bytes[position] ^= UInt8(truncatingIfNeeded: 1 + random.below(255))
                }
                mutants.append(bytes)
            }
            // Zeroed and 0xFF-filled stretches.
            for round in 0..<120 {
                var bytes = original
                let start = random.below(size)
                let length = 1 + random.below(min(64, size - start))
                for position in start..<(start + length) { bytes[position] = round % 2 == 0 ? 0 : 0xFF }
                mutants.append(bytes)
            }
            for mutant in mutants {
                let outcome = Self.attempt(mutant, name: name)
                cases += 1
                if outcome.failed { failures += 1 }
                #expect(outcome.namedRight, "an error for a mutant of \(name) does not name the file")
            }
        }
        #expect(cases >= 4000)
        // Most mutants break something the reader checks; some survive (a flipped value byte).
        #expect(failures > cases / 4, "only \(failures) of \(cases) mutants were rejected")
        #expect(failures < cases)
    }
}
