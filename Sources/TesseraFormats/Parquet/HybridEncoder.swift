/// Writes the RLE / bit-packed hybrid encoding: runs of 8 or more equal values
/// as RLE runs, everything else bit-packed in groups of 8.
enum HybridEncoder {
    /// Appends the encoding of `values` (each must fit in `width` bits, 0...32) to `output`.
    static func encode<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>, width: Int, appendingTo output: inout [UInt8]
    ) {
        let n = values.count
        guard n > 0, let input = values.baseAddress else { return }
        // Worst case: every group of 8 bit-packed, plus one header per 8 values.
        let bound = (n + 8) * width / 8 + (n / 8 + 2) * 10 + 16
        let start = output.count
        output.reserveGrowing(start + bound)
        let encoded = [UInt8](unsafeUninitializedCapacity: bound) { out, written in
            guard let base = out.baseAddress else { return }
            var position = 0
            var literalStart = 0
            var literalCount = 0

            func varint(_ value: Int) {
                var v = UInt64(value)
                while v >= 0x80 {
                    base[position] = UInt8(v & 0x7f) | 0x80
                    position += 1
                    v >>= 7
                }
                base[position] = UInt8(v)
                position += 1
            }

            /// Bit-packs `count` values from `from` (a multiple of 8, or the tail padded with zeros).
            func flushLiterals(upTo count: Int) {
                guard count > 0 else { return }
                let groups = (count + 7) / 8
                varint(groups << 1 | 1)
                var accumulator: UInt64 = 0
                var bits = 0
                for k in 0..<(groups * 8) {
                    let value: UInt64 = k < count ? UInt64(input[literalStart + k]) : 0
                    accumulator |= value << UInt64(bits)
                    bits += width
                    while bits >= 8 {
                        base[position] = UInt8(truncatingIfNeeded: accumulator)
                        position += 1
                        accumulator >>= 8
                        bits -= 8
                    }
                }
                if bits > 0 {
                    base[position] = UInt8(truncatingIfNeeded: accumulator)
                    position += 1
                }
            }

            var i = 0
            while i < n {
                let value = input[i]
                var j = i + 1
                while j < n, input[j] == value { j += 1 }
                var run = j - i
                if run >= 8 {
                    // Top the pending literals up to a whole group from the run itself.
                    let pad = (8 - literalCount % 8) % 8
                    if literalCount > 0 {
                        literalCount += pad
                        run -= pad
                        flushLiterals(upTo: literalCount)
                    }
                    if run >= 8 {
                        varint(run << 1)
                        var v = UInt64(value)
                        for _ in 0..<((width + 7) / 8) {
                            base[position] = UInt8(truncatingIfNeeded: v)
                            position += 1
                            v >>= 8
                        }
                        literalStart = j
                        literalCount = 0
                    } else {
                        literalStart = j - run
                        literalCount = run
                    }
                } else {
                    if literalCount == 0 { literalStart = i }
                    literalCount += run
                    if literalCount >= 512, literalCount % 8 == 0 {
                        flushLiterals(upTo: literalCount)
                        literalCount = 0
                        literalStart = j
                    }
                }
                i = j
            }
            flushLiterals(upTo: literalCount)
            written = position
        }
        output.append(contentsOf: encoded)
    }
}
