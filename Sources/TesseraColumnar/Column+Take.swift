/// Gather, filter, slice and concatenate: the kernels that move values between columns.
extension Column {
    /// The values at `indices`, in that order; a negative index gives a null.
    ///
    /// - Complexity: O(n) in the number of indices (plus the bytes copied for strings).
    public func take(_ indices: [Int]) -> Column {
        indices.withUnsafeBufferPointer { take($0) }
    }

    /// The values at `indices`, in that order; a negative index gives a null.
    public func take(_ indices: UnsafeBufferPointer<Int>) -> Column {
        var outValidity: Bitmap? = nil
        var anyNull = false
        if validity != nil || indices.contains(where: { $0 < 0 }) {
            var bits = Bitmap(count: indices.count, value: true)
            for (position, index) in indices.enumerated() where index < 0 || !isValid(index) {
                bits[position] = false
                anyNull = true
            }
            outValidity = anyNull ? bits : nil
        }
        let outData: ColumnData
        switch data {
        case .bool(let v): outData = .bool(gather(v, indices, zero: false))
        case .int32(let v): outData = .int32(gather(v, indices, zero: 0))
        case .int64(let v): outData = .int64(gather(v, indices, zero: 0))
        case .float32(let v): outData = .float32(gather(v, indices, zero: 0))
        case .float64(let v): outData = .float64(gather(v, indices, zero: 0))
        case .binary(let v): outData = .binary(gatherBinary(v, indices))
        case .list(let offsets, let values):
            var newOffsets = [Int]()
            newOffsets.reserveCapacity(indices.count + 1)
            newOffsets.append(0)
            var inner = [Int]()
            for index in indices {
                if index >= 0 {
                    inner.append(contentsOf: offsets[index]..<offsets[index + 1])
                }
                newOffsets.append(inner.count)
            }
            outData = .list(offsets: newOffsets, values: values.take(inner))
        }
        return Column(type: type, data: outData, validity: outValidity)
    }

    /// The rows where `mask` is true.
    public func filter(_ mask: [Bool]) -> Column {
        precondition(mask.count == count, "filter mask length does not match column")
        var indices: [Int] = []
        indices.reserveCapacity(count)
        for (index, keep) in mask.enumerated() where keep { indices.append(index) }
        return take(indices)
    }

    /// The rows in `range`.
    public func slice(_ range: Range<Int>) -> Column {
        let outValidity = validity.map { bits in Bitmap(range.map { bits[$0] }) }
        let outData: ColumnData
        switch data {
        case .bool(let v): outData = .bool(Array(v[range]))
        case .int32(let v): outData = .int32(Array(v[range]))
        case .int64(let v): outData = .int64(Array(v[range]))
        case .float32(let v): outData = .float32(Array(v[range]))
        case .float64(let v): outData = .float64(Array(v[range]))
        case .binary(let v):
            let base = v.offsets[range.lowerBound]
            let offsets = v.offsets[range.lowerBound...range.upperBound].map { $0 - base }
            outData = .binary(BinaryData(offsets: offsets, bytes: Array(v.bytes[base..<v.offsets[range.upperBound]])))
        case .list(let offsets, let values):
            let base = offsets[range.lowerBound]
            let newOffsets = offsets[range.lowerBound...range.upperBound].map { $0 - base }
            outData = .list(offsets: newOffsets, values: values.slice(base..<offsets[range.upperBound]))
        }
        return Column(type: type, data: outData, validity: outValidity)
    }

    /// The columns one after another; all must have the same type.
    public static func concatenate(_ parts: [Column]) throws(ColumnarError) -> Column {
        guard let first = parts.first else { throw .shape("nothing to concatenate") }
        if parts.count == 1 { return first }
        for part in parts where part.type != first.type {
            throw .typeMismatch("cannot concatenate a \(part.type) column to a \(first.type) column")
        }
        let total = parts.reduce(0) { $0 + $1.count }
        var validity: Bitmap? = nil
        if parts.contains(where: { $0.validity != nil }) {
            var bits = Bitmap()
            bits.reserveCapacity(total)
            for part in parts {
                for index in 0..<part.count { bits.append(part.isValid(index)) }
            }
            validity = bits
        }
        let data: ColumnData
        switch first.data {
        case .bool: data = .bool(joined(parts) { if case .bool(let v) = $0.data { v } else { [] } })
        case .int32: data = .int32(joined(parts) { if case .int32(let v) = $0.data { v } else { [] } })
        case .int64: data = .int64(joined(parts) { if case .int64(let v) = $0.data { v } else { [] } })
        case .float32: data = .float32(joined(parts) { if case .float32(let v) = $0.data { v } else { [] } })
        case .float64: data = .float64(joined(parts) { if case .float64(let v) = $0.data { v } else { [] } })
        case .binary:
            var out = BinaryData()
            out.offsets.reserveCapacity(total + 1)
            for part in parts {
                guard case .binary(let v) = part.data else { continue }
                let base = out.bytes.count
                out.bytes.append(contentsOf: v.bytes)
                for offset in v.offsets.dropFirst() { out.offsets.append(base + offset) }
            }
            data = .binary(out)
        case .list:
            var offsets = [0]
            var inner: [Column] = []
            for part in parts {
                guard case .list(let partOffsets, let values) = part.data else { continue }
                let base = offsets[offsets.count - 1]
                for offset in partOffsets.dropFirst() { offsets.append(base + offset) }
                inner.append(values)
            }
            data = .list(offsets: offsets, values: try concatenate(inner))
        }
        return Column(type: first.type, data: data, validity: validity)
    }
}

@inline(__always)
private func joined<T>(_ parts: [Column], _ extract: (Column) -> [T]) -> [T] {
    var out: [T] = []
    out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    for part in parts { out.append(contentsOf: extract(part)) }
    return out
}

@inline(__always)
private func gather<T>(_ source: [T], _ indices: UnsafeBufferPointer<Int>, zero: T) -> [T] {
    source.withUnsafeBufferPointer { src in
        [T](unsafeUninitializedCapacity: indices.count) { out, initialized in
            for position in 0..<indices.count {
                let index = indices[position]
                (out.baseAddress! + position).initialize(to: index >= 0 ? src[index] : zero)
            }
            initialized = indices.count
        }
    }
}

private func gatherBinary(_ source: BinaryData, _ indices: UnsafeBufferPointer<Int>) -> BinaryData {
    var total = 0
    for index in indices where index >= 0 { total += source.offsets[index + 1] - source.offsets[index] }
    var offsets = [Int]()
    offsets.reserveCapacity(indices.count + 1)
    offsets.append(0)
    var bytes = [UInt8]()
    bytes.reserveCapacity(total)
    source.bytes.withUnsafeBufferPointer { src in
        for index in indices {
            if index >= 0 {
                let start = source.offsets[index]
                let end = source.offsets[index + 1]
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: src[start..<end]))
            }
            offsets.append(bytes.count)
        }
    }
    return BinaryData(offsets: offsets, bytes: bytes)
}

extension RecordBatch {
    /// The rows at `indices` (negative gives nulls), every column.
    public func take(_ indices: [Int]) -> RecordBatch {
        let taken = indices.withUnsafeBufferPointer { buffer in columns.map { $0.take(buffer) } }
        // Same schema, same lengths: cannot fail.
        return (try? RecordBatch(schema: schema, columns: taken)) ?? RecordBatch(empty: schema)
    }

    /// The rows in `range`.
    public func slice(_ range: Range<Int>) -> RecordBatch {
        (try? RecordBatch(schema: schema, columns: columns.map { $0.slice(range) })) ?? RecordBatch(empty: schema)
    }

    /// Batches of the same schema, one after another.
    public static func concatenate(_ batches: [RecordBatch]) throws(ColumnarError) -> RecordBatch {
        guard let first = batches.first else { throw .shape("nothing to concatenate") }
        if batches.count == 1 { return first }
        for batch in batches where batch.schema != first.schema {
            throw .typeMismatch("cannot concatenate batches with different schemas")
        }
        var columns: [Column] = []
        for index in first.columns.indices {
            columns.append(try Column.concatenate(batches.map { $0.columns[index] }))
        }
        return try RecordBatch(schema: first.schema, columns: columns)
    }
}
