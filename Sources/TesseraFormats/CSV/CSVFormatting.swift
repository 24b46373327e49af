import TesseraColumnar
import TesseraCore

/// A growable output byte buffer written with raw stores (the writer's hot path).
///
/// A plain struct over a pointer, so that a writer can keep one per column in an array:
/// its owner works on one copy at a time (take it out, use it, put it back) and calls
/// `free()` once at the end.
struct CSVOutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    func free() { base.deallocate() }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private mutating func grow(_ needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        larger.update(from: base, count: count)
        base.deallocate()
        base = larger
        capacity = size
    }

    /// Appends one byte; the caller has reserved room.
    @inline(__always)
    mutating func put(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let source = bytes.baseAddress { (base + count).update(from: source, count: bytes.count) }
        count += bytes.count
    }

    mutating func append(_ text: String) {
        var copy = text
        copy.withUTF8 { append($0) }
    }

    /// Appends a decimal integer.
    @inline(__always)
    mutating func append(int value: Int64) {
        reserve(20)
        var magnitude = value.magnitude
        if value < 0 { put(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, filled from the end
        let written = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var i = 24
            repeat {
                i -= 1
                scratch[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                magnitude /= 10
            } while magnitude != 0
            (base + count).update(
                from: scratch.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self) + i, count: 24 - i)
            return 24 - i
        }
        count += written
    }

    /// Appends `value` as two (or more) digits with leading zeros up to `width`.
    @inline(__always)
    mutating func put(_ value: Int64, width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            put(UInt8(truncatingIfNeeded: v / divisor) &+ 48)
            v %= divisor
            divisor /= 10
        }
    }

    /// Appends a floating-point value in its shortest round-trip form (`nan`, `inf`, `-inf`).
    @inline(__always)
    mutating func append<F: BinaryFloatingPoint & CustomStringConvertible>(float value: F) {
        if value.isNaN {
            append("nan")
        } else {
            append(value.description)  // "inf", "-inf" for infinities
        }
    }

    /// Appends a field's bytes, quoted (with `"` doubled) when it holds the delimiter, a
    /// quote, CR or LF, or is empty (so that it reads back as an empty string, not null).
    mutating func append(field bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8) {
        var needsQuotes = bytes.isEmpty
        var quotes = 0
        for byte in bytes {
            if byte == UInt8(ascii: "\"") {
                quotes += 1
                needsQuotes = true
            } else if byte == delimiter || byte == 10 || byte == 13 {
                needsQuotes = true
            }
        }
        guard needsQuotes else {
            append(bytes)
            return
        }
        reserve(bytes.count + quotes + 2)
        put(UInt8(ascii: "\""))
        for byte in bytes {
            put(byte)
            if byte == UInt8(ascii: "\"") { put(byte) }
        }
        put(UInt8(ascii: "\""))
    }
}

/// Formats timestamps as `Timestamp.iso8601` does, straight into bytes, remembering the
/// date text of recent days in a small direct-mapped cache (timestamps in a file usually
/// span few days, and the civil-date arithmetic is the costly part).
struct CSVTimestampFormatter {
    private static let slots = 64
    private var days = [Int64](repeating: .min, count: CSVTimestampFormatter.slots)
    /// "YYYY-MM-DD" of each slot, in the first 10 bytes of 16.
    private var texts = [UInt64](repeating: 0, count: CSVTimestampFormatter.slots * 2)

    mutating func append(_ micros: Int64, to out: inout CSVOutputBuffer) {
        var day = micros / 86_400_000_000
        var rem = micros % 86_400_000_000
        if rem < 0 {
            rem += 86_400_000_000
            day -= 1
        }
        let slot = Int(UInt64(bitPattern: day) % UInt64(CSVTimestampFormatter.slots))
        if days[slot] != day {
            let (y, m, d) = Timestamp.civilFromDays(day)
            guard y >= 0, y <= 9999 else {
                // Outside four-digit years: the general formatter (rare).
                out.append(Timestamp(microseconds: micros).iso8601)
                return
            }
            days[slot] = day
            var text: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &text) { bytes in
                func digits(_ value: Int64, _ at: Int, _ width: Int) {
                    var v = value
                    for k in stride(from: at + width - 1, through: at, by: -1) {
                        bytes[k] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                        v /= 10
                    }
                }
                digits(y, 0, 4)
                bytes[4] = UInt8(ascii: "-")
                digits(m, 5, 2)
                bytes[7] = UInt8(ascii: "-")
                digits(d, 8, 2)
            }
            texts[slot * 2] = text.0
            texts[slot * 2 + 1] = text.1
        }
        out.reserve(32)
        var text = (texts[slot * 2], texts[slot * 2 + 1])
        withUnsafeBytes(of: &text) { bytes in
            for k in 0..<10 { out.put(bytes[k]) }
        }
        out.put(UInt8(ascii: "T"))
        let secs = rem / 1_000_000
        let frac = rem % 1_000_000
        out.put(secs / 3600, width: 2)
        out.put(UInt8(ascii: ":"))
        out.put(secs / 60 % 60, width: 2)
        out.put(UInt8(ascii: ":"))
        out.put(secs % 60, width: 2)
        if frac != 0 {
            var digits = frac
            var width = 6
            while digits % 10 == 0 {
                digits /= 10
                width -= 1
            }
            out.put(UInt8(ascii: "."))
            out.put(digits, width: width)
        }
        out.put(UInt8(ascii: "Z"))
    }
}

/// Lists as JSON-like text (`[1, 2.5, null]`, `["a", "b\"c"]`); the reader's `CSVListBuilder` reads it back.
enum CSVListText {
    static func format(_ values: [ScalarValue]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (k, value) in values.enumerated() {
            if k > 0 { out.append(contentsOf: ", ".utf8) }
            switch value {
            case .null: out.append(contentsOf: "null".utf8)
            case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
            case .int32(let v): out.append(contentsOf: String(v).utf8)
            case .int64(let v): out.append(contentsOf: String(v).utf8)
            case .float32(let v): out.append(contentsOf: (v.isNaN ? "nan" : v.description).utf8)
            case .float64(let v): out.append(contentsOf: (v.isNaN ? "nan" : v.description).utf8)
            case .string(let v): quote(Array(v.utf8), into: &out)
            case .bytes(let v): quote(v, into: &out)
            case .timestamp(let v): quote(Array(v.iso8601.utf8), into: &out)
            case .list: out.append(contentsOf: "null".utf8)  // nested lists are not a Tessera type
            }
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    private static func quote(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 10: out.append(contentsOf: "\\n".utf8)
            case 13: out.append(contentsOf: "\\r".utf8)
            case 9: out.append(contentsOf: "\\t".utf8)
            case 0..<32:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
