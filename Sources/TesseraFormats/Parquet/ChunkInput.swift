import TesseraColumnar
import TesseraCore

/// A stretch of rows of one column, as handed to the writer.
struct ColumnSegment: Sendable {
    var column: Column
    var range: Range<Int>
}

/// A column chunk ready to encode: its levels and its non-null values, densely packed.
struct ChunkInput {
    /// Fixed-width values are slices: a segment covering a column without nulls is used in place, uncopied.
    enum Values {
        case bool(ArraySlice<Bool>)
        case int32(ArraySlice<Int32>)
        case int64(ArraySlice<Int64>)
        case float(ArraySlice<Float>)
        case double(ArraySlice<Double>)
        case binary(BinaryData)
    }

    /// One definition level per entry (empty when the column is required and flat, or
    /// when `allPresent`).
    var definitions: [UInt8] = []
    /// A nullable flat column without a single null: every definition level is the
    /// maximum, so none are stored (pages get one RLE run).
    var allPresent = false
    /// One repetition level per entry (empty for flat columns).
    var repetitions: [UInt8] = []
    var entries = 0
    var rows = 0
    var values: Values
    var nullCount = 0

    /// Gathers `segments` of a column whose leaf has `maxDefinition` (0, 1 for flat; 1–3 for lists).
    init(_ segments: [ColumnSegment], type: ValueType, nullable: Bool) {
        let elementType: ValueType
        if case .list(let element) = type { elementType = element } else { elementType = type }
        values = ChunkInput.emptyValues(elementType)
        if case .list = type {
            self.gatherLists(segments, nullable: nullable)
        } else {
            self.gatherFlat(segments, nullable: nullable)
        }
    }

    private static func emptyValues(_ type: ValueType) -> Values {
        switch type {
        case .bool: .bool([])
        case .int32: .int32([])
        case .int64, .timestamp: .int64([])
        case .float32: .float([])
        case .float64: .double([])
        case .string, .bytes, .list: .binary(BinaryData())
        }
    }

    private mutating func gatherFlat(_ segments: [ColumnSegment], nullable: Bool) {
        let total = segments.reduce(0) { $0 + $1.range.count }
        entries = total
        rows = total
        allPresent = nullable && segments.allSatisfy { $0.column.validity == nil }
        if nullable, !allPresent { definitions.reserveCapacity(total) }
        for segment in segments {
            let column = segment.column
            let range = segment.range
            guard column.validity != nil else {
                if nullable, !allPresent { definitions.append(contentsOf: repeatElement(1, count: range.count)) }
                appendValues(column, range, keep: nil)
                continue
            }
            let flags = ChunkInput.flags(column, range)
            definitions.append(contentsOf: flags)
            nullCount += range.count - flags.reduce(0) { $0 + Int($1) }
            appendValues(column, range, keep: flags)
        }
    }

    private mutating func gatherLists(_ segments: [ColumnSegment], nullable: Bool) {
        // Levels: list null 0; empty list `listDef`; null element `listDef + 1`; value `listDef + 2`.
        let listDefinition: UInt8 = nullable ? 1 : 0
        for segment in segments {
            guard case .list(let offsets, let elements) = segment.column.data, !segment.range.isEmpty else { continue }
            let range = segment.range
            let rowFlags = ChunkInput.flags(segment.column, range)
            let elementRange = offsets[range.lowerBound]..<offsets[range.upperBound]
            let elementFlags = ChunkInput.flags(elements, elementRange)
            // Elements of null rows are not written; `keep` marks the ones that are values.
            var keep = [UInt8](repeating: 0, count: elementRange.count)
            rows += range.count
            let base = elementRange.lowerBound
            definitions.reserveGrowing(definitions.count + range.count + elementRange.count)
            repetitions.reserveGrowing(repetitions.count + range.count + elementRange.count)
            for (k, row) in range.enumerated() {
                let from = offsets[row]
                let to = offsets[row + 1]
                if rowFlags[k] == 0 || from == to {
                    definitions.append(rowFlags[k] == 0 ? 0 : listDefinition)
                    repetitions.append(0)
                    entries += 1
                    nullCount += Int(rowFlags[k] ^ 1)
                    continue
                }
                for index in from..<to {
                    let flag = elementFlags[index - base]
                    repetitions.append(index == from ? 0 : 1)
                    definitions.append(listDefinition + 1 + flag)
                    keep[index - base] = flag
                    nullCount += Int(flag ^ 1)
                    entries += 1
                }
            }
            appendValues(elements, elementRange, keep: keep)
        }
    }

    /// One byte per row of `range`: 1 where `column` holds a value, 0 where it is null.
    static func flags(_ column: Column, _ range: Range<Int>) -> [UInt8] {
        guard let validity = column.validity else { return [UInt8](repeating: 1, count: range.count) }
        return validity.words.withUnsafeBufferPointer { words in
            [UInt8](unsafeUninitializedCapacity: range.count) { out, initialized in
                for k in 0..<range.count {
                    let i = range.lowerBound + k
                    out[k] = UInt8(truncatingIfNeeded: (words[i >> 6] >> UInt64(i & 63)) & 1)
                }
                initialized = range.count
            }
        }
    }

    /// Appends the values of `range` whose `keep` flag is 1 (all of them when `keep` is nil).
    private mutating func appendValues(_ column: Column, _ range: Range<Int>, keep: [UInt8]?) {
        func pick<T>(_ source: [T], _ target: inout ArraySlice<T>) {
            guard let keep else {
                if target.isEmpty { target = source[range] } else { target.append(contentsOf: source[range]) }
                return
            }
            // Branch-free compaction: write every value, advance only past kept ones.
            let kept = source.withUnsafeBufferPointer { src in
                [T](unsafeUninitializedCapacity: range.count) { out, initialized in
                    var j = 0
                    for k in 0..<range.count {
                        out[j] = src[range.lowerBound + k]
                        j += Int(keep[k])
                    }
                    initialized = j
                }
            }
            target.append(contentsOf: kept)
        }
        switch (column.data, values) {
        case (.bool(let source), .bool(var target)):
            values = .int32([])
            pick(source, &target)
            values = .bool(target)
        case (.int32(let source), .int32(var target)):
            values = .bool([])
            pick(source, &target)
            values = .int32(target)
        case (.int64(let source), .int64(var target)):
            values = .bool([])
            pick(source, &target)
            values = .int64(target)
        case (.float32(let source), .float(var target)):
            values = .bool([])
            pick(source, &target)
            values = .float(target)
        case (.float64(let source), .double(var target)):
            values = .bool([])
            pick(source, &target)
            values = .double(target)
        case (.binary(let source), .binary(var target)):
            values = .bool([])
            ChunkInput.appendBinary(source, range, keep: keep, to: &target)
            values = .binary(target)
        default:
            break
        }
    }

    /// Appends the byte-array values of `range` whose `keep` flag is 1, copying through
    /// pointers: one bulk copy when all are kept.
    private static func appendBinary(
        _ source: BinaryData, _ range: Range<Int>, keep: [UInt8]?, to target: inout BinaryData
    ) {
        let base = target.bytes.count
        guard let keep else {
            let from = source.offsets[range.lowerBound]
            let to = source.offsets[range.upperBound]
            target.bytes.append(contentsOf: source.bytes[from..<to])
            target.offsets.reserveGrowing(target.offsets.count + range.count)
            for index in range { target.offsets.append(base + source.offsets[index + 1] - from) }
            return
        }
        var total = 0
        for k in 0..<range.count where keep[k] != 0 {
            total += source.offsets[range.lowerBound + k + 1] - source.offsets[range.lowerBound + k]
        }
        target.offsets.reserveGrowing(target.offsets.count + range.count)
        var end = base
        source.bytes.withUnsafeBytes { bytes in
            BinaryDecoding.appendBytes(&target.bytes, count: total) { out in
                guard let sourceBase = bytes.baseAddress else { return }
                for k in 0..<range.count where keep[k] != 0 {
                    let from = source.offsets[range.lowerBound + k]
                    let length = source.offsets[range.lowerBound + k + 1] - from
                    out.advanced(by: end - base).copyMemory(from: sourceBase + from, byteCount: length)
                    end += length
                }
            }
        }
        // Offsets are appended after the copy, which holds `target.bytes` exclusively.
        var position = base
        for k in 0..<range.count where keep[k] != 0 {
            position += source.offsets[range.lowerBound + k + 1] - source.offsets[range.lowerBound + k]
            target.offsets.append(position)
        }
    }
}
