import TesseraCore

@testable import TesseraFormats

/// A Parquet file taken apart into its footer and the pages of each column chunk, so a
/// test can change fields of the metadata and the page headers and put the file back
/// together. Reassembly recomputes each chunk's offsets and sizes, so a change stays
/// the one the test made (a footer edit applied last can still break them on purpose).
///
/// Fields the reader does not decode are dropped on the way through.
struct ParquetLayout {
    struct Page {
        var header: PageHeader
        var body: [UInt8]
    }

    struct LayoutError: Error, CustomStringConvertible {
        var description: String
    }

    var metadata: FileMetaData
    /// `pages[rowGroup][column]`, in file order.
    var pages: [[[Page]]]

    init(_ bytes: [UInt8]) throws {
        let size = bytes.count
        guard size >= 12 else { throw LayoutError(description: "too small") }
        let length =
            Int(bytes[size - 8]) | Int(bytes[size - 7]) << 8 | Int(bytes[size - 6]) << 16 | Int(bytes[size - 5]) << 24
        guard length <= size - 12 else { throw LayoutError(description: "bad footer length") }
        let footer = Array(bytes[(size - 8 - length)..<(size - 8)])
        metadata = try footer.withUnsafeBytes { raw in
            var decoder = CompactDecoder(raw)
            return try FileMetaData(decoding: &decoder)
        }
        pages = []
        for group in metadata.rowGroups {
            var columns: [[Page]] = []
            for chunk in group.columns {
                guard let meta = chunk.metaData else { throw LayoutError(description: "chunk without metadata") }
                var start = Int(meta.dataPageOffset)
                if let dictionary = meta.dictionaryPageOffset, dictionary > 0, Int(dictionary) < start {
                    start = Int(dictionary)
                }
                let end = start + Int(meta.totalCompressedSize)
                var chunkPages: [Page] = []
                try bytes.withUnsafeBytes { raw in
                    let chunkBytes = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    var position = 0
                    while position < chunkBytes.count {
                        var decoder = CompactDecoder(chunkBytes, position: position)
                        let header = try PageHeader(decoding: &decoder)
                        let bodyEnd = decoder.position + Int(header.compressedPageSize)
                        chunkPages.append(Page(header: header, body: Array(chunkBytes[decoder.position..<bodyEnd])))
                        position = bodyEnd
                    }
                }
                columns.append(chunkPages)
            }
            pages.append(columns)
        }
    }

    /// The file's bytes: pages laid out again with consistent offsets and sizes, then
    /// `footer` applied to the metadata before it is encoded.
    func bytes(footer: (inout FileMetaData) -> Void = { _ in }) -> [UInt8] {
        var (out, meta) = laidOut()
        footer(&meta)
        var encoder = CompactEncoder()
        meta.encode(&encoder)
        out += encoder.bytes
        let length = UInt32(encoder.bytes.count)
        out += [UInt8(length & 0xff), UInt8((length >> 8) & 0xff), UInt8((length >> 16) & 0xff), UInt8(length >> 24)]
        return out + ParquetFile.magic
    }

    /// The magic and the pages, and the metadata with the offsets and sizes they have.
    func laidOut() -> (bytes: [UInt8], metadata: FileMetaData) {
        var out = ParquetFile.magic
        var meta = metadata
        for (g, columns) in pages.enumerated() {
            let groupStart = out.count
            for (c, chunkPages) in columns.enumerated() {
                let start = out.count
                var dictionaryOffset: Int?
                var dataOffset: Int?
                var uncompressed = 0
                for page in chunkPages {
                    if page.header.type == PageType.dictionaryPage.rawValue {
                        if dictionaryOffset == nil, dataOffset == nil { dictionaryOffset = out.count }
                    } else if dataOffset == nil {
                        dataOffset = out.count
                    }
                    var encoder = CompactEncoder()
                    page.header.encode(&encoder)
                    out += encoder.bytes
                    out += page.body
                    uncompressed += encoder.bytes.count + Int(page.header.uncompressedPageSize)
                }
                meta.rowGroups[g].columns[c].fileOffset = Int64(start)
                meta.rowGroups[g].columns[c].metaData?.dataPageOffset = Int64(dataOffset ?? start)
                meta.rowGroups[g].columns[c].metaData?.dictionaryPageOffset = dictionaryOffset.map { Int64($0) }
                meta.rowGroups[g].columns[c].metaData?.totalCompressedSize = Int64(out.count - start)
                meta.rowGroups[g].columns[c].metaData?.totalUncompressedSize = Int64(uncompressed)
            }
            meta.rowGroups[g].fileOffset = Int64(groupStart)
            meta.rowGroups[g].totalCompressedSize = Int64(out.count - groupStart)
        }
        return (out, meta)
    }

    /// The schema element of leaf `leaf` (leaves are the elements with a physical type, in order).
    func schemaIndex(ofLeaf leaf: Int) -> Int? {
        var seen = 0
        for (index, element) in metadata.schema.enumerated() where element.type != nil {
            if seen == leaf { return index }
            seen += 1
        }
        return nil
    }
}

extension ParquetLayout {
    /// Makes every INT32, INT64, FLOAT and DOUBLE leaf a FIXED_LEN_BYTE_ARRAY of the same
    /// width: their PLAIN and dictionary encodings are byte for byte the same.
    mutating func retypeFixedWidthLeavesAsFixedLength() {
        let leafCount = metadata.schema.filter { $0.type != nil }.count
        for leaf in 0..<leafCount {
            guard let index = schemaIndex(ofLeaf: leaf), let type = metadata.schema[index].type else { continue }
            let width: Int32
            switch type {
            case .int32, .float: width = 4
            case .int64, .double: width = 8
            default: continue
            }
            metadata.schema[index].type = .fixedLenByteArray
            metadata.schema[index].typeLength = width
            metadata.schema[index].logicalType = nil
            metadata.schema[index].convertedType = nil
            for g in metadata.rowGroups.indices {
                metadata.rowGroups[g].columns[leaf].metaData?.type = .fixedLenByteArray
                metadata.rowGroups[g].columns[leaf].metaData?.statistics = nil
            }
        }
    }

    /// Rewrites every v1 data page as a v2 page: levels first and uncompressed, values
    /// compressed with the chunk's codec. `levels[leaf]` gives each leaf's maximum levels.
    mutating func convertDataPagesToV2(levels: [(maxDefinition: Int, maxRepetition: Int)]) throws {
        for g in pages.indices {
            for c in pages[g].indices {
                guard let codec = metadata.rowGroups[g].columns[c].metaData?.codec else { continue }
                for p in pages[g][c].indices {
                    let page = pages[g][c][p]
                    guard page.header.type == PageType.dataPage.rawValue, let info = page.header.dataPageHeader else {
                        continue
                    }
                    pages[g][c][p] = try Self.v2Page(page, info, codec: codec, levels: levels[c])
                }
            }
        }
    }

    private static func v2Page(
        _ page: Page, _ info: DataPageHeader, codec: ParquetCompression,
        levels: (maxDefinition: Int, maxRepetition: Int)
    ) throws -> Page {
        var plain = [UInt8](repeating: 0, count: Int(page.header.uncompressedPageSize))
        try page.body.withUnsafeBytes { source in
            try plain.withUnsafeMutableBytes { target in try Codecs.decompress(codec, source, into: target) }
        }
        var position = 0
        func section() -> [UInt8] {
            let length =
                Int(plain[position]) | Int(plain[position + 1]) << 8 | Int(plain[position + 2]) << 16
                | Int(plain[position + 3]) << 24
            defer { position += 4 + length }
            return Array(plain[(position + 4)..<(position + 4 + length)])
        }
        let repetitions = levels.maxRepetition > 0 ? section() : []
        let definitions = levels.maxDefinition > 0 ? section() : []
        let values = Array(plain[position...])
        var compressed: [UInt8] = []
        _ = try values.withUnsafeBytes { raw in try Codecs.compress(codec, raw, appendingTo: &compressed) }
        let count = Int(info.numValues)
        let nulls = try decodedLevels(definitions, max: levels.maxDefinition, count: count).filter {
            Int($0) < levels.maxDefinition
        }
        let rows = try decodedLevels(repetitions, max: levels.maxRepetition, count: count).filter { $0 == 0 }
        var header = PageHeader()
        header.type = PageType.dataPageV2.rawValue
        header.uncompressedPageSize = Int32(repetitions.count + definitions.count + values.count)
        header.compressedPageSize = Int32(repetitions.count + definitions.count + compressed.count)
        header.dataPageHeaderV2 = DataPageHeaderV2(
            numValues: info.numValues, numNulls: Int32(nulls.count),
            numRows: levels.maxRepetition > 0 ? Int32(rows.count) : info.numValues, encoding: info.encoding,
            definitionLevelsByteLength: Int32(definitions.count), repetitionLevelsByteLength: Int32(repetitions.count),
            isCompressed: true)
        return Page(header: header, body: repetitions + definitions + compressed)
    }

    private static func decodedLevels(_ bytes: [UInt8], max: Int, count: Int) throws -> [UInt8] {
        guard max > 0 else { return [UInt8](repeating: 0, count: count) }
        var levels = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeBytes { raw in
            var decoder = HybridDecoder(raw, width: bitWidth(UInt64(max)))
            try levels.withUnsafeMutableBufferPointer { out in
                if let base = out.baseAddress { try decoder.decode(into: base, count: count) }
            }
        }
        return levels
    }
}
