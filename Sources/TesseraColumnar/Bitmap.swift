/// A packed bit vector; in a column it marks which slots hold a value (bit set) and which are null.
public struct Bitmap: Sendable, Equatable {
    /// The bits, 64 per word, least significant bit first.
    public var words: [UInt64]
    /// The number of bits.
    public private(set) var count: Int

    /// A bitmap of `count` bits, all set or all clear.
    public init(count: Int, value: Bool) {
        self.count = count
        let fill: UInt64 = value ? ~0 : 0
        self.words = [UInt64](repeating: fill, count: (count + 63) / 64)
        if value { clearTail() }
    }

    /// A bitmap from an array of booleans, packed a word at a time.
    public init(_ bits: [Bool]) {
        count = bits.count
        var words = [UInt64](repeating: 0, count: (bits.count + 63) / 64)
        // Booleans read as their bytes (0 or 1): a shift and an OR per bit, no branch.
        bits.withUnsafeBytes { bits in
            words.withUnsafeMutableBufferPointer { words in
                for w in words.indices {
                    var word: UInt64 = 0
                    let base = w << 6
                    for b in 0..<min(64, bits.count - base) { word |= UInt64(bits[base + b]) << UInt64(b) }
                    words[w] = word
                }
            }
        }
        self.words = words
    }

    /// A bitmap from booleans.
    public init(_ bits: some Sequence<Bool>) {
        self.words = []
        self.count = 0
        for bit in bits { append(bit) }
    }

    /// Wraps words already packed; bits past `count` are cleared.
    public init(words: [UInt64], count: Int) {
        precondition(words.count == (count + 63) / 64, "bitmap word count does not match bit count")
        self.words = words
        self.count = count
        clearTail()
    }

    @inlinable
    public subscript(index: Int) -> Bool {
        get { (words[index >> 6] >> UInt64(index & 63)) & 1 == 1 }
        set {
            if newValue {
                words[index >> 6] |= 1 << UInt64(index & 63)
            } else {
                words[index >> 6] &= ~(1 << UInt64(index & 63))
            }
        }
    }

    /// The bits as booleans, a word at a time.
    public var bools: [Bool] {
        [Bool](unsafeUninitializedCapacity: count) { out, initialized in
            words.withUnsafeBufferPointer { words in
                var i = 0
                for word in words {
                    var w = word
                    let end = Swift.min(count, i + 64)
                    while i < end {
                        out[i] = w & 1 != 0
                        w >>= 1
                        i += 1
                    }
                }
            }
            initialized = count
        }
    }

    public mutating func append(_ bit: Bool) {
        if count & 63 == 0 { words.append(0) }
        if bit { words[count >> 6] |= 1 << UInt64(count & 63) }
        count += 1
    }

    public mutating func reserveCapacity(_ bits: Int) {
        words.reserveCapacity((bits + 63) / 64)
    }

    /// The number of set bits.
    public var setCount: Int {
        var total = 0
        for word in words { total += word.nonzeroBitCount }
        return total
    }

    /// Whether every bit is set.
    public var allSet: Bool { setCount == count }

    private mutating func clearTail() {
        let tail = count & 63
        if tail != 0, !words.isEmpty {
            words[words.count - 1] &= (1 << UInt64(tail)) - 1
        }
    }
}
