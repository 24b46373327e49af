import Foundation
import TesseraColumnar
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraFormats

/// Reading Arrow IPC: what `ArrowIPCWriter` writes reads back value by value; streams and
/// files pyarrow writes — every integer width, signedness, float, bool, 32- and 64-bit
/// offset strings and bytes, timestamps of every unit with and without a zone, dates,
/// nulls, several batches — read as pyarrow's own values; what the engine does not take
/// is refused naming the column; and every truncation of a stream is an error, not a crash.
@Suite struct ArrowIPCReaderTests {
    static func same(_ a: RecordBatch, _ b: RecordBatch) -> Bool {
        guard a.schema.fields.map(\.name) == b.schema.fields.map(\.name), a.rowCount == b.rowCount else { return false }
        for (x, y) in zip(a.columns, b.columns) {
            guard x.type == y.type else { return false }
            for row in 0..<a.rowCount where x.value(at: row) != y.value(at: row) { return false }
        }
        return true
    }

    @Test func whatTheWriterWritesReadsBack() throws {
        for rows in [0, 1, 7, 300] {
            let full = try ArrowIPCTests.batch(rows: rows)
            // The reader takes no lists (entity rows have none): the batch without them.
            let keep = full.schema.fields.indices.filter { full.schema.fields[$0].name != "l" }
            let batch = try RecordBatch(
                schema: Schema(keep.map { full.schema.fields[$0] }), columns: keep.map { full.columns[$0] })
            for step in [1, 64, 100_000] {
                let stream = try ArrowIPCWriter.stream(batch, rowsPerBatch: step)
                #expect(ArrowIPCReader.looksLikeArrow(stream))
                let read = try ArrowIPCReader.read(stream)
                #expect(Self.same(read, batch), "\(rows) rows in batches of \(step)")
            }
        }
    }

    static let pyarrowScript = """
        import json, sys, datetime
        import pyarrow as pa, pyarrow.ipc as ipc
        folder = sys.argv[1]
        n = 50
        def nulls(values): return [None if i % 7 == 3 else v for i, v in enumerate(values)]
        cols = {
            "i8": pa.array(nulls([(-1) ** i * (i % 128) for i in range(n)]), pa.int8()),
            "u8": pa.array(nulls([i * 5 % 256 for i in range(n)]), pa.uint8()),
            "i16": pa.array([(-1) ** i * i * 600 for i in range(n)], pa.int16()),
            "u16": pa.array([i * 1300 for i in range(n)], pa.uint16()),
            "i32": pa.array(nulls([(-1) ** i * i * 40_000_000 for i in range(n)]), pa.int32()),
            "u32": pa.array([i * 80_000_000 for i in range(n)], pa.uint32()),
            "i64": pa.array(nulls([(-1) ** i * i * 10 ** 15 for i in range(n)]), pa.int64()),
            "u64": pa.array([i * 10 ** 16 for i in range(n)], pa.uint64()),
            "f32": pa.array(nulls([i / 8 for i in range(n)]), pa.float32()),
            "f64": pa.array(nulls([(-1) ** i * i / 3 for i in range(n)]), pa.float64()),
            "b": pa.array(nulls([i % 3 == 0 for i in range(n)]), pa.bool_()),
            "s": pa.array(nulls(["", "a", "héllo", "x" * 70][i % 4] + str(i) for i in range(n)), pa.string()),
            "ls": pa.array(nulls(["é" * (i % 5) for i in range(n)]), pa.large_string()),
            "bin": pa.array(nulls([bytes([i % 256]) * (i % 4) for i in range(n)]), pa.binary()),
            "lbin": pa.array([bytes([255 - i % 256]) * (i % 3) for i in range(n)], pa.large_binary()),
            "ts_s": pa.array(nulls([1_767_225_600 + i * 3601 for i in range(n)]), pa.timestamp("s", tz="UTC")),
            "ts_ms": pa.array([-86_400_000 + i * 1_234_567 for i in range(n)], pa.timestamp("ms")),
            "ts_us": pa.array(nulls([1_767_225_600_000_000 + i * 7 for i in range(n)]), pa.timestamp("us", tz="Europe/Paris")),
            "ts_ns": pa.array([-1_500 + i * 999_999_999_999 for i in range(n)], pa.timestamp("ns", tz="UTC")),
            "d": pa.array(nulls([-3 + i * 40 for i in range(n)]), pa.date32()),
        }
        table = pa.table(cols)
        with ipc.new_stream(folder + "/one.arrows", table.schema) as w:
            w.write_table(table)
        with ipc.new_stream(folder + "/many.arrows", table.schema) as w:
            w.write_table(table, max_chunksize=9)
        with ipc.new_file(folder + "/file.arrow", table.schema) as w:
            w.write_table(table, max_chunksize=20)
        def micros(v, unit):
            return {"s": v * 1_000_000, "ms": v * 1000, "us": v, "ns": v // 1000}[unit]
        expected = {}
        for name, col in cols.items():
            t = col.type
            raw = col.cast(pa.int64()) if pa.types.is_timestamp(t) else col
            values = []
            for i, v in enumerate(raw.to_pylist()):
                if v is None: values.append("null")
                elif pa.types.is_timestamp(t): values.append(str(micros(v, t.unit)))
                elif pa.types.is_date32(t): values.append(str((v - datetime.date(1970, 1, 1)).days * 86_400_000_000))
                elif isinstance(v, bool): values.append("true" if v else "false")
                elif isinstance(v, bytes): values.append(v.hex())
                elif isinstance(v, float): values.append(repr(v))
                else: values.append(str(v))
            expected[name] = values
        # Refused: a dictionary column, a list column, a compressed stream.
        d = pa.table({"k": pa.array([1, 2]), "cat": pa.array(["a", "b"]).dictionary_encode()})
        with ipc.new_stream(folder + "/dict.arrows", d.schema) as w: w.write_table(d)
        l = pa.table({"k": pa.array([1, 2]), "xs": pa.array([[1], [2, 3]])})
        with ipc.new_stream(folder + "/list.arrows", l.schema) as w: w.write_table(l)
        c = pa.table({"k": pa.array(list(range(1000)))})
        with ipc.new_stream(folder + "/lz4.arrows", c.schema, options=ipc.IpcWriteOptions(compression="lz4")) as w:
            w.write_table(c)
        print(json.dumps(expected))
        """

    static func rendered(_ value: ScalarValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int32(let v): String(v)
        case .int64(let v): String(v)
        case .float32(let v): String(Double(v))
        case .float64(let v): String(v)
        case .string(let s): s
        case .bytes(let b): b.map { String(format: "%02x", $0) }.joined()
        case .timestamp(let t): String(t.microseconds)
        default: "\(value)"
        }
    }

    @Test func streamsAndFilesPyarrowWritesReadAsItsValues() throws {
        let dir = try TemporaryDirectory("arrow-ipc-read")
        defer { dir.remove() }
        let output = try PythonOracle.run(Self.pyarrowScript, arguments: [dir.path])
        guard let expected = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String]] else {
            Issue.record("pyarrow's expectations did not parse")
            return
        }
        let types: [String: ValueType] = [
            "i8": .int32, "u8": .int32, "i16": .int32, "u16": .int32, "i32": .int32, "u32": .int64, "i64": .int64,
            "u64": .int64, "f32": .float32, "f64": .float64, "b": .bool, "s": .string, "ls": .string, "bin": .bytes,
            "lbin": .bytes, "ts_s": .timestamp, "ts_ms": .timestamp, "ts_us": .timestamp, "ts_ns": .timestamp,
            "d": .timestamp,
        ]
        for file in ["one.arrows", "many.arrows", "file.arrow"] {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file(file))))
            let batch = try ArrowIPCReader.read(bytes, source: file)
            #expect(batch.rowCount == 50, "\(file)")
            for (name, values) in expected {
                guard let column = batch.column(named: name) else {
                    Issue.record("\(file): no column \(name)")
                    continue
                }
                #expect(column.type == types[name], "\(file): \(name) is \(column.type)")
                for (row, value) in values.enumerated() {
                    var want = value
                    var got = Self.rendered(column.value(at: row))
                    if name.hasPrefix("f"), let w = Double(want), let g = Double(got) {
                        (want, got) = (String(w), String(g))
                    }
                    #expect(got == want, "\(file): \(name)[\(row)] read \(got), pyarrow has \(want)")
                }
            }
        }
        for (file, column, words) in [
            ("dict.arrows", "cat", "dictionary-encoded"), ("list.arrows", "xs", "list"),
            ("lz4.arrows", nil, "compressed"),
        ] as [(String, String?, String)] {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file(file))))
            do {
                _ = try ArrowIPCReader.read(bytes, source: file)
                Issue.record("\(file) was read")
            } catch {
                #expect(error.description.contains(words), "\(file): \(error)")
                if let column { #expect(error.description.contains("'\(column)'"), "\(file): \(error)") }
            }
        }
        // Every cut of a stream is an error (or, at a message boundary, fewer rows), never a crash.
        let whole = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file("many.arrows"))))
        var errors = 0
        for cut in stride(from: 0, to: whole.count, by: 7) {
            do {
                let batch = try ArrowIPCReader.read(Array(whole.prefix(cut)))
                // Only the end-of-stream marker may be missing for every row to be there.
                #expect(batch.rowCount < 50 || cut >= whole.count - 8, "a cut at \(cut) read every row")
            } catch {
                errors += 1
            }
        }
        #expect(errors > 0)
        // Flipped bytes in the metadata: errors or readable batches, never a crash.
        var rng = SplitMixRNG(seed: 11)
        for _ in 0..<300 {
            var damaged = whole
            for _ in 0..<3 { damaged[rng.below(min(damaged.count, 2_000))] = UInt8(rng.below(256)) }
            _ = try? ArrowIPCReader.read(damaged)
        }
    }
}
