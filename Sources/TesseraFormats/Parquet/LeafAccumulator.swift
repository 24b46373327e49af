import TesseraColumnar
import TesseraCore

/// Packs validity bits as they are decoded, a word at a time.
struct BitBuilder {
    var words: [UInt64] = []
    var count = 0
    var hasClear = false

    mutating func appendOnes(_ n: Int) {
        guard n > 0 else { return }
        let total = count + n
        let needed = (total + 63) >> 6
        var bit = count
        if bit & 63 != 0 {
            let fill = min(64 - (bit & 63), n)
            let mask: UInt64 = fill == 64 ? ~0 : ((1 << UInt64(fill)) - 1) << UInt64(bit & 63)
            words[words.count - 1] |= mask
            bit += fill
        }
        while words.count < needed {
            words.append(~0)
            bit += 64
        }
        count = total
        clearTail()
    }

    /// Appends one bit per byte of `flags` (non-zero is set).
    mutating func append(_ flags: UnsafePointer<UInt8>, _ n: Int) {
        guard n > 0 else { return }
        let total = count + n
        let needed = (total + 63) >> 6
        words.reserveGrowing(needed)
        while words.count < needed { words.append(0) }
        var cleared = 0
        let start = count
        words.withUnsafeMutableBufferPointer { buffer in
            // Branch-free: OR each flag (0 or 1) into its bit.
            for i in 0..<n {
                let bit = start + i
                let flag = UInt64(flags[i] & 1)
                buffer[bit >> 6] |= flag << UInt64(bit & 63)
                cleared |= Int(flag ^ 1)
            }
        }
        if cleared != 0 { hasClear = true }
        count = total
    }

    mutating func append(_ flag: Bool) {
        if count & 63 == 0 { words.append(0) }
        if flag { words[count >> 6] |= 1 << UInt64(count & 63) } else { hasClear = true }
        count += 1
    }

    private mutating func clearTail() {
        let tail = count & 63
        if tail != 0, !words.isEmpty { words[words.count - 1] &= (1 << UInt64(tail)) - 1 }
    }

    /// The bitmap, or nil when every bit is set.
    func finish() -> Bitmap? { hasClear ? Bitmap(words: words, count: count) : nil }
}

/// Where one leaf's decoded values pile up, over one or more column chunks.
///
/// Values are kept in the array of their stored type (one of the typed arrays is
/// used); conversions to Tessera's types happen once, in `finish`.
struct LeafAccumulator {
    let leaf: LeafColumn
    var bools: [Bool] = []
    var int32s: [Int32] = []
    var int64s: [Int64] = []
    var floats: [Float] = []
    var doubles: [Double] = []
    /// INT96 and FIXED_LEN_BYTE_ARRAY values, `storedWidth` bytes each.
    var fixed: [UInt8] = []
    var binary = BinaryData()
    /// One bit per value slot (per row for flat columns, per element for lists).
    var validity = BitBuilder()
    /// For lists: the first slot of each row.
    var listStarts: [Int] = []
    var listValidity = BitBuilder()
    var slots = 0
    var rows = 0
    /// When set, fixed-width values are decoded straight into this caller-owned
    /// memory (the final array's storage) instead of being appended to the typed arrays.
    var direct: UnsafeMutableRawPointer?
    var directCapacity = 0

    /// Reserves room for `capacity` slots, a count from the footer, but at most `byteLimit`
    /// bytes per array: the count is a claim until the pages are decoded, and the arrays
    /// grow past the reservation if it was true.
    init(leaf: LeafColumn, capacity: Int, byteLimit: Int) {
        self.leaf = leaf
        let reserve = max(0, min(capacity, 1 << 27))
        func slots(_ bytesEach: Int) -> Int { min(reserve, byteLimit / max(bytesEach, 1)) }
        switch leaf.physical {
        case .boolean: bools.reserveCapacity(slots(1))
        case .int32: int32s.reserveCapacity(slots(4))
        case .int64: int64s.reserveCapacity(slots(8))
        case .float: floats.reserveCapacity(slots(4))
        case .double: doubles.reserveCapacity(slots(8))
        case .int96, .fixedLenByteArray: fixed.reserveCapacity(slots(leaf.storedWidth) * leaf.storedWidth)
        case .byteArray: binary.offsets.reserveCapacity(slots(8) + 1)
        }
        if leaf.isList { listStarts.reserveCapacity(slots(8)) }
    }

    /// Where the next `count` slot values go when decoding straight into the final array.
    func directTarget(_ count: Int) throws(DecodeError) -> UnsafeMutableRawPointer? {
        guard let direct else { return nil }
        guard slots + count <= directCapacity else {
            throw DecodeError("pages hold more values than the row group's \(directCapacity) rows")
        }
        return direct + slots * leaf.storedWidth
    }

    /// Appends `count` fixed-width slot values laid out in `raw`.
    mutating func appendFixed(_ raw: UnsafeRawPointer, count: Int) {
        switch leaf.physical {
        case .boolean:
            bools.append(contentsOf: UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Bool.self), count: count))
        case .int32:
            int32s.append(contentsOf: UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Int32.self), count: count))
        case .int64:
            int64s.append(contentsOf: UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Int64.self), count: count))
        case .float:
            floats.append(contentsOf: UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Float.self), count: count))
        case .double:
            doubles.append(
                contentsOf: UnsafeBufferPointer(start: raw.assumingMemoryBound(to: Double.self), count: count))
        case .int96, .fixedLenByteArray:
            fixed.append(contentsOf: UnsafeRawBufferPointer(start: raw, count: count * leaf.storedWidth))
        case .byteArray: break
        }
    }

    /// The finished Tessera column; `location` names the column for conversion errors.
    /// Moves the arrays out (no copies), so call it once, last.
    mutating func finish(file: String, location: String) throws(FormatError) -> Column {
        let values = try valueColumn(file: file, location: location)
        guard leaf.isList else { return values }
        var offsets: [Int] = []
        swap(&offsets, &listStarts)
        offsets.append(slots)
        return Column(
            type: .list(values.type), data: .list(offsets: offsets, values: values), validity: listValidity.finish())
    }

    private mutating func valueColumn(file: String, location: String) throws(FormatError) -> Column {
        let bits = validity.finish()
        validity = BitBuilder()
        // Moving each array out leaves it uniquely referenced, so conversions work in place.
        func take<T>(_ array: inout [T]) -> [T] {
            var out: [T] = []
            swap(&out, &array)
            return out
        }
        switch leaf.physical {
        case .boolean:
            return Column(type: .bool, data: .bool(take(&bools)), validity: bits)
        case .float:
            return Column(type: .float32, data: .float32(take(&floats)), validity: bits)
        case .double:
            return Column(type: .float64, data: .float64(take(&doubles)), validity: bits)
        case .int32:
            return ValueConversions.int32Column(take(&int32s), leaf, bits)
        case .int64:
            return try ValueConversions.int64Column(take(&int64s), leaf, bits, file: file, location: location)
        case .int96:
            return ValueConversions.int96Column(fixed, bits)
        case .byteArray, .fixedLenByteArray:
            var data = BinaryData()
            swap(&data, &binary)
            if leaf.physical == .fixedLenByteArray {
                let width = leaf.storedWidth
                let count = fixed.count / max(width, 1)
                data = BinaryData(offsets: (0...count).map { $0 * width }, bytes: fixed)
            }
            if case .decimal(let scale) = leaf.conversion {
                return ValueConversions.decimalColumn(data, scale: scale, bits)
            }
            return Column(type: leaf.valueType, data: .binary(data), validity: bits)
        }
    }
}
