import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

/// The structured fuzzer: where `ParquetCorruptionTests` flips bytes, this decodes each
/// valid seed's footer and page headers, sets counts, lengths, sizes, offsets and widths
/// to boundary values (0, ±1, Int32 and Int64 limits, the value ±1, doubled, halved,
/// 2^20…2^30, the page value limit), re-encodes the file and reads it. Every read must
/// give a result or a `FormatError` naming the file, never a crash, and never take
/// memory past a bound: the mutants are read in a child process whose address space may
/// grow by at most 256 MiB (an allocation past it stops the process), and whose resident
/// size is checked after every read.
@Suite struct ParquetStructuredFuzzTests {
    /// Mutants per kind of field and seed, and mutants changing several fields at once per seed.
    static let perKind = 8
    static let combined = 24

    @Test func mutatedFieldsGiveAResultOrAFormatErrorWithinBoundedMemory() async throws {
        let seeds = try ParquetFuzzSeeds.all()
        for seed in seeds {
            // Each seed reads, and reads the same once taken apart and put back together.
            let original = try ParquetFile(bytes: seed.bytes, name: seed.name).read()
            let rebuilt = try ParquetFile(bytes: try ParquetLayout(seed.bytes).bytes(), name: seed.name).read()
            #expect(original.rowCount > 0, "\(seed.name)")
            #expect(Self.canonical(original) == Self.canonical(rebuilt), "\(seed.name) changed in the round trip")
        }
        let names = seeds.map(\.name)
        let files = seeds.map(\.bytes)
        // The child logs to a file: an exit test that fails returns no output to look at.
        let folder = try TemporaryDirectory("parquet-structured-fuzz")
        defer { folder.remove() }
        let log = folder.file("fuzz.log")
        await #expect(processExitsWith: .success) {
            [names = names as [String], files = files as [[UInt8]], log = log as String] in
            BoundedMemory.limitGrowth(megabytes: 256)
            let descriptor = open(log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            let report = StructuredFuzzer.run(
                names: names, files: files, perKind: ParquetStructuredFuzzTests.perKind,
                combined: ParquetStructuredFuzzTests.combined, residentLimit: 256 << 20, log: descriptor)
            BoundedMemory.say(report.summary, to: descriptor)
            for problem in report.problems { BoundedMemory.say("PROBLEM \(problem)", to: descriptor) }
            if !report.problems.isEmpty { exit(1) }
        }
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        guard let summary = lines.last(where: { $0.hasPrefix("fuzzed ") }) else {
            // The child died: the last mutant it announced is the one that killed it.
            Issue.record("the fuzzer's process died; its last words:\n\(lines.suffix(5).joined(separator: "\n"))")
            return
        }
        print(summary)
        for problem in lines where problem.hasPrefix("PROBLEM ") { Issue.record("\(problem)") }
    }

    static func canonical(_ batch: RecordBatch) -> [[String]] {
        batch.columns.map { ParquetCanonical.strings($0) }
    }
}

/// Builds the mutants of each seed and reads them; meant to run in a child process
/// (see `BoundedMemory`), so it announces each mutant before reading it.
enum StructuredFuzzer {
    struct Report {
        var mutants = 0
        var rejected = 0
        var peakResidentGrowth = 0
        var peakVirtualGrowth = 0
        var problems: [String] = []
        var seconds = 0.0

        var summary: String {
            "fuzzed \(mutants) mutants, \(rejected) rejected with a FormatError, peak growth "
                + "\(peakResidentGrowth >> 20) MiB resident, \(peakVirtualGrowth >> 20) MiB address space, "
                + "\((seconds * 10).rounded() / 10) s"
        }
    }

    static func run(
        names: [String], files: [[UInt8]], perKind: Int, combined: Int, residentLimit: Int, log: Int32
    ) -> Report {
        var report = Report()
        var random = ParquetCorruptionTests.Generator(state: 20_261_201)
        let baseline = BoundedMemory.usage().resident
        let virtualBaseline = BoundedMemory.usage().virtual
        let clock = ContinuousClock()
        let start = clock.now
        for (name, bytes) in zip(names, files) {
            guard let layout = try? ParquetLayout(bytes), let file = try? ParquetFile(bytes: bytes, name: name) else {
                report.problems.append("\(name): the seed does not parse")
                continue
            }
            let isList = file.mapping.leaves.map(\.isList)
            let footer = layout.laidOut().metadata
            for (index, mutant) in mutants(of: layout, footer: footer, perKind, combined, &random).enumerated() {
                let label = "\(name) #\(index): " + mutant.map { "\($0.field)=\($0.value)" }.joined(separator: " ")
                BoundedMemory.say("mutant \(label)", to: log)
                var mutated = layout
                for change in mutant { change.field.apply(change.value, toPages: &mutated) }
                let crafted = mutated.bytes { meta in
                    for change in mutant {
                        change.field.apply(change.value, original: change.original, toFooter: &meta, isList: isList)
                    }
                }
                let error = ReadProbe.read(
                    crafted, name: name, threads: index % 4 == 0 ? 2 : 1, batches: index % 4 == 1)
                report.mutants += 1
                // Every column is decoded even when an earlier one fails, so a claim in one
                // column's pages is exercised even when another column's error is the one reported.
                if let error {
                    report.rejected += 1
                    BoundedMemory.say("  rejected: \(error)", to: log)
                    if error.file != name { report.problems.append("\(label): error names \(error.file)") }
                }
                let growth = BoundedMemory.usage().resident - baseline
                report.peakResidentGrowth = max(report.peakResidentGrowth, growth)
                if growth > residentLimit {
                    report.problems.append("\(label): resident size grew by \(growth >> 20) MiB")
                }
            }
        }
        // VmPeak may predate the baseline, so this can overstate the growth, never understate it.
        report.peakVirtualGrowth = max(0, BoundedMemory.peakVirtual() - virtualBaseline)
        let elapsed = clock.now - start
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return report
    }

    struct Change {
        var field: FuzzField
        var value: Int64
        var original: Int64
    }

    /// Up to `perKind` single-field mutants of each kind of field, then `combined` mutants
    /// that change two or three fields at once.
    static func mutants(
        of layout: ParquetLayout, footer: FileMetaData, _ perKind: Int, _ combined: Int,
        _ random: inout ParquetCorruptionTests.Generator
    ) -> [[Change]] {
        var byKind: [String: [Change]] = [:]
        for field in FuzzField.all(in: layout) {
            let original = field.current(in: layout, footer: footer)
            for value in field.boundaryValues(around: original) {
                byKind[field.kind, default: []].append(Change(field: field, value: value, original: original))
            }
        }
        var out: [[Change]] = []
        var everything: [Change] = []
        for kind in byKind.keys.sorted() {
            var changes = byKind[kind] ?? []
            everything += changes
            // A seeded partial shuffle: the first `perKind` are a random sample.
            for k in 0..<min(perKind, changes.count) {
                changes.swapAt(k, k + random.below(changes.count - k))
            }
            out += changes.prefix(perKind).map { [$0] }
        }
        guard !everything.isEmpty else { return out }
        for _ in 0..<combined {
            out.append((0..<(2 + random.below(2))).map { _ in everything[random.below(everything.count)] })
        }
        return out
    }
}
