/// Writes the RLE / bit-packed hybrid encoding: runs of 8 or more equal values
/// as RLE runs, everything else bit-packed in groups of 8.
struct HybridEncoder {
    let width: Int
    private(set) var bytes: [UInt8] = []
    private var literals: [UInt32] = []

    init(width: Int, capacity: Int = 0) {
        self.width = width
        bytes.reserveCapacity(capacity)
        literals.reserveCapacity(512)
    }

    /// Encodes `values` (each must fit in `width` bits).
    mutating func encode<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafeBufferPointer<T>) {
        let n = values.count
        var i = 0
        while i < n {
            let value = values[i]
            var j = i + 1
            while j < n, values[j] == value { j += 1 }
            var run = j - i
            if run >= 8 {
                // Top the pending literals up to a whole group before starting a run.
                let pad = (8 - literals.count % 8) % 8
                if pad > 0 {
                    for _ in 0..<pad { literals.append(UInt32(value)) }
                    run -= pad
                }
                flushLiterals()
                if run >= 8 {
                    writeRun(UInt32(value), count: run)
                } else {
                    for _ in 0..<run { literals.append(UInt32(value)) }
                }
            } else {
                for k in i..<j { literals.append(UInt32(values[k])) }
                if literals.count >= 504 && literals.count % 8 == 0 { flushLiterals() }
            }
            i = j
        }
    }

    /// Flushes pending values (padding the last group with zeros) and returns the bytes.
    mutating func finish() -> [UInt8] {
        if !literals.isEmpty {
            while literals.count % 8 != 0 { literals.append(0) }
            flushLiterals()
        }
        return bytes
    }

    private mutating func writeVarint(_ value: Int) {
        var v = UInt64(value)
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func writeRun(_ value: UInt32, count: Int) {
        writeVarint(count << 1)
        var v = value
        for _ in 0..<((width + 7) / 8) {
            bytes.append(UInt8(v & 0xff))
            v >>= 8
        }
    }

    private mutating func flushLiterals() {
        guard !literals.isEmpty else { return }
        let groups = literals.count / 8
        writeVarint(groups << 1 | 1)
        BitPack.append(literals, width: width, to: &bytes)
        literals.removeAll(keepingCapacity: true)
    }
}

enum BitPack {
    /// Packs `values` at `width` bits each, least significant bit first.
    static func append(_ values: [UInt32], width: Int, to bytes: inout [UInt8]) {
        guard width > 0 else { return }
        var accumulator: UInt64 = 0
        var bits = 0
        for value in values {
            accumulator |= UInt64(value) << UInt64(bits)
            bits += width
            while bits >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator >>= 8
                bits -= 8
            }
        }
        if bits > 0 { bytes.append(UInt8(truncatingIfNeeded: accumulator)) }
    }
}
