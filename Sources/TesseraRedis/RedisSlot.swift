/// Redis Cluster's key slots: CRC16 (XMODEM) of the key — or of its hash tag, the part
/// between the first `{` and the next `}` when not empty — modulo 16,384.
public enum RedisSlot {
    public static let count = 16_384

    /// The slot of the key `head` + `tail` (a prefix and an entity's bytes), without joining them.
    public static func of(_ head: some Collection<UInt8>, _ tail: some Collection<UInt8> = EmptyCollection()) -> Int {
        // The hash tag: from the first '{' to the next '}', when something lies between.
        var open: Int?
        var index = 0
        var tagStart = -1
        var tagEnd = -1
        func visit(_ byte: UInt8) -> Bool {
            defer { index += 1 }
            if open == nil {
                if byte == UInt8(ascii: "{") { open = index + 1 }
            } else if byte == UInt8(ascii: "}"), let start = open {
                if index > start {
                    tagStart = start
                    tagEnd = index
                    return true
                }
                // "{}": no tag; the whole key is hashed.
                return true
            }
            return false
        }
        var done = false
        for byte in head where !done { done = visit(byte) }
        for byte in tail where !done { done = visit(byte) }
        var crc: UInt16 = 0
        var position = 0
        func add(_ byte: UInt8) {
            if tagStart < 0 || (position >= tagStart && position < tagEnd) {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
            }
            position += 1
        }
        for byte in head { add(byte) }
        for byte in tail { add(byte) }
        return Int(crc) % count
    }

    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), by byte.
    static let table: [UInt16] = (0..<256).map { value in
        var crc = UInt16(value) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
