import Dispatch
import TesseraColumnar

/// Parses runs of complete rows into column buffers: tokenize a block of rows (so that the
/// field index stays in cache), then convert it one column at a time.
struct CSVRegionParser {
    let tokenizer: CSVTokenizer
    var index: CSVFieldIndex
    /// The order in which buffers are converted: by header position, so that of two bad
    /// values on one line the leftmost is reported.
    let order: [Int]

    static let blockRows = 8192

    /// - Parameter rowBound: at most how many rows the input can hold (small files get small indexes).
    init(tokenizer: CSVTokenizer, buffers: [CSVColumnBuffer], rowBound: Int = CSVRegionParser.blockRows) {
        self.tokenizer = tokenizer
        index = CSVFieldIndex(
            columns: tokenizer.columnCount, capacityRows: max(1, min(CSVRegionParser.blockRows, rowBound)))
        order = buffers.indices.sorted { buffers[$0].source < buffers[$1].source }
    }

    struct Progress {
        var consumed: Int
        var rows: Int
        var lines: Int
        var stop: CSVTokenizer.Stop
    }

    /// Parses at most `maxRows` rows of `base[from ..< end]`; `lineBase` is the line of `from`.
    mutating func parse(
        _ base: UnsafePointer<UInt8>, from: Int, end: Int, final: Bool, maxRows: Int, lineBase: Int,
        into buffers: inout [CSVColumnBuffer]
    ) throws(CSVFailure) -> Progress {
        var position = from
        var rows = 0
        var lines = 0
        while rows < maxRows {
            let limit = min(CSVRegionParser.blockRows, maxRows - rows)
            let progress = try tokenizer.tokenize(
                base, from: position, end: end, final: final, maxRows: limit, lineBase: lineBase + lines, into: &index)
            let blockRows = index.rows
            if blockRows > 0 {
                var worst: (row: Int, bad: CSVColumnBuffer.BadValue, column: Int)? = nil
                for k in order {
                    let upTo = worst?.row ?? blockRows
                    if let bad = buffers[k].convert(base, index, rows: upTo) { worst = (bad.row, bad, k) }
                }
                if let worst {
                    var line = lineBase + lines
                    for i in position..<worst.bad.offset where base[i] == 10 { line += 1 }
                    throw CSVFailure(line: line, column: buffers[worst.column].field.name, message: worst.bad.message)
                }
            }
            rows += blockRows
            lines += progress.lines
            position = progress.consumed
            if progress.stop != .indexFull {
                return Progress(consumed: position, rows: rows, lines: lines, stop: progress.stop)
            }
        }
        return Progress(consumed: position, rows: rows, lines: lines, stop: .indexFull)
    }
}

/// The second half of a parallel parse, handed to another thread and back.
///
/// `@unchecked Sendable`: the object is touched by one thread at a time — the worker
/// between `submit` and its signal, the owner before and after `wait` — and the semaphore
/// orders those accesses. The buffer it reads is not changed while the worker runs.
final class CSVSideJob: @unchecked Sendable {
    var parser: CSVRegionParser
    var buffers: [CSVColumnBuffer]
    private var base: UnsafePointer<UInt8>? = nil
    private var from = 0
    private var end = 0
    private var final = false
    private(set) var result: Result<CSVRegionParser.Progress, CSVFailure>? = nil
    private let done = DispatchSemaphore(value: 0)

    init(parser: CSVRegionParser, buffers: [CSVColumnBuffer]) {
        self.parser = parser
        self.buffers = buffers
    }

    /// Starts parsing `base[from ..< end]` on another thread; line numbers count from 1.
    func submit(_ base: UnsafePointer<UInt8>, from: Int, end: Int, final: Bool) {
        self.base = base
        self.from = from
        self.end = end
        self.final = final
        result = nil
        DispatchQueue.global(qos: .userInitiated).async { self.run() }
    }

    private func run() {
        if let base {
            do throws(CSVFailure) {
                result = .success(
                    try parser.parse(
                        base, from: from, end: end, final: final, maxRows: .max, lineBase: 1, into: &buffers))
            } catch {
                result = .failure(error)
            }
        }
        done.signal()
    }

    func wait() {
        done.wait()
    }
}
