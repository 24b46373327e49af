/// The bounds the reader puts on memory it would otherwise size from numbers in the file.
///
/// Counts, sizes and widths in the footer and page headers are claims. Nothing is
/// allocated from a claim until the bytes behind it are shown to hold that much
/// (see `PageBounds`), and what a few bytes may legitimately expand to — through a
/// codec, an RLE run or a dictionary — is capped here, so a crafted file ends in a
/// `FormatError` rather than an allocation the process cannot survive.
enum ReadLimits {
    /// Level entries (values including nulls) one page may hold. Real writers put at most
    /// a few million values in a page; a larger count is corruption.
    static let maxPageValues = 1 << 28

    /// Bytes the values of one page may decode to: what dictionary entries, shared
    /// DELTA_BYTE_ARRAY prefixes or wide FIXED_LEN_BYTE_ARRAY nulls expand to. Real pages
    /// are a few MiB; this keeps one page's output and scratch buffers within reach.
    static let maxPageOutputBytes = 1 << 30

    /// What may be reserved from the footer's row and value counts before any page has
    /// shown them to be real: 64 bytes per byte of the file, at least 16 MiB. Reads of
    /// files that expand further still work; their arrays grow as values are decoded.
    static func upfrontBytes(fileSize: Int) -> Int {
        let (scaled, overflow) = fileSize.multipliedReportingOverflow(by: 64)
        return overflow ? Int.max : max(1 << 24, scaled)
    }

    /// The most `compressed` bytes can decompress to with `codec`: each codec's densest
    /// encoding, plus room for its headers. A page claiming more is corrupt.
    static func maxDecompressedSize(_ codec: ParquetCompression, compressed: Int) -> Int {
        let ratio: Int
        switch codec {
        case .uncompressed: return compressed
        // A 3-byte copy element yields at most 64 bytes.
        case .snappy: ratio = 22
        // Each extra match-length byte adds 255 bytes.
        case .lz4, .lz4Raw: ratio = 256
        // A 258-byte match can take as little as 2 bits.
        case .gzip: ratio = 1032
        // An RLE block: 4 bytes for up to 128 KiB.
        case .zstd: ratio = 32768
        default: ratio = 32768
        }
        let (scaled, overflow) = compressed.multipliedReportingOverflow(by: ratio)
        return overflow ? Int.max : scaled + 64
    }
}

/// The sum of footer counts or sizes, saturating instead of overflowing (they are claims).
func clampedSum<T: BinaryInteger>(_ counts: [T]) -> Int {
    var total = 0
    for count in counts {
        let addend = Int(clamping: count)
        let (sum, overflow) = total.addingReportingOverflow(addend)
        total = overflow ? (addend < 0 ? Int.min : Int.max) : sum
    }
    return total
}
