import Foundation
import TesseraColumnar
import TesseraCore
import TesseraExpressions
import TesseraFormats
import TesseraWorkload

/// `tessera bench expressions`: the vectorized evaluator against DuckDB on one thread, over
/// the same rows held in memory, for a 10-operator arithmetic and CASE expression.
public enum ExpressionBenchmark {
    public struct Options: Sendable {
        public var rows = 10_000_000
        public var runs = 3
        public var python = PeerProcess.python
        public var packageRoot = FileManager.default.currentDirectoryPath
        public var progress: @Sendable (String) -> Void = { _ in }
        public init() {}
    }

    /// Ten operators: >, *, +, /, +, -, abs, *, +, *.
    static let tessera = "CASE WHEN x > 0.5 THEN (x * 2.0 + y) / (y + 1.5) ELSE abs(x - y) * 0.25 END + a * 3"
    /// The same in DuckDB, with float literals typed as doubles (DuckDB reads 2.0 as a decimal).
    static let duckdb =
        "CASE WHEN x > 0.5::DOUBLE THEN (x * 2.0::DOUBLE + y) / (y + 1.5::DOUBLE) ELSE abs(x - y) * 0.25::DOUBLE END + a * 3::BIGINT"

    public static func run(_ options: Options) throws -> BenchmarkReport {
        let n = options.rows
        options.progress("generating \(n) rows…")
        var x = [Double](repeating: 0, count: n)
        var y = [Double](repeating: 0, count: n)
        var a = [Int64](repeating: 0, count: n)
        var valid = [Bool](repeating: true, count: n)
        for i in 0..<n {
            let r = Workload.random(0xE8, 1, UInt64(i))
            x[i] = Double(r & 0xFFFF) / 65536
            y[i] = Double((r >> 16) & 0xFFFF) / 256 - 128
            a[i] = Int64((r >> 32) & 0xFFF) - 2048
            valid[i] = (r >> 48) % 20 != 0
        }
        let columns = [
            Column(type: .float64, data: .float64(x), validity: Bitmap(valid)), Column.float64(y), Column.int64(a),
        ]
        let schema = Schema([Field("x", .float64), Field("y", .float64), Field("a", .int64)])
        let compiled = try CompiledExpression.compile(
            tessera, scope: [("x", .float64), ("y", .float64), ("a", .int64)])
        let inputs = compiled.columns.map { used in columns[schema.names.firstIndex(of: used.name) ?? 0] }
        options.progress("Tessera…")
        var best = Double.infinity
        var result = Column(empty: .float64)
        for _ in 0..<max(1, options.runs) {
            let seconds = Measure.seconds { result = compiled.evaluate(inputs, rows: n) }
            best = min(best, seconds)
        }
        let nulls = (0..<n).filter { !result.isValid($0) }.count

        options.progress("DuckDB…")
        let folder = NSTemporaryDirectory() + "tessera-bench-expr-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try ParquetWriter(path: folder + "/data.parquet", schema: schema)
        try writer.write(try RecordBatch(schema: schema, columns: columns))
        try writer.close()
        let output = try PeerProcess.run(
            options.python,
            [
                options.packageRoot + "/benchmarks/expression_peers.py", folder + "/data.parquet", duckdb,
                "\(options.runs)",
            ])
        guard let peer = PeerProcess.lastJSON(output), let seconds = peer["seconds"] as? Double else {
            throw CSVBenchmark.Failure(description: "DuckDB printed no result:\n\(output)")
        }
        guard peer["rows"] as? Int == n, peer["nulls"] as? Int == nulls else {
            throw CSVBenchmark.Failure(
                description:
                    "DuckDB's result differs: \(peer["rows"] ?? "?") rows and \(peer["nulls"] ?? "?") nulls, Tessera \(n) and \(nulls)"
            )
        }
        var report = BenchmarkReport(title: "expressions: \(n) rows, one thread, in memory")
        report.figures.append(
            BenchmarkFigure(
                task: "evaluate a 10-operator arithmetic and CASE expression", metric: "seconds", tessera: best,
                peer: seconds, peerName: "DuckDB (CREATE TABLE AS SELECT, 1 thread)",
                target: "≥ DuckDB's speed"))
        report.notes.append(
            "Expression: \(tessera). Both materialize the result column; best of \(options.runs) runs each. Row and null counts checked equal."
        )
        return report
    }
}
