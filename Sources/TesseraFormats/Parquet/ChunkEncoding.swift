import Synchronization
import TesseraColumnar

/// A fixed-width value the writer stores: its 64-bit pattern for dictionary hashing and its order for statistics.
protocol WritableFixed: Comparable {
    var pattern: UInt64 { get }
    init(pattern: UInt64)
    /// Whether the value takes part in min/max (NaN does not).
    var isOrdered: Bool { get }
}

extension Int32: WritableFixed {
    var pattern: UInt64 { UInt64(UInt32(bitPattern: self)) }
    init(pattern: UInt64) { self = Int32(bitPattern: UInt32(truncatingIfNeeded: pattern)) }
    var isOrdered: Bool { true }
}

extension Int64: WritableFixed {
    var pattern: UInt64 { UInt64(bitPattern: self) }
    init(pattern: UInt64) { self = Int64(bitPattern: pattern) }
    var isOrdered: Bool { true }
}

extension Float: WritableFixed {
    var pattern: UInt64 { UInt64(bitPattern) }
    init(pattern: UInt64) { self = Float(bitPattern: UInt32(truncatingIfNeeded: pattern)) }
    var isOrdered: Bool { !isNaN }
}

extension Double: WritableFixed {
    var pattern: UInt64 { bitPattern }
    init(pattern: UInt64) { self = Double(bitPattern: pattern) }
    var isOrdered: Bool { !isNaN }
}

/// Encoding buffers of one column, reused across row groups so each chunk does not
/// map and fault in fresh memory.
///
/// `@unchecked Sendable`: a writer borrows one scratch per column from
/// `EncodeScratchPool` (which hands each out to one borrower at a time) and gives column
/// `i`'s scratch only to the task encoding column `i`; row groups are encoded one after
/// another, so no two threads ever use one instance at the same time.
final class EncodeScratch: @unchecked Sendable {
    let compressed = RawBuffer(capacity: 1 << 16)
    var body: [UInt8] = []
    var indices: [UInt32] = []
    /// The last chunk's data pages, handed back by the writer once written.
    var data: [UInt8] = []
    var table = FixedDictionaryTable()

    var retainedBytes: Int {
        compressed.capacity + body.capacity + indices.capacity * 4 + data.capacity + table.retainedBytes
    }

    /// Moves a buffer out (emptied, capacity kept), leaving an empty one behind.
    func take<T>(_ key: ReferenceWritableKeyPath<EncodeScratch, [T]>) -> [T] {
        var buffer = self[keyPath: key]
        self[keyPath: key] = []
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }
}

/// Keeps a few writers' encoding buffers after they finish, so writing many files (or
/// one small file after another) does not map and fault in fresh memory each time.
final class EncodeScratchPool: Sendable {
    static let shared = EncodeScratchPool()
    private let idle = Mutex<(scratches: [EncodeScratch], bytes: Int)>(([], 0))
    /// What may sit idle in the pool at most (a few columns of a 1M-row row group).
    private static let budget = 128 << 20

    func borrow() -> EncodeScratch {
        idle.withLock { pool in
            guard let scratch = pool.scratches.popLast() else { return EncodeScratch() }
            pool.bytes -= scratch.retainedBytes
            return scratch
        }
    }

    func giveBack(_ scratch: EncodeScratch) {
        let size = scratch.retainedBytes
        idle.withLock { pool in
            guard pool.bytes + size <= EncodeScratchPool.budget else { return }
            pool.scratches.append(scratch)
            pool.bytes += size
        }
    }
}

/// One column chunk, encoded and compressed, with what its metadata needs.
struct EncodedChunk {
    /// The dictionary page (header included), written before the data pages; empty when none.
    var dictionaryPage: [UInt8] = []
    /// The data pages.
    var bytes: [UInt8] = []
    var dictionaryPageLength: Int? { dictionaryPage.isEmpty ? nil : dictionaryPage.count }
    var totalSize: Int { dictionaryPage.count + bytes.count }
    var uncompressedSize = 0
    var encodings: [ParquetEncoding] = []
    var statistics = Statistics()
    var valueCount = 0
}

/// Splits a chunk into pages, encodes levels and values, compresses each page.
struct ChunkEncoder {
    let maxDefinition: Int
    let maxRepetition: Int
    let options: ParquetWriteOptions
    /// Buffers kept from one row group to the next for this column.
    let scratch: EncodeScratch
    var compressed: RawBuffer { scratch.compressed }

    func encode(_ input: ChunkInput) throws(CodecError) -> EncodedChunk {
        var chunk: EncodedChunk
        func fixed<T: WritableFixed>(_ values: ArraySlice<T>) throws(CodecError) -> EncodedChunk {
            let result: Result<EncodedChunk, CodecError> = values.withUnsafeBufferPointer { buffer in
                do throws(CodecError) { return .success(try encodeFixed(buffer, input)) } catch {
                    return .failure(error)
                }
            }
            return try result.get()
        }
        switch input.values {
        case .bool(let v): chunk = try encodeBooleans(Array(v), input)
        case .int32(let v): chunk = try fixed(v)
        case .int64(let v): chunk = try fixed(v)
        case .float(let v): chunk = try fixed(v)
        case .double(let v): chunk = try fixed(v)
        case .binary(let v): chunk = try encodeBinary(v, input)
        }
        chunk.statistics.nullCount = Int64(input.nullCount)
        chunk.valueCount = input.entries
        return chunk
    }

    /// Page boundaries over entries: about `entriesPerPage` each, and (for lists) only where a row starts.
    func pages(_ input: ChunkInput, entriesPerPage: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        let step = max(1, entriesPerPage)
        while start < input.entries {
            var end = min(input.entries, start + step)
            if maxRepetition > 0 {
                while end < input.entries, input.repetitions[end] != 0 { end += 1 }
            }
            out.append(start..<end)
            start = end
        }
        return out
    }

    /// Whether a dictionary is not paying off: past the first 16Ki values, 97 in 100 were new
    /// (unique keys, timestamps, measurements). parquet-mr makes a similar call after its
    /// first page; deciding early saves hashing values that a plain page stores as small.
    @inline(__always)
    static func mostlyDistinct(distinct: Int, seen: Int) -> Bool {
        seen >= 16_384 && distinct * 100 > seen * 97
    }

    /// Where a page starting at `start` ends: about `step` entries on, and (for lists) where a row starts.
    func pageEnd(_ input: ChunkInput, from start: Int, step: Int) -> Int {
        var end = min(input.entries, start + step)
        if maxRepetition > 0 {
            while end < input.entries, input.repetitions[end] != 0 { end += 1 }
        }
        return end
    }

    /// The number of non-null values among `entries`.
    func valueCount(_ input: ChunkInput, _ entries: Range<Int>) -> Int {
        guard maxDefinition > 0, !input.allPresent else { return entries.count }
        let full = UInt8(maxDefinition)
        return input.definitions.withUnsafeBufferPointer { levels in
            var count = 0
            for index in entries where levels[index] == full { count += 1 }
            return count
        }
    }

    /// The entry just after the `values`-th value from `start` (flat columns only).
    func entryAfter(_ input: ChunkInput, from start: Int, values: Int) -> Int {
        guard maxDefinition > 0, !input.allPresent else { return start + values }
        let full = UInt8(maxDefinition)
        var seen = 0
        var index = start
        while seen < values, index < input.entries {
            if input.definitions[index] == full { seen += 1 }
            index += 1
        }
        return index
    }

    /// The levels of `entries`, RLE-encoded with their 4-byte length prefixes, and the number of values.
    func levels(_ input: ChunkInput, _ entries: Range<Int>, into body: inout [UInt8]) -> Int {
        func append(_ levels: [UInt8], max: Int) {
            let lengthAt = body.count
            body.append(contentsOf: [0, 0, 0, 0])
            levels.withUnsafeBufferPointer { all in
                HybridEncoder.encode(
                    UnsafeBufferPointer(rebasing: all[entries]), width: bitWidth(UInt64(max)), appendingTo: &body)
            }
            let length = UInt32(body.count - lengthAt - 4)
            for k in 0..<4 { body[lengthAt + k] = UInt8(truncatingIfNeeded: length >> UInt32(8 * k)) }
        }
        if maxRepetition > 0 { append(input.repetitions, max: maxRepetition) }
        guard maxDefinition > 0 else { return entries.count }
        if input.allPresent {
            // One RLE run of the maximum level: length prefix, run header, the level.
            var run: [UInt8] = []
            var header = UInt64(entries.count) << 1
            while header >= 0x80 {
                run.append(UInt8(header & 0x7f) | 0x80)
                header >>= 7
            }
            run.append(UInt8(header))
            run.append(UInt8(maxDefinition))
            let length = UInt32(run.count)
            for k in 0..<4 { body.append(UInt8(truncatingIfNeeded: length >> UInt32(8 * k))) }
            body.append(contentsOf: run)
            return entries.count
        }
        append(input.definitions, max: maxDefinition)
        let full = UInt8(maxDefinition)
        var values = 0
        for index in entries where input.definitions[index] == full { values += 1 }
        return values
    }

    /// Compresses `body` and appends it with its page header to `out`.
    func appendPage(
        _ body: [UInt8], type: PageType, values: Int, encoding: ParquetEncoding, to out: inout [UInt8],
        uncompressedTotal: inout Int
    ) throws(CodecError) {
        let codec = options.compression
        let outcome: Result<Int, CodecError> = body.withUnsafeBytes { raw in
            guard codec != .uncompressed else { return .success(raw.count) }
            do throws(CodecError) { return .success(try Codecs.compress(codec, raw, into: compressed)) } catch {
                return .failure(error)
            }
        }
        let compressedSize = try outcome.get()
        var header = PageHeader()
        header.type = type.rawValue
        header.uncompressedPageSize = Int32(clamping: body.count)
        header.compressedPageSize = Int32(clamping: compressedSize)
        if type == .dictionaryPage {
            header.dictionaryPageHeader = DictionaryPageHeader(numValues: Int32(values), encoding: .plain)
        } else {
            header.dataPageHeader = DataPageHeader(
                numValues: Int32(values), encoding: encoding, definitionLevelEncoding: .rle,
                repetitionLevelEncoding: .rle)
        }
        var encoder = CompactEncoder()
        header.encode(&encoder)
        out.append(contentsOf: encoder.bytes)
        if codec == .uncompressed {
            out.append(contentsOf: body)
        } else {
            out.append(contentsOf: UnsafeRawBufferPointer(start: compressed.pointer, count: compressedSize))
        }
        uncompressedTotal += encoder.bytes.count + body.count
    }

    private func encodeFixed<T: WritableFixed>(_ values: UnsafeBufferPointer<T>, _ input: ChunkInput) throws(CodecError)
        -> EncodedChunk
    {
        let width = MemoryLayout<T>.size
        var chunk = EncodedChunk()
        var data = scratch.take(\.data)
        var table = scratch.table
        scratch.table = FixedDictionaryTable(capacity: 0)
        table.reset()
        var dictionaryOpen = options.dictionary
        // About the plain size: growing page by page would copy the chunk again and again.
        data.reserveCapacity(values.count * width + input.entries / 4 + (1 << 16))
        var cursor = 0
        var indices = scratch.take(\.indices)
        var entryStart = 0
        let step = max(1, options.pageSize / width)
        var body = scratch.take(\.body)
        defer {
            scratch.body = body
            scratch.indices = indices
            scratch.table = table
        }
        while entryStart < input.entries {
            var entryEnd = pageEnd(input, from: entryStart, step: step)
            var count = valueCount(input, entryStart..<entryEnd)
            body.removeAll(keepingCapacity: true)
            if dictionaryOpen, count > 0 {
                indices.removeAll(keepingCapacity: true)
                var inserted = 0
                // Small batches, so the page can end as soon as the dictionary passes its limit.
                while inserted < count {
                    let n = maxRepetition == 0 ? min(4096, count - inserted) : count - inserted
                    table.indices(
                        of: UnsafeBufferPointer(rebasing: values[(cursor + inserted)..<(cursor + inserted + n)]),
                        appendingTo: &indices)
                    inserted += n
                    if table.count * width > options.dictionaryPageSizeLimit
                        || ChunkEncoder.mostlyDistinct(distinct: table.count, seen: cursor + inserted)
                    {
                        dictionaryOpen = false
                        break
                    }
                }
                if inserted < count {
                    entryEnd = entryAfter(input, from: entryStart, values: inserted)
                    count = inserted
                }
                _ = levels(input, entryStart..<entryEnd, into: &body)
                appendIndices(indices, dictionarySize: table.count, to: &body)
                try appendPage(
                    body, type: .dataPage, values: entryEnd - entryStart, encoding: .rleDictionary, to: &data,
                    uncompressedTotal: &chunk.uncompressedSize)
            } else {
                _ = levels(input, entryStart..<entryEnd, into: &body)
                body.append(
                    contentsOf: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: values[cursor..<(cursor + count)]))
                )
                try appendPage(
                    body, type: .dataPage, values: entryEnd - entryStart, encoding: .plain, to: &data,
                    uncompressedTotal: &chunk.uncompressedSize)
            }
            cursor += count
            entryStart = entryEnd
        }
        if table.count > 0 {
            let entries = table.entries.map { T(pattern: $0) }
            var page: [UInt8] = []
            entries.withUnsafeBytes { page.append(contentsOf: $0) }
            try appendPage(
                page, type: .dictionaryPage, values: entries.count, encoding: .plain, to: &chunk.dictionaryPage,
                uncompressedTotal: &chunk.uncompressedSize)
            chunk.encodings = [.plain, .rle, .rleDictionary]
        } else {
            chunk.encodings = [.plain, .rle]
        }
        chunk.bytes = data
        if var (low, high) = ChunkEncoder.bounds(values) {
            // Zero's sign is not ordered: widen the bounds to -0 and +0 as the format asks.
            if low == T(pattern: 0) { low = lowZero(low) }
            if high == T(pattern: 0) { high = T(pattern: 0) }
            chunk.statistics.minValue = withUnsafeBytes(of: low) { Array($0) }
            chunk.statistics.maxValue = withUnsafeBytes(of: high) { Array($0) }
        }
        return chunk
    }

    static func bounds<T: WritableFixed>(_ buffer: UnsafeBufferPointer<T>) -> (T, T)? {
        guard let first = buffer.firstIndex(where: { $0.isOrdered }) else { return nil }
        var low = buffer[first]
        var high = low
        for index in first..<buffer.count {
            let value = buffer[index]
            guard value.isOrdered else { continue }
            if value < low { low = value }
            if value > high { high = value }
        }
        return (low, high)
    }

    private func lowZero<T: WritableFixed>(_ value: T) -> T {
        if T.self == Float.self { return T(pattern: UInt64((-Float.zero).bitPattern)) }
        if T.self == Double.self { return T(pattern: (-Double.zero).bitPattern) }
        return value
    }

    func appendIndices(_ indices: [UInt32], dictionarySize: Int, to body: inout [UInt8]) {
        let width = max(1, bitWidth(UInt64(max(dictionarySize - 1, 0))))
        body.append(UInt8(width))
        indices.withUnsafeBufferPointer { HybridEncoder.encode($0, width: width, appendingTo: &body) }
    }

    private func encodeBooleans(_ values: [Bool], _ input: ChunkInput) throws(CodecError) -> EncodedChunk {
        var chunk = EncodedChunk()
        var cursor = 0
        for page in pages(input, entriesPerPage: options.pageSize * 8) {
            var body: [UInt8] = []
            let count = levels(input, page, into: &body)
            var byte: UInt8 = 0
            for k in 0..<count {
                if values[cursor + k] { byte |= 1 << UInt8(k & 7) }
                if k & 7 == 7 {
                    body.append(byte)
                    byte = 0
                }
            }
            if count & 7 != 0 { body.append(byte) }
            cursor += count
            try appendPage(
                body, type: .dataPage, values: page.count, encoding: .plain, to: &chunk.bytes,
                uncompressedTotal: &chunk.uncompressedSize)
        }
        chunk.encodings = [.plain, .rle]
        if let low = values.min(by: { !$0 && $1 }), let high = values.max(by: { !$0 && $1 }) {
            chunk.statistics.minValue = [low ? 1 : 0]
            chunk.statistics.maxValue = [high ? 1 : 0]
        }
        return chunk
    }
}
