@testable import TesseraFormats

/// One field of a file's metadata or of one of its page headers, which the structured
/// fuzzer sets to boundary values. Indices are (row group, column, page).
enum FuzzField: Hashable, Sendable, CustomStringConvertible {
    case fileRows
    case groupRows(Int), groupBytes(Int)
    case chunkValues(Int, Int), chunkCompressedSize(Int, Int), chunkUncompressedSize(Int, Int)
    case dataPageOffset(Int, Int), dictionaryPageOffset(Int, Int)
    /// A schema element's `type_length` (set even where the type has none).
    case typeLength(Int)
    case pageUncompressedSize(Int, Int, Int), pageCompressedSize(Int, Int, Int)
    /// `num_values` of a v1, v2 or dictionary page header.
    case pageValues(Int, Int, Int)
    case v2Nulls(Int, Int, Int), v2Rows(Int, Int, Int)
    case v2DefinitionBytes(Int, Int, Int), v2RepetitionBytes(Int, Int, Int)
    /// A v2 page's `is_compressed` flag (0 or 1).
    case v2Compressed(Int, Int, Int)
    /// A data page's value count together with its chunk's and, for flat columns, the
    /// row group's and the file's rows, so the claim gets past the cross-checks.
    case consistentValues(Int, Int, Int)

    /// The kind of field, for sampling evenly across kinds.
    var kind: String { String(description.prefix { $0 != "(" }) }

    var description: String {
        switch self {
        case .fileRows: "fileRows"
        case .groupRows(let g): "groupRows(\(g))"
        case .groupBytes(let g): "groupBytes(\(g))"
        case .chunkValues(let g, let c): "chunkValues(\(g),\(c))"
        case .chunkCompressedSize(let g, let c): "chunkCompressedSize(\(g),\(c))"
        case .chunkUncompressedSize(let g, let c): "chunkUncompressedSize(\(g),\(c))"
        case .dataPageOffset(let g, let c): "dataPageOffset(\(g),\(c))"
        case .dictionaryPageOffset(let g, let c): "dictionaryPageOffset(\(g),\(c))"
        case .typeLength(let e): "typeLength(\(e))"
        case .pageUncompressedSize(let g, let c, let p): "pageUncompressedSize(\(g),\(c),\(p))"
        case .pageCompressedSize(let g, let c, let p): "pageCompressedSize(\(g),\(c),\(p))"
        case .pageValues(let g, let c, let p): "pageValues(\(g),\(c),\(p))"
        case .v2Nulls(let g, let c, let p): "v2Nulls(\(g),\(c),\(p))"
        case .v2Rows(let g, let c, let p): "v2Rows(\(g),\(c),\(p))"
        case .v2DefinitionBytes(let g, let c, let p): "v2DefinitionBytes(\(g),\(c),\(p))"
        case .v2RepetitionBytes(let g, let c, let p): "v2RepetitionBytes(\(g),\(c),\(p))"
        case .v2Compressed(let g, let c, let p): "v2Compressed(\(g),\(c),\(p))"
        case .consistentValues(let g, let c, let p): "consistentValues(\(g),\(c),\(p))"
        }
    }

    /// Whether the field is a Thrift i32 (page headers, schema) rather than an i64 (footer counts).
    var isI32: Bool {
        switch self {
        case .typeLength, .pageUncompressedSize, .pageCompressedSize, .pageValues, .v2Nulls, .v2Rows,
            .v2DefinitionBytes, .v2RepetitionBytes, .v2Compressed, .consistentValues:
            true
        default: false
        }
    }

    /// Every field of `layout` the fuzzer can set.
    static func all(in layout: ParquetLayout) -> [FuzzField] {
        var fields: [FuzzField] = [.fileRows]
        for (index, element) in layout.metadata.schema.enumerated() where element.type != nil {
            fields.append(.typeLength(index))
        }
        for (g, columns) in layout.pages.enumerated() {
            fields += [.groupRows(g), .groupBytes(g)]
            for (c, pages) in columns.enumerated() {
                fields += [
                    .chunkValues(g, c), .chunkCompressedSize(g, c), .chunkUncompressedSize(g, c), .dataPageOffset(g, c),
                    .dictionaryPageOffset(g, c),
                ]
                for (p, page) in pages.enumerated() {
                    fields += [.pageUncompressedSize(g, c, p), .pageCompressedSize(g, c, p), .pageValues(g, c, p)]
                    if page.header.dataPageHeaderV2 != nil {
                        fields += [
                            .v2Nulls(g, c, p), .v2Rows(g, c, p), .v2DefinitionBytes(g, c, p),
                            .v2RepetitionBytes(g, c, p), .v2Compressed(g, c, p),
                        ]
                    }
                    if page.header.type != PageType.dictionaryPage.rawValue {
                        fields.append(.consistentValues(g, c, p))
                    }
                }
            }
        }
        return fields
    }

    /// The field's value in the file as written (footer offsets as the layout lays them out).
    func current(in layout: ParquetLayout, footer meta: FileMetaData) -> Int64 {
        func page(_ g: Int, _ c: Int, _ p: Int) -> PageHeader { layout.pages[g][c][p].header }
        func chunk(_ g: Int, _ c: Int) -> ColumnMetaData? { meta.rowGroups[g].columns[c].metaData }
        switch self {
        case .fileRows: return meta.numRows
        case .groupRows(let g): return meta.rowGroups[g].numRows
        case .groupBytes(let g): return meta.rowGroups[g].totalByteSize
        case .chunkValues(let g, let c): return chunk(g, c)?.numValues ?? 0
        case .chunkCompressedSize(let g, let c): return chunk(g, c)?.totalCompressedSize ?? 0
        case .chunkUncompressedSize(let g, let c): return chunk(g, c)?.totalUncompressedSize ?? 0
        case .dataPageOffset(let g, let c): return chunk(g, c)?.dataPageOffset ?? 0
        case .dictionaryPageOffset(let g, let c): return chunk(g, c)?.dictionaryPageOffset ?? 0
        case .typeLength(let e): return Int64(meta.schema[e].typeLength ?? 0)
        case .pageUncompressedSize(let g, let c, let p): return Int64(page(g, c, p).uncompressedPageSize)
        case .pageCompressedSize(let g, let c, let p): return Int64(page(g, c, p).compressedPageSize)
        case .pageValues(let g, let c, let p), .consistentValues(let g, let c, let p):
            let header = page(g, c, p)
            return Int64(
                header.dataPageHeader?.numValues ?? header.dataPageHeaderV2?.numValues
                    ?? header.dictionaryPageHeader?.numValues ?? 0)
        case .v2Nulls(let g, let c, let p): return Int64(page(g, c, p).dataPageHeaderV2?.numNulls ?? 0)
        case .v2Rows(let g, let c, let p): return Int64(page(g, c, p).dataPageHeaderV2?.numRows ?? 0)
        case .v2DefinitionBytes(let g, let c, let p):
            return Int64(page(g, c, p).dataPageHeaderV2?.definitionLevelsByteLength ?? 0)
        case .v2RepetitionBytes(let g, let c, let p):
            return Int64(page(g, c, p).dataPageHeaderV2?.repetitionLevelsByteLength ?? 0)
        case .v2Compressed(let g, let c, let p): return page(g, c, p).dataPageHeaderV2?.isCompressed == true ? 1 : 0
        }
    }

    /// Sets the field if it is in a page header (before the pages are laid out again).
    func apply(_ value: Int64, toPages layout: inout ParquetLayout) {
        let narrow = Int32(clamping: value)
        switch self {
        case .pageUncompressedSize(let g, let c, let p): layout.pages[g][c][p].header.uncompressedPageSize = narrow
        case .pageCompressedSize(let g, let c, let p): layout.pages[g][c][p].header.compressedPageSize = narrow
        case .pageValues(let g, let c, let p), .consistentValues(let g, let c, let p):
            Self.setValues(narrow, &layout.pages[g][c][p].header)
        case .v2Nulls(let g, let c, let p): layout.pages[g][c][p].header.dataPageHeaderV2?.numNulls = narrow
        case .v2Rows(let g, let c, let p): layout.pages[g][c][p].header.dataPageHeaderV2?.numRows = narrow
        case .v2DefinitionBytes(let g, let c, let p):
            layout.pages[g][c][p].header.dataPageHeaderV2?.definitionLevelsByteLength = narrow
        case .v2RepetitionBytes(let g, let c, let p):
            layout.pages[g][c][p].header.dataPageHeaderV2?.repetitionLevelsByteLength = narrow
        case .v2Compressed(let g, let c, let p):
            layout.pages[g][c][p].header.dataPageHeaderV2?.isCompressed = value != 0
        default: break
        }
    }

    /// Sets the field if it is in the footer (after the pages are laid out, so offsets and
    /// sizes keep the value set here). `original` is the value before the change.
    func apply(_ value: Int64, original: Int64, toFooter meta: inout FileMetaData, isList: [Bool]) {
        switch self {
        case .fileRows: meta.numRows = value
        case .groupRows(let g): meta.rowGroups[g].numRows = value
        case .groupBytes(let g): meta.rowGroups[g].totalByteSize = value
        case .chunkValues(let g, let c): meta.rowGroups[g].columns[c].metaData?.numValues = value
        case .chunkCompressedSize(let g, let c): meta.rowGroups[g].columns[c].metaData?.totalCompressedSize = value
        case .chunkUncompressedSize(let g, let c):
            meta.rowGroups[g].columns[c].metaData?.totalUncompressedSize = value
        case .dataPageOffset(let g, let c): meta.rowGroups[g].columns[c].metaData?.dataPageOffset = value
        case .dictionaryPageOffset(let g, let c): meta.rowGroups[g].columns[c].metaData?.dictionaryPageOffset = value
        case .typeLength(let e): meta.schema[e].typeLength = Int32(clamping: value)
        case .consistentValues(let g, let c, _):
            let change = Int64(Int32(clamping: value)) - original
            meta.rowGroups[g].columns[c].metaData?.numValues &+= change
            // A flat chunk must hold its row group's rows. The other columns then fail their
            // own check, but every column is decoded before the first error is reported.
            guard !(isList.indices.contains(c) && isList[c]) else { return }
            meta.rowGroups[g].numRows &+= change
            meta.numRows &+= change
        default: break
        }
    }

    private static func setValues(_ value: Int32, _ header: inout PageHeader) {
        if header.dataPageHeader != nil { header.dataPageHeader?.numValues = value }
        if header.dataPageHeaderV2 != nil { header.dataPageHeaderV2?.numValues = value }
        if header.dictionaryPageHeader != nil { header.dictionaryPageHeader?.numValues = value }
    }

    /// Boundary values for a field now holding `value`.
    func boundaryValues(around value: Int64) -> [Int64] {
        if case .v2Compressed = self { return [1 - value] }
        var candidates: [Int64] = [
            0, 1, -1, Int64(Int32.max), Int64(Int32.min), value &- 1, value &+ 1, value &* 2, value / 2, 1 << 20,
            1 << 24, 1 << 30, Int64(ReadLimits.maxPageValues), Int64(ReadLimits.maxPageValues) + 1,
        ]
        if !isI32 { candidates += [Int64.max, Int64.min, 1 << 40, Int64(Int32.max) * 64] }
        var seen = Set<Int64>()
        return candidates.filter { candidate in
            guard candidate != value, !isI32 || Int32(exactly: candidate) != nil else { return false }
            return seen.insert(candidate).inserted
        }
    }
}
