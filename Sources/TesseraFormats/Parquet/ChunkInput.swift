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
            if nullable, !allPresent {
                if column.validity == nil {
                    definitions.append(contentsOf: repeatElement(1, count: range.count))
                } else {
                    for row in range {
                        let valid = column.isValid(row)
                        definitions.append(valid ? 1 : 0)
                        if !valid { nullCount += 1 }
                    }
                }
            }
            appendValues(column, indices: range, skipNulls: column.validity != nil)
        }
    }

    private mutating func gatherLists(_ segments: [ColumnSegment], nullable: Bool) {
        // Levels: list null 0; empty list `listDef`; null element `listDef + 1`; value `listDef + 2`.
        let listDefinition: UInt8 = nullable ? 1 : 0
        for segment in segments {
            guard case .list(let offsets, let elements) = segment.column.data else { continue }
            var elementIndices: [Int] = []
            for row in segment.range {
                rows += 1
                if !segment.column.isValid(row) {
                    definitions.append(0)
                    repetitions.append(0)
                    entries += 1
                    nullCount += 1
                    continue
                }
                let from = offsets[row]
                let to = offsets[row + 1]
                if from == to {
                    definitions.append(listDefinition)
                    repetitions.append(0)
                    entries += 1
                    continue
                }
                for index in from..<to {
                    repetitions.append(index == from ? 0 : 1)
                    if elements.isValid(index) {
                        definitions.append(listDefinition + 2)
                        elementIndices.append(index)
                    } else {
                        definitions.append(listDefinition + 1)
                        nullCount += 1
                    }
                    entries += 1
                }
            }
            appendValues(elements, indices: elementIndices, skipNulls: false)
        }
    }

    /// Appends the values at `indices` (skipping nulls when asked).
    private mutating func appendValues(_ column: Column, indices: some Collection<Int>, skipNulls: Bool) {
        func pick<T>(_ source: [T], _ target: inout ArraySlice<T>) {
            if !skipNulls, let range = indices as? Range<Int> {
                if target.isEmpty {
                    target = source[range]
                } else {
                    target.append(contentsOf: source[range])
                }
                return
            }
            target.reserveGrowing(target.count + indices.count)
            for index in indices where !skipNulls || column.isValid(index) { target.append(source[index]) }
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
            ChunkInput.appendBinary(source, indices: indices, skip: skipNulls ? column : nil, to: &target)
            values = .binary(target)
        default:
            break
        }
    }

    /// Appends the byte-array values at `indices` (skipping nulls of `skip`), copying through
    /// pointers: one bulk copy for a contiguous run without nulls.
    private static func appendBinary(
        _ source: BinaryData, indices: some Collection<Int>, skip: Column?, to target: inout BinaryData
    ) {
        let base = target.bytes.count
        if skip == nil, let range = indices as? Range<Int> {
            let from = source.offsets[range.lowerBound]
            let to = source.offsets[range.upperBound]
            target.bytes.append(contentsOf: source.bytes[from..<to])
            target.offsets.reserveGrowing(target.offsets.count + range.count)
            for index in range { target.offsets.append(base + source.offsets[index + 1] - from) }
            return
        }
        var total = 0
        for index in indices where skip?.isValid(index) ?? true { total += source.offsets[index + 1] - source.offsets[index] }
        target.offsets.reserveGrowing(target.offsets.count + indices.count)
        source.bytes.withUnsafeBytes { bytes in
            guard let sourceBase = bytes.baseAddress else {
                for index in indices where skip?.isValid(index) ?? true { target.offsets.append(base) }
                return
            }
            var end = base
            BinaryDecoding.appendBytes(&target.bytes, count: total) { out in
                for index in indices where skip?.isValid(index) ?? true {
                    let from = source.offsets[index]
                    let length = source.offsets[index + 1] - from
                    out.advanced(by: end - base).copyMemory(from: sourceBase + from, byteCount: length)
                    end += length
                    target.offsets.append(end)
                }
            }
            if total == 0 {
                for index in indices where skip?.isValid(index) ?? true { target.offsets.append(base) }
            }
        }
    }
}
