import TesseraColumnar
import TesseraCore

/// Column types inferred from values (the rule is documented on `CSVReader`).
enum CSVInference {
    /// What one column's values have been so far: each flag stays true while every
    /// non-empty value fits that type.
    struct Candidate {
        var bool = true
        var int = true
        var number = true
        var timestamp = true
        var seen = false

        @inline(__always)
        mutating func observe(_ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int) {
            seen = true
            if bool, !CSVValue.isBoolWord(base, s, e) { bool = false }
            if int, CSVValue.int64(base, s, e) == nil { int = false }
            if number, CSVFloat.double(base, s, e) == nil { number = false }
            if timestamp, CSVValue.timestamp(base, s, e) == nil { timestamp = false }
        }

        var type: ValueType {
            guard seen else { return .string }
            if bool { return .bool }
            if int { return .int64 }
            if number { return .float64 }
            if timestamp { return .timestamp }
            return .string
        }
    }

    static func observe(
        _ base: UnsafePointer<UInt8>, _ index: borrowing CSVFieldIndex, into candidates: inout [Candidate]
    ) {
        let columns = index.columns
        for k in 0..<columns {
            var candidate = candidates[k]
            var slot = k
            for _ in 0..<index.rows {
                let s = Int(index.starts[slot] & ~CSVFieldIndex.flag)
                let e = Int(index.ends[slot] & ~CSVFieldIndex.flag)
                slot += columns
                if s < e { candidate.observe(base, s, e) }
            }
            candidates[k] = candidate
        }
    }

    /// Infers from the first `rows` data rows of `input`, which is left where it was
    /// (its buffer grows to hold the sample).
    static func sample(
        _ input: CSVInput, header: [String], delimiter: UInt8, rows: Int
    ) throws(FormatError) -> [ValueType] {
        let tokenizer = CSVTokenizer(delimiter: delimiter, columnNames: header)
        let rowBound = input.size / max(1, header.count) + 2
        var index = CSVFieldIndex(columns: header.count, capacityRows: min(max(rows, 1), 8192, rowBound))
        var candidates = [Candidate](repeating: Candidate(), count: header.count)
        var offset = 0  // sampled bytes after input.start
        var lines = 0
        var seen = 0
        while seen < rows {
            let progress: CSVTokenizer.Progress
            do throws(CSVFailure) {
                progress = try tokenizer.tokenize(
                    input.pointer, from: input.start + offset, end: input.end, final: input.eof,
                    maxRows: rows - seen, lineBase: input.line + lines, into: &index)
            } catch {
                throw CSVReader.formatError(error, file: input.path)
            }
            observe(input.pointer, index, into: &candidates)
            seen += index.rows
            lines += progress.lines
            offset = progress.consumed - input.start
            switch progress.stop {
            case .endOfInput: return candidates.map(\.type)
            case .needMoreData: try input.refill()
            case .indexFull: break
            }
        }
        return candidates.map(\.type)
    }

    /// Infers from every row of the file at `path` (one extra pass over the file).
    static func wholeFile(_ path: String, options: CSVReadOptions) throws(FormatError) -> [ValueType] {
        let input = try CSVInput(path: path, chunkBytes: options.chunkBytes)
        let header = try CSVHeader.read(input, delimiter: options.delimiter)
        let tokenizer = CSVTokenizer(delimiter: options.delimiter, columnNames: header)
        var index = CSVFieldIndex(columns: header.count, capacityRows: min(8192, input.size / max(1, header.count) + 2))
        var candidates = [Candidate](repeating: Candidate(), count: header.count)
        while true {
            let progress: CSVTokenizer.Progress
            do throws(CSVFailure) {
                progress = try tokenizer.tokenize(
                    input.pointer, from: input.start, end: input.end, final: input.eof, maxRows: .max,
                    lineBase: input.line, into: &index)
            } catch {
                throw CSVReader.formatError(error, file: input.path)
            }
            observe(input.pointer, index, into: &candidates)
            input.consume(progress.consumed - input.start, lines: progress.lines)
            switch progress.stop {
            case .endOfInput: return candidates.map(\.type)
            case .needMoreData: try input.refill()
            case .indexFull: break
            }
        }
    }
}
