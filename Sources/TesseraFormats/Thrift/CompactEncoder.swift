/// Writes Thrift's compact protocol into a growing byte array.
struct CompactEncoder {
    var bytes: [UInt8] = []
    private var lastIds: [Int16] = []
    private var lastId: Int16 = 0

    init() {}

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func writeZigzag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func fieldHeader(_ id: Int16, _ type: CompactType) {
        let delta = id &- lastId
        if delta > 0, delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigzag(Int64(id))
        }
        lastId = id
    }

    mutating func beginStruct() {
        lastIds.append(lastId)
        lastId = 0
    }

    mutating func endStruct() {
        bytes.append(0)
        lastId = lastIds.popLast() ?? 0
    }

    mutating func field(_ id: Int16, i32 value: Int32) {
        fieldHeader(id, .i32)
        writeZigzag(Int64(value))
    }

    mutating func field(_ id: Int16, i64 value: Int64) {
        fieldHeader(id, .i64)
        writeZigzag(value)
    }

    mutating func field(_ id: Int16, i8 value: Int8) {
        fieldHeader(id, .byte)
        bytes.append(UInt8(bitPattern: value))
    }

    mutating func field(_ id: Int16, bool value: Bool) {
        fieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func field(_ id: Int16, binary value: [UInt8]) {
        fieldHeader(id, .binary)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func field(_ id: Int16, string value: String) {
        field(id, binary: Array(value.utf8))
    }

    /// A struct-valued field: `body` writes the inner fields.
    mutating func field(_ id: Int16, struct body: (inout CompactEncoder) -> Void) {
        fieldHeader(id, .structure)
        beginStruct()
        body(&self)
        endStruct()
    }

    mutating func listHeader(_ id: Int16, _ element: CompactType, count: Int) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xf0 | element.rawValue)
            writeVarint(UInt64(count))
        }
    }

    mutating func field(_ id: Int16, i32List values: [Int32]) {
        listHeader(id, .i32, count: values.count)
        for value in values { writeZigzag(Int64(value)) }
    }

    mutating func field(_ id: Int16, stringList values: [String]) {
        listHeader(id, .binary, count: values.count)
        for value in values {
            writeVarint(UInt64(value.utf8.count))
            bytes.append(contentsOf: value.utf8)
        }
    }

    /// A list of structs: `body` writes the inner fields of element `i`.
    mutating func field(_ id: Int16, structList count: Int, _ body: (inout CompactEncoder, Int) -> Void) {
        listHeader(id, .structure, count: count)
        for index in 0..<count {
            beginStruct()
            body(&self, index)
            endStruct()
        }
    }
}
