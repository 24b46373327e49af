/// A minimal FlatBuffers builder: tables of scalars and offsets, vectors of offsets and of
/// structs, and strings — what Arrow's IPC metadata (Schema.fbs, Message.fbs) needs.
///
/// Built back to front, as FlatBuffers are: `bytes` holds the finished tail of the buffer
/// in reverse, and every object is named by its distance from the end ("offset from end"),
/// so an offset stored later (nearer the front) points forward to what it references.
struct FlatBufferBuilder {
    /// The buffer's tail, last byte first.
    private var reversed: [UInt8] = []
    /// The largest alignment used (the finished buffer is padded to it).
    private var maxAlign = 1
    /// The fields of the table being built: slot and offset from end.
    private var fields: [(slot: Int, at: Int)] = []
    private var tableStart = 0

    typealias Offset = Int

    var size: Int { reversed.count }

    private mutating func pad(to alignment: Int, after extra: Int = 0) {
        maxAlign = max(maxAlign, alignment)
        while (reversed.count + extra) % alignment != 0 { reversed.append(0) }
    }

    /// Prepends the little-endian bytes of `value`, aligned to its size.
    private mutating func prepend<T: FixedWidthInteger>(_ value: T) {
        pad(to: MemoryLayout<T>.size)
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { raw in for byte in raw.reversed() { reversed.append(byte) } }
    }

    /// A string: its length, its UTF-8 bytes and a terminating zero.
    mutating func string(_ text: String) -> Offset {
        let utf8 = Array(text.utf8)
        pad(to: 4, after: utf8.count + 1)
        reversed.append(0)
        for byte in utf8.reversed() { reversed.append(byte) }
        prepend(UInt32(utf8.count))
        return reversed.count
    }

    /// A vector of offsets to objects built before.
    mutating func vector(offsets: [Offset]) -> Offset {
        pad(to: 4, after: 4 * offsets.count)
        for target in offsets.reversed() { prepend(UInt32(reversed.count + 4 - target)) }
        prepend(UInt32(offsets.count))
        return reversed.count
    }

    /// A vector of structs of two 64-bit integers each (Arrow's FieldNode and Buffer).
    mutating func vector(pairs: [(Int64, Int64)]) -> Offset {
        pad(to: 8)  // the structs start 8-aligned, just after the 4-byte length
        for (a, b) in pairs.reversed() {
            prepend(b)
            prepend(a)
        }
        prepend(UInt32(pairs.count))
        return reversed.count
    }

    mutating func startTable() {
        fields = []
        tableStart = reversed.count
    }

    mutating func add<T: FixedWidthInteger>(_ slot: Int, _ value: T) {
        prepend(value)
        fields.append((slot, reversed.count))
    }

    mutating func add(_ slot: Int, _ value: Bool) { add(slot, UInt8(value ? 1 : 0)) }

    mutating func add(_ slot: Int, offset target: Offset) {
        pad(to: 4)
        prepend(UInt32(reversed.count + 4 - target))
        fields.append((slot, reversed.count))
    }

    /// Ends the table: its vtable (written just before it) says where each field is.
    mutating func endTable() -> Offset {
        prepend(Int32(0))  // the table's offset to its vtable, patched below
        let table = reversed.count
        let slots = (fields.map(\.slot).max() ?? -1) + 1
        var entries = [UInt16](repeating: 0, count: slots)
        for field in fields { entries[field.slot] = UInt16(table - field.at) }
        for entry in entries.reversed() { prepend(entry) }
        prepend(UInt16(table - tableStart))
        prepend(UInt16(4 + 2 * slots))
        let vtable = reversed.count
        // soffset: table address minus vtable address, in the finished buffer.
        let soffset = Int32(vtable - table)
        var v = soffset.littleEndian
        withUnsafeBytes(of: &v) { raw in
            for (k, byte) in raw.enumerated() { reversed[table - 1 - k] = byte }
        }
        return table
    }

    /// The finished buffer whose root is `root`, padded to a multiple of 8 bytes.
    mutating func finish(_ root: Offset) -> [UInt8] {
        pad(to: max(8, maxAlign), after: 4)
        prepend(UInt32(reversed.count + 4 - root))
        return reversed.reversed()
    }
}
