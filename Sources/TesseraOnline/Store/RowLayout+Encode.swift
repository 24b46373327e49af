import TesseraColumnar
import TesseraCore

/// Encoded feature vectors of a batch, one byte arena for all rows.
package struct EncodedRows {
    package var bytes: [UInt8]
    /// `count + 1` offsets into `bytes`.
    package var offsets: [Int]
}

extension RowLayout {
    /// Encodes the feature vectors of `rows` (indices into the columns), column by column.
    ///
    /// - Precondition: `columns` match `slots` in order and type (the layout was made from them).
    /// - Complexity: O(rows × features), one pass per column plus one to size the rows.
    package func encode(columns: [Column], rows: [Int]) -> EncodedRows {
        let n = rows.count
        let head = bitmapBytes + fixedSize
        // Pass 1: each row's size.
        var sizes = [Int](repeating: head, count: n)
        for (position, column) in columns.enumerated() where slots[position].isVariable {
            for r in 0..<n where column.isValid(rows[r]) {
                sizes[r] += RowLayout.variableSize(column, rows[r])
            }
        }
        var offsets = [Int](repeating: 0, count: n + 1)
        for r in 0..<n { offsets[r + 1] = offsets[r] + sizes[r] }
        var bytes = [UInt8](repeating: 0, count: offsets[n])
        // Where the next variable-width value of each row goes, relative to its variable area.
        var cursor = [Int](repeating: 0, count: n)
        bytes.withUnsafeMutableBytes { out in
            for (position, column) in columns.enumerated() {
                let slot = slots[position]
                let bit = UInt8(1) << UInt8(position & 7)
                let bitmapByte = position >> 3
                let fixed = bitmapBytes + slot.offset
                for r in 0..<n {
                    let row = rows[r]
                    let base = offsets[r]
                    if column.isValid(row) {
                        out[base + bitmapByte] |= bit
                        if slot.isVariable {
                            let start = base + head + cursor[r]
                            let written = RowLayout.writeVariable(column, row, into: out, at: start)
                            cursor[r] += written
                        } else {
                            RowLayout.writeFixed(column.data, row, into: out, at: base + fixed)
                        }
                    }
                    if slot.isVariable {
                        out.storeBytes(of: UInt32(cursor[r]).littleEndian, toByteOffset: base + fixed, as: UInt32.self)
                    }
                }
            }
        }
        return EncodedRows(bytes: bytes, offsets: offsets)
    }

    @inline(__always)
    static func writeFixed(_ data: ColumnData, _ row: Int, into out: UnsafeMutableRawBufferPointer, at offset: Int) {
        switch data {
        case .bool(let v): out[offset] = v[row] ? 1 : 0
        case .int32(let v): out.storeBytes(of: v[row].littleEndian, toByteOffset: offset, as: Int32.self)
        case .int64(let v): out.storeBytes(of: v[row].littleEndian, toByteOffset: offset, as: Int64.self)
        case .float32(let v):
            out.storeBytes(of: v[row].bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
        case .float64(let v):
            out.storeBytes(of: v[row].bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
        case .binary, .list: break
        }
    }

    /// Bytes a non-null variable-width value takes.
    static func variableSize(_ column: Column, _ row: Int) -> Int {
        switch column.data {
        case .binary(let v): return v.length(at: row)
        case .list(let offsets, let values):
            let range = offsets[row]..<offsets[row + 1]
            var size = 5
            if values.nullCount > 0, range.contains(where: { !values.isValid($0) }) { size += (range.count + 7) / 8 }
            if let width = fixedWidth(values.type) {
                size += width * range.count
            } else if case .binary(let inner) = values.data {
                for i in range { size += 4 + inner.length(at: i) }
            }
            return size
        default: return 0
        }
    }

    /// Writes a non-null variable-width value; returns the bytes written.
    ///
    /// Lists: `u32 count`, `u8 hasNulls`, then (if it has nulls) an element presence bitmap,
    /// then the elements: fixed-width raw, or `u32 length` + bytes each.
    static func writeVariable(_ column: Column, _ row: Int, into out: UnsafeMutableRawBufferPointer, at start: Int)
        -> Int
    {
        switch column.data {
        case .binary(let v):
            return copyBinary(v, row, into: out, at: start)
        case .list(let offsets, let values):
            let range = offsets[row]..<offsets[row + 1]
            var at = start
            out.storeBytes(of: UInt32(range.count).littleEndian, toByteOffset: at, as: UInt32.self)
            at += 4
            let hasNulls = values.nullCount > 0 && range.contains { !values.isValid($0) }
            out[at] = hasNulls ? 1 : 0
            at += 1
            if hasNulls {
                for (k, i) in range.enumerated() where values.isValid(i) { out[at + (k >> 3)] |= 1 << UInt8(k & 7) }
                at += (range.count + 7) / 8
            }
            if let width = fixedWidth(values.type) {
                for i in range {
                    writeFixed(values.data, i, into: out, at: at)
                    at += width
                }
            } else if case .binary(let inner) = values.data {
                for i in range {
                    let length = inner.length(at: i)
                    out.storeBytes(of: UInt32(length).littleEndian, toByteOffset: at, as: UInt32.self)
                    at += 4
                    at += copyBinary(inner, i, into: out, at: at)
                }
            }
            return at - start
        default: return 0
        }
    }

    /// Copies value `row` of `binary` to `at`; returns its length.
    @inline(__always)
    static func copyBinary(_ binary: BinaryData, _ row: Int, into out: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        let from = binary.offsets[row]
        let length = binary.offsets[row + 1] - from
        guard length > 0 else { return 0 }
        binary.bytes.withUnsafeBytes { source in
            guard let source = source.baseAddress, let target = out.baseAddress else { return }
            (target + at).copyMemory(from: source + from, byteCount: length)
        }
        return length
    }
}
