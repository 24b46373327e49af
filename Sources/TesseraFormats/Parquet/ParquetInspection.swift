import TesseraColumnar
import TesseraCore

/// A column's summary over all row groups, for `tessera inspect`.
public struct ParquetColumnSummary: Sendable {
    public var name: String
    public var type: ValueType
    public var nullable: Bool
    public var physicalType: String
    public var encodings: [String]
    public var compressions: [String]
    public var compressedSize: Int
    public var uncompressedSize: Int
    /// Over all row groups; nil when some row group has no statistics.
    public var nullCount: Int?
    public var min: ScalarValue?
    public var max: ScalarValue?
}

/// What a Parquet file holds, from its footer: the data `tessera inspect` prints.
public struct ParquetInspection: Sendable {
    public var path: String
    public var fileSize: Int
    public var createdBy: String?
    public var rowCount: Int
    public var schema: Schema
    public var columns: [ParquetColumnSummary]
    public var rowGroups: [ParquetRowGroupInfo]
    public var skippedColumns: [ParquetSkippedColumn]

    /// A plain, human-readable rendering (a few lines per column and row group).
    public func render() -> String {
        var lines: [String] = []
        lines.append(
            "file: \(path) (\(ParquetInspection.bytes(fileSize)))" + (createdBy.map { ", written by \($0)" } ?? ""))
        lines.append("rows: \(rowCount) in \(rowGroups.count) row group\(rowGroups.count == 1 ? "" : "s")")
        lines.append("columns:")
        for c in columns {
            var line = "  \(c.name): \(c.type)\(c.nullable ? "" : " not null") [\(c.physicalType)]"
            line += " \(c.encodings.joined(separator: ",")) \(c.compressions.joined(separator: ","))"
            line +=
                " \(ParquetInspection.bytes(c.compressedSize)) (\(ParquetInspection.bytes(c.uncompressedSize)) uncompressed)"
            if let nulls = c.nullCount { line += " nulls \(nulls)" }
            if let min = c.min, let max = c.max {
                line += " min \(ParquetInspection.short(min)) max \(ParquetInspection.short(max))"
            }
            lines.append(line)
        }
        for skipped in skippedColumns { lines.append("  \(skipped.name): not readable (\(skipped.reason))") }
        lines.append("row groups:")
        for group in rowGroups {
            lines.append(
                "  \(group.index): \(group.rowCount) rows, \(ParquetInspection.bytes(group.compressedSize)) (\(ParquetInspection.bytes(group.uncompressedSize)) uncompressed)"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func bytes(_ count: Int) -> String {
        // Sizes come from the footer, so `count * 10` could overflow: shift the whole units first.
        func tenths(_ shift: Int) -> Double {
            let whole: Int = (count >> shift) * 10
            let rest: Int = ((count & ((1 << shift) - 1)) * 10) >> shift
            return Double(whole + rest) / 10
        }
        if count >= 1 << 30 { return "\(tenths(30)) GiB" }
        if count >= 1 << 20 { return "\(tenths(20)) MiB" }
        if count >= 1 << 10 { return "\(tenths(10)) KiB" }
        return "\(count) B"
    }

    static func short(_ value: ScalarValue) -> String {
        let text = value.description
        return text.count > 40 ? String(text.prefix(37)) + "..." : text
    }
}

extension ParquetFile {
    /// The footer's facts about the file, per column and per row group.
    public func inspect() -> ParquetInspection {
        var summaries: [ParquetColumnSummary] = []
        for mapped in mapping.fields {
            let field = mapped.field
            var encodings: [String] = []
            var codecs: [String] = []
            var compressed = 0
            var uncompressed = 0
            var nulls: Int? = 0
            var low: ScalarValue?
            var high: ScalarValue?
            var boundsKnown = true
            for group in rowGroups {
                guard group.columns.indices.contains(mapped.leaf) else { continue }
                let chunk = group.columns[mapped.leaf]
                for encoding in chunk.encodings where !encodings.contains(encoding) { encodings.append(encoding) }
                if !codecs.contains(chunk.compression) { codecs.append(chunk.compression) }
                // Footer sizes and counts are claims: lying ones must not overflow the sums.
                compressed = clampedSum([compressed, chunk.compressedSize])
                uncompressed = clampedSum([uncompressed, chunk.uncompressedSize])
                if let count = chunk.statistics?.nullCount, let sum = nulls {
                    nulls = clampedSum([sum, count])
                } else {
                    nulls = nil
                }
                guard group.rowCount > 0 else { continue }
                if let stats = chunk.statistics, let min = stats.min, let max = stats.max {
                    if low.map({ ScalarOrder.less(min, $0) }) ?? true { low = min }
                    if high.map({ ScalarOrder.less($0, max) }) ?? true { high = max }
                } else if chunk.statistics?.nullCount != group.rowCount {
                    boundsKnown = false
                }
            }
            summaries.append(
                ParquetColumnSummary(
                    name: field.name, type: field.type, nullable: field.nullable,
                    physicalType: mapping.leaves[mapped.leaf].physical.name, encodings: encodings, compressions: codecs,
                    compressedSize: compressed, uncompressedSize: uncompressed, nullCount: nulls,
                    min: boundsKnown ? low : nil, max: boundsKnown ? high : nil))
        }
        return ParquetInspection(
            path: path, fileSize: source.size, createdBy: createdBy, rowCount: rowCount, schema: schema,
            columns: summaries, rowGroups: rowGroups, skippedColumns: skippedColumns)
    }
}

/// Orders scalars of one type (for combining per-row-group statistics).
enum ScalarOrder {
    static func less(_ a: ScalarValue, _ b: ScalarValue) -> Bool {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return !x && y
        case (.int32(let x), .int32(let y)): return x < y
        case (.int64(let x), .int64(let y)): return x < y
        case (.float32(let x), .float32(let y)): return x < y
        case (.float64(let x), .float64(let y)): return x < y
        case (.timestamp(let x), .timestamp(let y)): return x < y
        case (.string(let x), .string(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case (.bytes(let x), .bytes(let y)): return x.lexicographicallyPrecedes(y)
        default: return false
        }
    }
}

extension Dataset {
    /// The first `limit` rows of the dataset (of the selected columns), reading no more files than needed.
    public func head(_ limit: Int, columns: [String]? = nil) throws(FormatError) -> RecordBatch {
        var scanner = try scan(columns: columns)
        var parts: [RecordBatch] = []
        var rows = 0
        while rows < limit, let batch = try scanner.next() {
            parts.append(batch.rowCount > limit - rows ? batch.slice(0..<(limit - rows)) : batch)
            rows += parts[parts.count - 1].rowCount
        }
        guard !parts.isEmpty else { return RecordBatch(empty: scanner.output) }
        do { return try RecordBatch.concatenate(parts) } catch { throw FormatError(file: source, "\(error)") }
    }
}
