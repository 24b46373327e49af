import Synchronization

/// Scratch buffers for decoding one column at a time.
///
/// `@unchecked Sendable` because ownership moves between threads only through
/// `ScratchPool`, which hands each instance to one borrower at a time; it is never
/// used by two threads at once.
final class ReadScratch: @unchecked Sendable {
    let chunk = RawBuffer(capacity: 1 << 16)
    let page = RawBuffer(capacity: 1 << 16)
    let values = RawBuffer(capacity: 1 << 16)
    let definitions = RawBuffer()
    let repetitions = RawBuffer()
    let valid = RawBuffer()
    let indices = RawBuffer()
    let ends = RawBuffer()
    let aux = RawBuffer()
    let listStarts = RawBuffer()
    let listValid = RawBuffer()
    var dictionaryFixed: [UInt8] = []
    var dictionaryBinary = BinaryDictionary()
    var dictionaryCount = -1

    var retainedBytes: Int {
        [chunk, page, values, definitions, repetitions, valid, indices, ends, aux, listStarts, listValid].reduce(0) {
            $0 + $1.capacity
        }
            + dictionaryFixed.capacity + dictionaryBinary.bytes.capacity
    }
}

/// Keeps decoding buffers between reads, so reading many small files or row groups
/// does not map and fault in fresh memory each time.
final class ScratchPool: Sendable {
    static let shared = ScratchPool()
    private let idle = Mutex<(scratches: [ReadScratch], bytes: Int)>(([], 0))
    /// What may sit idle in the pool at most (a few workers' buffers for typical row groups).
    private static let budget = 96 << 20

    func borrow<T>(_ body: (ReadScratch) throws(FormatError) -> T) throws(FormatError) -> T {
        let scratch = idle.withLock { pool in
            guard let scratch = pool.scratches.popLast() else { return ReadScratch() }
            pool.bytes -= scratch.retainedBytes
            return scratch
        }
        defer {
            let size = scratch.retainedBytes
            idle.withLock { pool in
                if pool.bytes + size <= ScratchPool.budget {
                    pool.scratches.append(scratch)
                    pool.bytes += size
                }
            }
        }
        return try body(scratch)
    }
}

/// Reads every page of one column chunk into a `LeafAccumulator`.
struct ColumnChunkReader {
    let source: ByteSource
    let rowGroup: Int
    let chunk: ColumnChunk
    let scratch: ReadScratch
    var page = 0

    var location: String {
        "row group \(rowGroup), column '\(chunkPath)'" + (page > 0 ? ", page \(page - 1)" : "")
    }

    private var chunkPath: String { chunk.metaData?.pathInSchema.joined(separator: ".") ?? "?" }

    func fail(_ message: String) -> FormatError { FormatError(file: source.name, location: location, message) }

    /// Reads the chunk; returns the number of level entries (values including nulls) read.
    mutating func read(into out: inout LeafAccumulator) throws(FormatError) {
        guard let meta = chunk.metaData else {
            throw fail("column chunk has no metadata (encrypted files are not supported)")
        }
        guard chunk.filePath == nil else { throw fail("column chunk lives in another file, which is not supported") }
        guard meta.type == out.leaf.physical else {
            throw fail("column chunk is \(meta.type.name) but the schema says \(out.leaf.physical.name)")
        }
        guard Codecs.canDecompress(meta.codec) else {
            throw fail("\(meta.codec) compression is not supported (use snappy, gzip, zstd or lz4)")
        }
        // Writers leave the offsets of an empty chunk at zero; there is nothing to read.
        if meta.numValues == 0 { return }
        var start = meta.dataPageOffset
        if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
        let length = meta.totalCompressedSize
        guard start >= 4, length >= 0, length <= Int64(source.size), start <= Int64(source.size) - length else {
            throw fail("column chunk byte range \(start)+\(length) lies outside the file (\(source.size) bytes)")
        }
        guard meta.numValues >= 0, meta.numValues <= Int64(Int32.max) * 64 else {
            throw fail("column chunk claims \(meta.numValues) values")
        }
        try source.read(offset: Int(start), count: Int(length), into: scratch.chunk, location: location)
        scratch.dictionaryCount = -1
        let bytes = UnsafeRawBufferPointer(start: scratch.chunk.pointer, count: Int(length))
        var position = 0
        var valuesRead: Int64 = 0
        while valuesRead < meta.numValues {
            guard position < bytes.count else {
                throw fail("column chunk ends after \(valuesRead) of \(meta.numValues) values")
            }
            var decoder = CompactDecoder(bytes, position: position)
            let header: PageHeader
            do { header = try PageHeader(decoding: &decoder) } catch {
                page += 1
                throw fail("bad page header: \(error.message)")
            }
            page += 1
            position = decoder.position
            let size = Int(header.compressedPageSize)
            guard size <= bytes.count - position else {
                throw fail("page of \(size) bytes runs past the end of the column chunk")
            }
            let body = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + size)])
            position += size
            do {
                switch header.type {
                case PageType.dictionaryPage.rawValue:
                    try readDictionary(header, body, meta.codec, out.leaf)
                case PageType.dataPage.rawValue:
                    valuesRead += Int64(try readDataPageV1(header, body, meta.codec, &out))
                case PageType.dataPageV2.rawValue:
                    valuesRead += Int64(try readDataPageV2(header, body, meta.codec, &out))
                default:
                    continue  // index pages and unknown page types carry no values
                }
            } catch let error as DecodeError {
                throw fail(error.message)
            } catch let error as CodecError {
                throw fail(error.message)
            } catch let error as FormatError {
                throw error
            } catch {
                throw fail("\(error)")
            }
            guard valuesRead <= meta.numValues else {  // checked after each page; pages are bounded above
                throw fail("pages hold more values (\(valuesRead)) than the column chunk declares (\(meta.numValues))")
            }
        }
    }

    func decompress(_ body: UnsafeRawBufferPointer, _ codec: ParquetCompression, size: Int, into buffer: RawBuffer)
        throws -> UnsafeRawBufferPointer
    {
        guard size >= 0, size <= Int(Int32.max) else { throw DecodeError("page size \(size) is out of range") }
        if codec == .uncompressed {
            guard body.count == size else {
                throw DecodeError("uncompressed page holds \(body.count) bytes, header says \(size)")
            }
            return body
        }
        // The header's size is checked against what the compressed bytes can hold before it sizes the buffer.
        let most = ReadLimits.maxDecompressedSize(codec, compressed: body.count)
        guard size <= most else {
            throw DecodeError(
                "page of \(body.count) \(codec) bytes claims \(size) bytes uncompressed; \(codec) cannot expand it past \(most)"
            )
        }
        try Codecs.checkDeclaredSize(codec, body, expected: size)
        buffer.reserve(size)
        try Codecs.decompress(codec, body, into: UnsafeMutableRawBufferPointer(start: buffer.pointer, count: size))
        return UnsafeRawBufferPointer(start: buffer.pointer, count: size)
    }

    private func readDictionary(
        _ header: PageHeader, _ body: UnsafeRawBufferPointer, _ codec: ParquetCompression, _ leaf: LeafColumn
    ) throws {
        guard let dictionary = header.dictionaryPageHeader else { throw DecodeError("dictionary page has no header") }
        guard dictionary.encoding == .plain || dictionary.encoding == .plainDictionary else {
            throw DecodeError("dictionary page uses \(dictionary.encoding), expected PLAIN")
        }
        let count = Int(dictionary.numValues)
        guard count >= 0 else { throw DecodeError("dictionary page has \(count) values") }
        let data = try decompress(body, codec, size: Int(header.uncompressedPageSize), into: scratch.page)
        if leaf.physical == .byteArray {
            guard count <= data.count / 4 else {
                throw DecodeError("dictionary of \(count) values does not fit its page")
            }
            var dictionary = BinaryDictionary()
            dictionary.offsets = [Int](repeating: 0, count: count + 1)
            try dictionary.offsets.withUnsafeMutableBufferPointer { (offsets) throws(DecodeError) in
                guard let base = offsets.baseAddress else { return }
                try BinaryDecoding.plain(data, count: count, bytes: &dictionary.bytes, ends: base + 1)
            }
            scratch.dictionaryBinary = dictionary
        } else {
            let width = leaf.storedWidth
            guard leaf.physical != .boolean, width > 0, count <= data.count / width else {
                throw DecodeError("dictionary of \(count) values does not fit its page")
            }
            scratch.dictionaryFixed = Array(UnsafeRawBufferPointer(rebasing: data[0..<(count * width)]))
        }
        scratch.dictionaryCount = count
    }

    private func readDataPageV1(
        _ header: PageHeader, _ body: UnsafeRawBufferPointer, _ codec: ParquetCompression, _ out: inout LeafAccumulator
    ) throws -> Int {
        guard let info = header.dataPageHeader else { throw DecodeError("data page has no data page header") }
        let count = Int(info.numValues)
        guard count >= 0, count <= ReadLimits.maxPageValues else {
            throw DecodeError("data page has \(count) values")
        }
        if try readPlainPageInPlace(header, info, body, codec, &out) { return count }
        let data = try decompress(body, codec, size: Int(header.uncompressedPageSize), into: scratch.page)
        try readPageV1(data, info, &out)
        return count
    }

    /// A decompressed v1 page: levels with their length prefixes, then values.
    func readPageV1(_ data: UnsafeRawBufferPointer, _ info: DataPageHeader, _ out: inout LeafAccumulator) throws {
        let count = Int(info.numValues)
        var cursor = ByteCursor(data)
        let leaf = out.leaf
        var repetitions: UnsafeRawBufferPointer?
        var definitions: UnsafeRawBufferPointer?
        if leaf.maxRepetition > 0 {
            guard info.repetitionLevelEncoding == .rle else {
                throw DecodeError("repetition levels use \(info.repetitionLevelEncoding), only RLE is supported")
            }
            repetitions = try cursor.take(Int(try cursor.uint32LE()))
        }
        if leaf.maxDefinition > 0 {
            guard info.definitionLevelEncoding == .rle else {
                throw DecodeError("definition levels use \(info.definitionLevelEncoding), only RLE is supported")
            }
            definitions = try cursor.take(Int(try cursor.uint32LE()))
        }
        try readPage(count: count, repetitions, definitions, values: cursor.rest, encoding: info.encoding, &out)
    }

    private func readDataPageV2(
        _ header: PageHeader, _ body: UnsafeRawBufferPointer, _ codec: ParquetCompression, _ out: inout LeafAccumulator
    ) throws -> Int {
        guard let info = header.dataPageHeaderV2 else { throw DecodeError("data page v2 has no header") }
        let count = Int(info.numValues)
        let repLength = Int(info.repetitionLevelsByteLength)
        let defLength = Int(info.definitionLevelsByteLength)
        guard count >= 0, count <= ReadLimits.maxPageValues, repLength >= 0, defLength >= 0,
            repLength + defLength <= body.count,
            repLength + defLength <= Int(header.uncompressedPageSize)
        else {
            throw DecodeError("data page v2 has inconsistent sizes (values \(count), levels \(repLength)+\(defLength))")
        }
        var cursor = ByteCursor(body)
        let repetitions = try cursor.take(repLength)
        let definitions = try cursor.take(defLength)
        let valueSize = Int(header.uncompressedPageSize) - repLength - defLength
        let values =
            info.isCompressed
            ? try decompress(cursor.rest, codec, size: valueSize, into: scratch.page)
            : cursor.rest
        let leaf = out.leaf
        try readPage(
            count: count, leaf.maxRepetition > 0 ? repetitions : nil, leaf.maxDefinition > 0 ? definitions : nil,
            values: values, encoding: info.encoding, &out)
        return count
    }
}
