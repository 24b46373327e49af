/// Reading the footer structures from Thrift compact bytes. Field numbers follow parquet.thrift.

extension FileMetaData {
    init(decoding d: inout CompactDecoder) throws(ThriftError) {
        var sawVersion = false, sawSchema = false, sawRows = false, sawGroups = false
        var meta = FileMetaData()
        try d.readStruct { (d: inout CompactDecoder, id, type) throws(ThriftError) in
            switch id {
            case 1: meta.version = try d.readI32(type); sawVersion = true
            case 2:
                meta.schema = try d.readList(type) { (d: inout CompactDecoder, t) throws(ThriftError) in
                    try SchemaElement(decoding: &d, t)
                }; sawSchema = true
            case 3: meta.numRows = try d.readI64(type); sawRows = true
            case 4:
                meta.rowGroups = try d.readList(type) { (d: inout CompactDecoder, t) throws(ThriftError) in
                    try RowGroup(decoding: &d, t)
                }; sawGroups = true
            case 5:
                meta.keyValueMetadata = try d.readList(type) { (d: inout CompactDecoder, t) throws(ThriftError) in
                    try KeyValue(decoding: &d, t)
                }
            case 6: meta.createdBy = try d.readString(type)
            case 7:
                let (element, count) = try d.readListHeader(type)
                for _ in 0..<count { try d.skip(element) }
                meta.columnOrdersDefined = count > 0
            case 8: meta.encrypted = true; try d.skip(type)
            default: return false
            }
            return true
        }
        guard sawVersion, sawSchema, sawRows, sawGroups else {
            throw ThriftError("file metadata lacks a required field (version, schema, num_rows or row_groups)")
        }
        self = meta
    }
}

extension SchemaElement {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var e = SchemaElement()
        var sawName = false
        try d.readStruct(type) { (d: inout CompactDecoder, id, type) throws(ThriftError) in
            switch id {
            case 1:
                let raw = try d.readI32(type)
                guard let physical = PhysicalType(rawValue: raw) else {
                    throw ThriftError("unknown physical type \(raw)")
                }
                e.type = physical
            case 2: e.typeLength = try d.readI32(type)
            case 3:
                let raw = try d.readI32(type)
                guard let repetition = Repetition(rawValue: raw) else { throw ThriftError("unknown repetition \(raw)") }
                e.repetition = repetition
            case 4: e.name = try d.readString(type); sawName = true
            case 5: e.numChildren = try d.readI32(type)
            case 6: e.convertedType = ConvertedType(rawValue: try d.readI32(type))
            case 7: e.scale = try d.readI32(type)
            case 8: e.precision = try d.readI32(type)
            case 9: e.fieldId = try d.readI32(type)
            case 10: e.logicalType = try LogicalType(decoding: &d, type)
            default: return false
            }
            return true
        }
        guard sawName else { throw ThriftError("a schema element has no name") }
        self = e
    }
}

extension LogicalType {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var result: LogicalType = .other(0)
        try d.readStruct(type) { (d: inout CompactDecoder, id, type) throws(ThriftError) in
            switch id {
            case 1: result = .string
            case 2: result = .map
            case 3: result = .list
            case 4: result = .enumeration
            case 5:
                var scale: Int32 = 0, precision: Int32 = 0
                try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
                    switch id {
                    case 1: scale = try d.readI32(t)
                    case 2: precision = try d.readI32(t)
                    default: return false
                    }
                    return true
                }
                result = .decimal(scale: scale, precision: precision)
                return true
            case 6: result = .date
            case 7, 8:
                var utc = false
                var unit = TimeUnit.millis
                try d.readStruct(type) { (d: inout CompactDecoder, fid, t) throws(ThriftError) in
                    switch fid {
                    case 1: utc = try d.readBool(t)
                    case 2: unit = try TimeUnit(decoding: &d, t)
                    default: return false
                    }
                    return true
                }
                result = id == 7 ? .time(utc: utc, unit: unit) : .timestamp(utc: utc, unit: unit)
                return true
            case 10:
                var width: Int8 = 0, signed = true
                try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
                    switch id {
                    case 1: width = try d.readI8(t)
                    case 2: signed = try d.readBool(t)
                    default: return false
                    }
                    return true
                }
                result = .integer(bitWidth: width, signed: signed)
                return true
            case 11: result = .unknown
            case 12: result = .json
            case 13: result = .bson
            case 14: result = .uuid
            case 15: result = .float16
            default: result = .other(id)
            }
            try d.skip(type)
            return true
        }
        self = result
    }
}

extension TimeUnit {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var unit: TimeUnit?
        try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
            switch id {
            case 1: unit = .millis
            case 2: unit = .micros
            case 3: unit = .nanos
            default: return false
            }
            try d.skip(t)
            return true
        }
        guard let unit else { throw ThriftError("a time unit names no known unit") }
        self = unit
    }
}

extension KeyValue {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var key = "", value: String?
        try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
            switch id {
            case 1: key = try d.readString(t)
            case 2: value = try d.readString(t)
            default: return false
            }
            return true
        }
        self.init(key: key, value: value)
    }
}

extension RowGroup {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var g = RowGroup()
        try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
            switch id {
            case 1:
                g.columns = try d.readList(t) { (d: inout CompactDecoder, t) throws(ThriftError) in
                    try ColumnChunk(decoding: &d, t)
                }
            case 2: g.totalByteSize = try d.readI64(t)
            case 3: g.numRows = try d.readI64(t)
            case 5: g.fileOffset = try d.readI64(t)
            case 6: g.totalCompressedSize = try d.readI64(t)
            case 7: g.ordinal = Int16(truncatingIfNeeded: try d.readI32(t))
            default: return false
            }
            return true
        }
        self = g
    }
}

extension ColumnChunk {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var c = ColumnChunk()
        try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
            switch id {
            case 1: c.filePath = try d.readString(t)
            case 2: c.fileOffset = try d.readI64(t)
            case 3: c.metaData = try ColumnMetaData(decoding: &d, t)
            default: return false
            }
            return true
        }
        self = c
    }
}

extension ColumnMetaData {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var m = ColumnMetaData()
        var sawType = false
        try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
            switch id {
            case 1:
                let raw = try d.readI32(t)
                guard let physical = PhysicalType(rawValue: raw) else {
                    throw ThriftError("unknown physical type \(raw)")
                }
                m.type = physical
                sawType = true
            case 2:
                m.encodings = try d.readList(t) { (d: inout CompactDecoder, t) throws(ThriftError) in
                    ParquetEncoding(rawValue: try d.readI32(t))
                }
            case 3:
                m.pathInSchema = try d.readList(t) { (d: inout CompactDecoder, t) throws(ThriftError) in
                    try d.readString(t)
                }
            case 4: m.codec = ParquetCompression(rawValue: try d.readI32(t))
            case 5: m.numValues = try d.readI64(t)
            case 6: m.totalUncompressedSize = try d.readI64(t)
            case 7: m.totalCompressedSize = try d.readI64(t)
            case 9: m.dataPageOffset = try d.readI64(t)
            case 10: m.indexPageOffset = try d.readI64(t)
            case 11: m.dictionaryPageOffset = try d.readI64(t)
            case 12: m.statistics = try Statistics(decoding: &d, t)
            default: return false
            }
            return true
        }
        guard sawType else { throw ThriftError("column metadata has no physical type") }
        self = m
    }
}

extension Statistics {
    init(decoding d: inout CompactDecoder, _ type: CompactType) throws(ThriftError) {
        var s = Statistics()
        try d.readStruct(type) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
            switch id {
            case 1: s.max = try d.readBinary(t)
            case 2: s.min = try d.readBinary(t)
            case 3: s.nullCount = try d.readI64(t)
            case 4: s.distinctCount = try d.readI64(t)
            case 5: s.maxValue = try d.readBinary(t)
            case 6: s.minValue = try d.readBinary(t)
            default: return false
            }
            return true
        }
        self = s
    }
}

extension PageHeader {
    init(decoding d: inout CompactDecoder) throws(ThriftError) {
        var h = PageHeader()
        var sawType = false, sawSizes = 0
        try d.readStruct { (d: inout CompactDecoder, id, t) throws(ThriftError) in
            switch id {
            case 1: h.type = try d.readI32(t); sawType = true
            case 2: h.uncompressedPageSize = try d.readI32(t); sawSizes += 1
            case 3: h.compressedPageSize = try d.readI32(t); sawSizes += 1
            case 5:
                var p = DataPageHeader()
                try d.readStruct(t) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
                    switch id {
                    case 1: p.numValues = try d.readI32(t)
                    case 2: p.encoding = ParquetEncoding(rawValue: try d.readI32(t))
                    case 3: p.definitionLevelEncoding = ParquetEncoding(rawValue: try d.readI32(t))
                    case 4: p.repetitionLevelEncoding = ParquetEncoding(rawValue: try d.readI32(t))
                    default: return false
                    }
                    return true
                }
                h.dataPageHeader = p
            case 7:
                var p = DictionaryPageHeader()
                try d.readStruct(t) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
                    switch id {
                    case 1: p.numValues = try d.readI32(t)
                    case 2: p.encoding = ParquetEncoding(rawValue: try d.readI32(t))
                    default: return false
                    }
                    return true
                }
                h.dictionaryPageHeader = p
            case 8:
                var p = DataPageHeaderV2()
                try d.readStruct(t) { (d: inout CompactDecoder, id, t) throws(ThriftError) in
                    switch id {
                    case 1: p.numValues = try d.readI32(t)
                    case 2: p.numNulls = try d.readI32(t)
                    case 3: p.numRows = try d.readI32(t)
                    case 4: p.encoding = ParquetEncoding(rawValue: try d.readI32(t))
                    case 5: p.definitionLevelsByteLength = try d.readI32(t)
                    case 6: p.repetitionLevelsByteLength = try d.readI32(t)
                    case 7: p.isCompressed = try d.readBool(t)
                    default: return false
                    }
                    return true
                }
                h.dataPageHeaderV2 = p
            default: return false
            }
            return true
        }
        guard sawType, sawSizes == 2 else { throw ThriftError("page header lacks its type or sizes") }
        guard h.compressedPageSize >= 0, h.uncompressedPageSize >= 0 else {
            throw ThriftError("page header has a negative size")
        }
        self = h
    }
}
