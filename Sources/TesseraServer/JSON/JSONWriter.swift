/// Writes compact JSON into a byte array, the way Python's `json.dumps(..., ensure_ascii=False,
/// separators=(",", ":"))` does (what Feast's server sends): strings escape only quotes,
/// backslashes and control characters; floats use the shortest text that round-trips.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    public mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func null() { raw("null") }

    /// Appends again bytes already written at `range` (a repeated member).
    @inline(__always)
    public mutating func repeatBytes(_ range: Range<Int>) {
        let start = bytes.count
        bytes.reserveCapacity(start + range.count)
        for i in range { bytes.append(bytes[i]) }
    }

    /// A number as at least `width` decimal digits, zero-padded (dates and times): never cut
    /// short, so a year past 9999 prints whole, and a negative number gets its sign first.
    @inline(__always)
    public mutating func digits(_ value: Int64, _ width: Int) {
        if value < 0 { bytes.append(0x2D) }
        let magnitude = value.magnitude
        var count = 1
        var divisor: UInt64 = 1
        while divisor <= magnitude / 10 {
            divisor &*= 10
            count += 1
        }
        for _ in count..<max(count, width) { bytes.append(0x30) }
        var rest = magnitude
        while divisor > 0 {
            bytes.append(0x30 &+ UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    public mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    public mutating func int(_ value: Int64) {
        if value >= 0 && value < 10 {
            bytes.append(0x30 + UInt8(value))
            return
        }
        var text = value.description
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// A double as Python's `repr` prints it (`0.1`, `1e-05`, `100.0`); non-finite values
    /// are not JSON and become `null`.
    public mutating func double(_ value: Double) {
        guard value.isFinite else {
            null()
            return
        }
        var text = value.description
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ value: String) {
        bytes.append(0x22)
        var copy = value
        copy.withUTF8 { utf8 in
            var start = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                if i > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
                switch c {
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                default:
                    raw("\\u00")
                    let digits: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(digits[Int(c >> 4)])
                    bytes.append(digits[Int(c & 15)])
                }
                start = i + 1
            }
            if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count])) }
        }
        bytes.append(0x22)
    }

    /// Writes any parsed value back out.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let v): bool(v)
        case .int(let v): int(v)
        case .double(let v): double(v)
        case .string(let v): string(v)
        case .array(let items):
            byte(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { byte(0x2C) }
                self.value(item)
            }
            byte(0x5D)
        case .object(let members):
            byte(0x7B)
            for (i, member) in members.enumerated() {
                if i > 0 { byte(0x2C) }
                string(member.key)
                byte(0x3A)
                self.value(member.value)
            }
            byte(0x7D)
        }
    }
}
