import TesseraColumnar
import TesseraCore

/// Tracks nulls without a bitmap until the first one appears (most columns have none).
struct CSVNulls {
    var validity: Bitmap? = nil
    var count = 0

    @inline(__always)
    mutating func valid() {
        if validity != nil { validity?.append(true) }
        count += 1
    }

    @inline(__always)
    mutating func null() {
        if validity == nil { validity = Bitmap(count: count, value: true) }
        validity?.append(false)
        count += 1
    }

    mutating func append(_ other: CSVNulls) {
        if other.validity == nil, validity == nil {
            count += other.count
            return
        }
        var bits = validity ?? Bitmap(count: count, value: true)
        if let theirs = other.validity {
            for i in 0..<other.count { bits.append(theirs[i]) }
        } else {
            for _ in 0..<other.count { bits.append(true) }
        }
        validity = bits
        count += other.count
    }
}

/// The values of one column being read, in typed arrays, converted from field positions
/// one column at a time (one `switch` per column per run of rows, then a tight loop).
struct CSVColumnBuffer {
    let field: Field
    /// The column's position in the file's header.
    let source: Int
    var nulls = CSVNulls()
    private var bools: [Bool] = []
    private var int32s: [Int32] = []
    private var int64s: [Int64] = []
    private var float32s: [Float] = []
    private var float64s: [Double] = []
    private var binary = BinaryData()
    private var list = CSVListBuilder()

    init(field: Field, source: Int) {
        self.field = field
        self.source = source
        if case .list(let element) = field.type { list = CSVListBuilder(element: element) }
    }

    var count: Int { nulls.count }

    /// Where a conversion stopped on a bad value: its row, and the problem.
    struct BadValue {
        var row: Int
        var offset: Int
        var message: String
    }

    /// Appends rows `0 ..< rows` of the index; stops at the first bad value and returns it.
    mutating func convert(_ base: UnsafePointer<UInt8>, _ index: borrowing CSVFieldIndex, rows: Int) -> BadValue? {
        let columns = index.columns
        let source = self.source
        let nullable = field.nullable
        let type = field.type
        var nulls = self.nulls
        defer { self.nulls = nulls }
        return index.starts.withUnsafeBufferPointer { starts in
            index.ends.withUnsafeBufferPointer { ends in
                // One loop per type: `value` parses and appends (false for a bad value),
                // `null` appends a placeholder, `message` explains a bad value.
                func run(
                    allowQuotedEmpty: Bool = false, null: () -> Void, value: (Int, Int, Bool) -> Bool,
                    message: (Int, Int) -> String
                ) -> BadValue? {
                    CSVColumnBuffer.loop(
                        rows: rows, columns: columns, source: source, starts: starts, ends: ends, nullable: nullable,
                        allowQuotedEmpty: allowQuotedEmpty, nulls: &nulls, null: null, value: value, message: message)
                }
                func notA(_ name: String, _ expected: String = "") -> (Int, Int) -> String {
                    { s, e in "'\(CSVText.snippet(base, s, e))' is not \(name)\(expected)" }
                }
                switch type {
                case .bool:
                    var values = self.bools
                    self.bools = []
                    defer { self.bools = values }
                    values.reserveGeometrically(rows)
                    return run(
                        null: { values.append(false) },
                        value: { s, e, _ in
                            guard let v = CSVValue.bool(base, s, e) else { return false }
                            values.append(v)
                            return true
                        }, message: notA("a bool", " (expected true or false)"))
                case .int32:
                    var values = self.int32s
                    self.int32s = []
                    defer { self.int32s = values }
                    values.reserveGeometrically(rows)
                    return run(
                        null: { values.append(0) },
                        value: { s, e, _ in
                            guard let v = CSVValue.int64(base, s, e), let narrow = Int32(exactly: v) else {
                                return false
                            }
                            values.append(narrow)
                            return true
                        },
                        message: { s, e in
                            CSVValue.int64(base, s, e) == nil
                                ? notA("an int32")(s, e) : "'\(CSVText.snippet(base, s, e))' is out of range for int32"
                        })
                case .int64, .timestamp:
                    var values = self.int64s
                    self.int64s = []
                    defer { self.int64s = values }
                    values.reserveGeometrically(rows)
                    if type == .timestamp {
                        return run(
                            null: { values.append(0) },
                            value: { s, e, _ in
                                guard let v = CSVValue.timestamp(base, s, e) else { return false }
                                values.append(v)
                                return true
                            }, message: notA("a timestamp", " (expected ISO 8601 such as 2026-01-01T00:00:00Z)"))
                    }
                    return run(
                        null: { values.append(0) },
                        value: { s, e, _ in
                            guard let v = CSVValue.int64(base, s, e) else { return false }
                            values.append(v)
                            return true
                        }, message: notA("an int64"))
                case .float32:
                    var values = self.float32s
                    self.float32s = []
                    defer { self.float32s = values }
                    values.reserveGeometrically(rows)
                    return run(
                        null: { values.append(0) },
                        value: { s, e, _ in
                            guard let v = CSVFloat.float(base, s, e) else { return false }
                            values.append(v)
                            return true
                        }, message: notA("a float32"))
                case .float64:
                    var values = self.float64s
                    self.float64s = []
                    defer { self.float64s = values }
                    values.reserveGeometrically(rows)
                    return run(
                        null: { values.append(0) },
                        value: { s, e, _ in
                            guard let v = CSVFloat.double(base, s, e) else { return false }
                            values.append(v)
                            return true
                        }, message: notA("a float64"))
                case .string, .bytes:
                    let checkUTF8 = type == .string
                    var binary = self.binary
                    self.binary = BinaryData()
                    defer { self.binary = binary }
                    binary.offsets.reserveGeometrically(rows)
                    return run(
                        allowQuotedEmpty: true, null: { binary.appendEmpty() },
                        value: { s, e, escaped in
                            if checkUTF8, !CSVUTF8.isValid(base, s, e) { return false }
                            CSVColumnBuffer.appendText(&binary, base, s, e, escaped: escaped)
                            return true
                        }, message: { _, _ in "the value is not valid UTF-8" })
                case .list:
                    var list = self.list
                    self.list = CSVListBuilder()
                    defer { self.list = list }
                    var problem = ""
                    return run(
                        null: { list.appendNull() },
                        value: { s, e, escaped in
                            do throws(CSVListBuilder.Problem) {
                                try list.append(base, s, e, escaped: escaped)
                                return true
                            } catch {
                                problem = error.message
                                return false
                            }
                        }, message: { s, e in "'\(CSVText.snippet(base, s, e))' is not a \(type.name): \(problem)" })
                }
            }
        }
    }

    @inline(__always)
    private static func loop(
        rows: Int, columns: Int, source: Int, starts: UnsafeBufferPointer<UInt32>, ends: UnsafeBufferPointer<UInt32>,
        nullable: Bool, allowQuotedEmpty: Bool, nulls: inout CSVNulls, null: () -> Void,
        value: (Int, Int, Bool) -> Bool, message: (Int, Int) -> String
    ) -> BadValue? {
        var slot = source
        for row in 0..<rows {
            let s = starts[slot]
            let e = ends[slot]
            slot += columns
            let start = Int(s & ~CSVFieldIndex.flag)
            let end = Int(e & ~CSVFieldIndex.flag)
            if start == end, !(allowQuotedEmpty && s & CSVFieldIndex.flag != 0) {
                guard nullable else {
                    return BadValue(
                        row: row, offset: start,
                        message: "the value is empty (null), but the column is declared not nullable")
                }
                null()
                nulls.null()
                continue
            }
            guard value(start, end, e & CSVFieldIndex.flag != 0) else {
                return BadValue(row: row, offset: start, message: message(start, end))
            }
            nulls.valid()
        }
        return nil
    }

    /// Appends a field's bytes, turning each `""` into `"` when the field had any.
    @inline(__always)
    static func appendText(_ binary: inout BinaryData, _ base: UnsafePointer<UInt8>, _ s: Int, _ e: Int, escaped: Bool)
    {
        if !escaped {
            binary.bytes.append(contentsOf: UnsafeBufferPointer(start: base + s, count: e - s))
        } else {
            var i = s
            while i < e {
                binary.bytes.append(base[i])
                i += base[i] == UInt8(ascii: "\"") ? 2 : 1
            }
        }
        binary.offsets.append(binary.bytes.count)
    }

    /// Appends another buffer of the same column (the second half of a parallel parse).
    mutating func append(_ other: CSVColumnBuffer) {
        nulls.append(other.nulls)
        bools.append(contentsOf: other.bools)
        int32s.append(contentsOf: other.int32s)
        int64s.append(contentsOf: other.int64s)
        float32s.append(contentsOf: other.float32s)
        float64s.append(contentsOf: other.float64s)
        let base = binary.bytes.count
        binary.bytes.append(contentsOf: other.binary.bytes)
        for offset in other.binary.offsets.dropFirst() { binary.offsets.append(base + offset) }
        list.append(other.list)
    }

    /// Makes room for `rows` values in all, so that appending does not copy as arrays grow.
    mutating func reserve(_ rows: Int) {
        switch field.type {
        case .bool: bools.reserveCapacity(rows)
        case .int32: int32s.reserveCapacity(rows)
        case .int64, .timestamp: int64s.reserveCapacity(rows)
        case .float32: float32s.reserveCapacity(rows)
        case .float64: float64s.reserveCapacity(rows)
        case .string, .bytes: binary.offsets.reserveCapacity(rows + 1)
        case .list: break
        }
    }

    /// Empties the buffer, keeping its memory for the next run of rows.
    mutating func clear() {
        nulls = CSVNulls()
        bools.removeAll(keepingCapacity: true)
        int32s.removeAll(keepingCapacity: true)
        int64s.removeAll(keepingCapacity: true)
        float32s.removeAll(keepingCapacity: true)
        float64s.removeAll(keepingCapacity: true)
        binary.bytes.removeAll(keepingCapacity: true)
        binary.offsets.removeAll(keepingCapacity: true)
        binary.offsets.append(0)
        if case .list(let element) = field.type { list = CSVListBuilder(element: element) }
    }

    /// The finished column; the buffer starts over empty.
    mutating func finish() -> Column {
        let data: ColumnData
        switch field.type {
        case .bool: data = .bool(bools)
        case .int32: data = .int32(int32s)
        case .int64, .timestamp: data = .int64(int64s)
        case .float32: data = .float32(float32s)
        case .float64: data = .float64(float64s)
        case .string, .bytes: data = .binary(binary)
        case .list: data = list.finish()
        }
        let column = Column(type: field.type, data: data, validity: nulls.validity)
        self = CSVColumnBuffer(field: field, source: source)
        return column
    }
}

/// UTF-8 validation with an ASCII fast path.
enum CSVUTF8 {
    static func isValid(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i + 8 <= end {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < end {
            let b = base[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let need: Int
            var scalar: UInt32
            if b & 0xE0 == 0xC0 {
                need = 1; scalar = UInt32(b & 0x1F)
            } else if b & 0xF0 == 0xE0 {
                need = 2; scalar = UInt32(b & 0x0F)
            } else if b & 0xF8 == 0xF0 {
                need = 3; scalar = UInt32(b & 0x07)
            } else {
                return false
            }
            guard i + need < end else { return false }
            for k in 1...need {
                let c = base[i + k]
                guard c & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(c & 0x3F)
            }
            // Overlong forms, surrogates and values past U+10FFFF are invalid.
            let minimum: UInt32 = need == 1 ? 0x80 : (need == 2 ? 0x800 : 0x10000)
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return false }
            i += need + 1
        }
        return true
    }
}

extension Array {
    /// Room for `extra` more elements, growing by doubling: `reserveCapacity` alone allocates
    /// exactly what is asked, which made appending block after block quadratic.
    @inline(__always)
    mutating func reserveGeometrically(_ extra: Int) {
        let needed = count + extra
        if needed > capacity { reserveCapacity(Swift.max(needed, capacity * 2)) }
    }
}
