/// Reads the FlatBuffers tables of Arrow's IPC messages (`Message.fbs`, `Schema.fbs`):
/// every read is bounds-checked and a bad offset is `nil`, never a crash, because the bytes
/// come from a client.
struct FlatBufferTable {
    let bytes: [UInt8]
    /// Where the table starts in `bytes`.
    let position: Int

    /// The root table of a buffer that starts at `start` (its first word is the offset to it).
    init?(root bytes: [UInt8], at start: Int = 0) {
        guard let offset = FlatBufferTable.u32(bytes, start) else { return nil }
        self.init(bytes, start + Int(offset))
    }

    init?(_ bytes: [UInt8], _ position: Int) {
        guard position >= 0, position + 4 <= bytes.count else { return nil }
        self.bytes = bytes
        self.position = position
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32? {
        guard at >= 0, at + 4 <= bytes.count else { return nil }
        return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16
            | UInt32(bytes[at + 3]) << 24
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16? {
        guard at >= 0, at + 2 <= bytes.count else { return nil }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    static func i64(_ bytes: [UInt8], _ at: Int) -> Int64? {
        guard at >= 0, at + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return Int64(bitPattern: value)
    }

    /// Where field `index`'s value sits, or `nil` when the table does not hold it.
    func field(_ index: Int) -> Int? {
        guard let soffset = FlatBufferTable.u32(bytes, position) else { return nil }
        let vtable = position - Int(Int32(bitPattern: soffset))
        guard let vtableSize = FlatBufferTable.u16(bytes, vtable), 4 + 2 * index + 2 <= Int(vtableSize),
            let offset = FlatBufferTable.u16(bytes, vtable + 4 + 2 * index), offset != 0
        else { return nil }
        return position + Int(offset)
    }

    func u8(_ index: Int, default value: UInt8 = 0) -> UInt8 {
        guard let at = field(index), at < bytes.count else { return value }
        return bytes[at]
    }

    func bool(_ index: Int) -> Bool { u8(index) != 0 }

    func i16(_ index: Int, default value: Int16 = 0) -> Int16 {
        guard let at = field(index), let raw = FlatBufferTable.u16(bytes, at) else { return value }
        return Int16(bitPattern: raw)
    }

    func i32(_ index: Int, default value: Int32 = 0) -> Int32 {
        guard let at = field(index), let raw = FlatBufferTable.u32(bytes, at) else { return value }
        return Int32(bitPattern: raw)
    }

    func i64(_ index: Int, default value: Int64 = 0) -> Int64 {
        guard let at = field(index) else { return value }
        return FlatBufferTable.i64(bytes, at) ?? value
    }

    /// Where the object field `index` points (tables, vectors and strings are stored by offset).
    private func indirect(_ index: Int) -> Int? {
        guard let at = field(index), let offset = FlatBufferTable.u32(bytes, at) else { return nil }
        return at + Int(offset)
    }

    func table(_ index: Int) -> FlatBufferTable? { indirect(index).flatMap { FlatBufferTable(bytes, $0) } }

    func string(_ index: Int) -> String? {
        guard let at = indirect(index), let length = FlatBufferTable.u32(bytes, at), at + 4 + Int(length) <= bytes.count
        else { return nil }
        return String(decoding: bytes[(at + 4)..<(at + 4 + Int(length))], as: UTF8.self)
    }

    /// The tables of vector field `index`.
    func tables(_ index: Int) -> [FlatBufferTable]? {
        guard let at = indirect(index), let count = FlatBufferTable.u32(bytes, at),
            at + 4 + 4 * Int(count) <= bytes.count
        else { return nil }
        var out: [FlatBufferTable] = []
        for i in 0..<Int(count) {
            let slot = at + 4 + 4 * i
            guard let offset = FlatBufferTable.u32(bytes, slot), let table = FlatBufferTable(bytes, slot + Int(offset))
            else { return nil }
            out.append(table)
        }
        return out
    }

    /// The structs of vector field `index`, each `width` bytes, as their start positions.
    func structs(_ index: Int, width: Int) -> [Int]? {
        guard let at = indirect(index), let count = FlatBufferTable.u32(bytes, at),
            at + 4 + width * Int(count) <= bytes.count
        else { return nil }
        return (0..<Int(count)).map { at + 4 + width * $0 }
    }
}
