/// The wire types of Thrift's compact protocol (the low nibble of a field header).
enum CompactType: UInt8, Sendable {
    case stop = 0
    case boolTrue = 1
    case boolFalse = 2
    case byte = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case structure = 12
}

/// A problem in Thrift-encoded metadata; the caller adds the file and location.
struct ThriftError: Error, Sendable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Reads Thrift's compact protocol from a byte range.
///
/// Every length and count is checked against the bytes that remain, and nesting
/// is bounded, so hostile metadata ends in a `ThriftError` rather than a crash or
/// an unbounded allocation.
struct CompactDecoder {
    private let base: UnsafeRawBufferPointer
    /// The offset of the next unread byte.
    private(set) var position: Int
    private var depth = 0
    /// Structs nested deeper than this are refused (real Parquet metadata nests about 6 deep).
    static let maxDepth = 64

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.base = bytes
        self.position = position
    }

    var remaining: Int { base.count - position }

    mutating func readByte() throws(ThriftError) -> UInt8 {
        guard position < base.count else { throw ThriftError("metadata ends in the middle of a value") }
        let byte = base[position]
        position += 1
        return byte
    }

    mutating func readVarint() throws(ThriftError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63, byte > 1 { throw ThriftError("varint overflows 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ThriftError("varint longer than 10 bytes") }
        }
    }

    mutating func readZigzag64() throws(ThriftError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func readI64(_ type: CompactType) throws(ThriftError) -> Int64 {
        guard type == .i64 || type == .i32 || type == .i16 else { throw wrongType(type, "i64") }
        return try readZigzag64()
    }

    mutating func readI32(_ type: CompactType) throws(ThriftError) -> Int32 {
        guard type == .i32 || type == .i16 else { throw wrongType(type, "i32") }
        let value = try readZigzag64()
        guard let narrow = Int32(exactly: value) else { throw ThriftError("i32 value \(value) out of range") }
        return narrow
    }

    mutating func readI8(_ type: CompactType) throws(ThriftError) -> Int8 {
        guard type == .byte else { throw wrongType(type, "i8") }
        return Int8(bitPattern: try readByte())
    }

    /// A boolean field's value lives in its header's type nibble.
    func readBool(_ type: CompactType) throws(ThriftError) -> Bool {
        switch type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw wrongType(type, "bool")
        }
    }

    mutating func readDouble(_ type: CompactType) throws(ThriftError) -> Double {
        guard type == .double else { throw wrongType(type, "double") }
        let bytes = try readBytesRange(8)
        var bits: UInt64 = 0
        for k in 0..<8 { bits |= UInt64(base[bytes.lowerBound + k]) << UInt64(8 * k) }
        return Double(bitPattern: bits)
    }

    private mutating func readBytesRange(_ count: Int) throws(ThriftError) -> Range<Int> {
        guard count >= 0, count <= remaining else {
            throw ThriftError("a length of \(count) bytes runs past the end of the metadata (\(remaining) left)")
        }
        let range = position..<(position + count)
        position += count
        return range
    }

    mutating func readBinary(_ type: CompactType) throws(ThriftError) -> [UInt8] {
        guard type == .binary else { throw wrongType(type, "binary") }
        let length = try readVarint()
        guard length <= UInt64(remaining) else {
            throw ThriftError("a length of \(length) bytes runs past the end of the metadata (\(remaining) left)")
        }
        let range = try readBytesRange(Int(length))
        return Array(UnsafeRawBufferPointer(rebasing: base[range]))
    }

    mutating func readString(_ type: CompactType) throws(ThriftError) -> String {
        String(decoding: try readBinary(type), as: UTF8.self)
    }

    /// Reads a list header; returns the element type and count (the count is checked
    /// against the remaining bytes, since every element takes at least one byte).
    mutating func readListHeader(_ type: CompactType) throws(ThriftError) -> (CompactType, Int) {
        guard type == .list || type == .set else { throw wrongType(type, "list") }
        let header = try readByte()
        var count = UInt64(header >> 4)
        if count == 15 { count = try readVarint() }
        guard let element = CompactType(rawValue: header & 0x0f) else {
            throw ThriftError("unknown list element type \(header & 0x0f)")
        }
        guard count <= UInt64(remaining) else {
            throw ThriftError("list of \(count) elements is longer than the \(remaining) bytes left")
        }
        return (element, Int(count))
    }

    /// Reads a list of elements with `element`.
    mutating func readList<T>(
        _ type: CompactType, _ element: (inout CompactDecoder, CompactType) throws(ThriftError) -> T
    ) throws(ThriftError) -> [T] {
        let (elementType, count) = try readListHeader(type)
        var out: [T] = []
        // The count is bounded by the bytes left, but an element may take far more memory
        // than its one byte on the wire: reserve at most 1 MiB and let real elements grow it.
        out.reserveCapacity(min(count, (1 << 20) / max(MemoryLayout<T>.stride, 1)))
        for _ in 0..<count { out.append(try element(&self, elementType)) }
        return out
    }

    /// Reads a struct, calling `field` for each field header; `field` returns
    /// `false` for a field it does not know, which is then skipped.
    mutating func readStruct(
        _ type: CompactType = .structure,
        _ field: (inout CompactDecoder, Int16, CompactType) throws(ThriftError) -> Bool
    ) throws(ThriftError) {
        guard type == .structure else { throw wrongType(type, "struct") }
        depth += 1
        defer { depth -= 1 }
        guard depth <= CompactDecoder.maxDepth else {
            throw ThriftError("metadata nests deeper than \(CompactDecoder.maxDepth)")
        }
        var lastId: Int16 = 0
        while true {
            let header = try readByte()
            if header == 0 { return }
            guard let fieldType = CompactType(rawValue: header & 0x0f), fieldType != .stop else {
                throw ThriftError("unknown field type \(header & 0x0f)")
            }
            let delta = header >> 4
            let id: Int16
            if delta != 0 {
                id = lastId &+ Int16(delta)
            } else {
                let raw = try readZigzag64()
                guard let narrow = Int16(exactly: raw) else { throw ThriftError("field id \(raw) out of range") }
                id = narrow
            }
            lastId = id
            if try !field(&self, id, fieldType) {
                try skip(fieldType)
            }
        }
    }

    /// Skips a value of `type` (an unknown field, or a field of a later format version).
    mutating func skip(_ type: CompactType) throws(ThriftError) {
        switch type {
        case .stop: throw ThriftError("unexpected stop marker")
        case .boolTrue, .boolFalse: return
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double: _ = try readBytesRange(8)
        case .binary:
            let length = try readVarint()
            guard length <= UInt64(remaining) else { throw ThriftError("binary of \(length) bytes runs past the end") }
            _ = try readBytesRange(Int(length))
        case .list, .set:
            let (element, count) = try readListHeader(type)
            try nested {
                (decoder: inout CompactDecoder) throws(ThriftError) in
                for _ in 0..<count {
                    // Booleans inside lists take one byte each.
                    if element == .boolTrue || element == .boolFalse {
                        _ = try decoder.readByte()
                    } else {
                        try decoder.skip(element)
                    }
                }
            }
        case .map:
            let count = try readVarint()
            guard count <= UInt64(remaining) else { throw ThriftError("map of \(count) entries runs past the end") }
            if count == 0 { return }
            let types = try readByte()
            guard let key = CompactType(rawValue: types >> 4), let value = CompactType(rawValue: types & 0x0f) else {
                throw ThriftError("unknown map key or value type")
            }
            try nested {
                (decoder: inout CompactDecoder) throws(ThriftError) in
                for _ in 0..<count {
                    try decoder.skipElement(key)
                    try decoder.skipElement(value)
                }
            }
        case .structure:
            try readStruct(.structure) { _, _, _ throws(ThriftError) in false }
        }
    }

    private mutating func skipElement(_ type: CompactType) throws(ThriftError) {
        if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type) }
    }

    private mutating func nested(_ body: (inout CompactDecoder) throws(ThriftError) -> Void) throws(ThriftError) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= CompactDecoder.maxDepth else {
            throw ThriftError("metadata nests deeper than \(CompactDecoder.maxDepth)")
        }
        try body(&self)
    }

    private func wrongType(_ type: CompactType, _ expected: String) -> ThriftError {
        ThriftError("expected a field of type \(expected), found wire type \(type.rawValue)")
    }
}
