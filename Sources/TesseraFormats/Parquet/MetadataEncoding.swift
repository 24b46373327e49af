/// Writing the footer structures as Thrift compact bytes. Field numbers follow parquet.thrift.

extension FileMetaData {
    func encode(_ e: inout CompactEncoder) {
        e.beginStruct()
        e.field(1, i32: version)
        e.field(2, structList: schema.count) { e, i in schema[i].encode(&e) }
        e.field(3, i64: numRows)
        e.field(4, structList: rowGroups.count) { e, i in rowGroups[i].encode(&e) }
        if !keyValueMetadata.isEmpty {
            e.field(5, structList: keyValueMetadata.count) { e, i in
                e.field(1, string: keyValueMetadata[i].key)
                if let value = keyValueMetadata[i].value { e.field(2, string: value) }
            }
        }
        if let createdBy { e.field(6, string: createdBy) }
        if columnOrdersDefined {
            // One TypeDefinedOrder per leaf column: min/max of byte arrays compare as unsigned bytes.
            let leaves = schema.filter { $0.numChildren == nil }.count
            e.field(7, structList: leaves) { e, _ in e.field(1, struct: { _ in }) }
        }
        e.endStruct()
    }
}

extension SchemaElement {
    func encode(_ e: inout CompactEncoder) {
        if let type { e.field(1, i32: type.rawValue) }
        if let typeLength { e.field(2, i32: typeLength) }
        if let repetition { e.field(3, i32: repetition.rawValue) }
        e.field(4, string: name)
        if let numChildren { e.field(5, i32: numChildren) }
        if let convertedType { e.field(6, i32: convertedType.rawValue) }
        if let scale { e.field(7, i32: scale) }
        if let precision { e.field(8, i32: precision) }
        if let logicalType {
            e.field(10, struct: { e in logicalType.encode(&e) })
        }
    }
}

extension LogicalType {
    /// Writes the union's member; only the annotations the writer produces are needed.
    func encode(_ e: inout CompactEncoder) {
        switch self {
        case .string: e.field(1, struct: { _ in })
        case .list: e.field(3, struct: { _ in })
        case .timestamp(let utc, let unit):
            e.field(
                8,
                struct: { e in
                    e.field(1, bool: utc)
                    e.field(
                        2,
                        struct: { e in
                            switch unit {
                            case .millis: e.field(1, struct: { _ in })
                            case .micros: e.field(2, struct: { _ in })
                            case .nanos: e.field(3, struct: { _ in })
                            }
                        })
                })
        case .integer(let width, let signed):
            e.field(
                10,
                struct: { e in
                    e.field(1, i8: width)
                    e.field(2, bool: signed)
                })
        default: break
        }
    }
}

extension RowGroup {
    func encode(_ e: inout CompactEncoder) {
        e.field(1, structList: columns.count) { e, i in columns[i].encode(&e) }
        e.field(2, i64: totalByteSize)
        e.field(3, i64: numRows)
        if let fileOffset { e.field(5, i64: fileOffset) }
        if let totalCompressedSize { e.field(6, i64: totalCompressedSize) }
        if let ordinal { e.fieldHeader(7, .i16); e.writeZigzag(Int64(ordinal)) }
    }
}

extension ColumnChunk {
    func encode(_ e: inout CompactEncoder) {
        e.field(2, i64: fileOffset)
        if let metaData { e.field(3, struct: { e in metaData.encode(&e) }) }
    }
}

extension ColumnMetaData {
    func encode(_ e: inout CompactEncoder) {
        e.field(1, i32: type.rawValue)
        e.field(2, i32List: encodings.map(\.rawValue))
        e.field(3, stringList: pathInSchema)
        e.field(4, i32: codec.rawValue)
        e.field(5, i64: numValues)
        e.field(6, i64: totalUncompressedSize)
        e.field(7, i64: totalCompressedSize)
        e.field(9, i64: dataPageOffset)
        if let dictionaryPageOffset { e.field(11, i64: dictionaryPageOffset) }
        if let statistics { e.field(12, struct: { e in statistics.encode(&e) }) }
    }
}

extension Statistics {
    func encode(_ e: inout CompactEncoder) {
        if let nullCount { e.field(3, i64: nullCount) }
        if let maxValue { e.field(5, binary: maxValue) }
        if let minValue { e.field(6, binary: minValue) }
    }
}

extension PageHeader {
    func encode(_ e: inout CompactEncoder) {
        e.beginStruct()
        e.field(1, i32: type)
        e.field(2, i32: uncompressedPageSize)
        e.field(3, i32: compressedPageSize)
        if let p = dataPageHeader {
            e.field(
                5,
                struct: { e in
                    e.field(1, i32: p.numValues)
                    e.field(2, i32: p.encoding.rawValue)
                    e.field(3, i32: p.definitionLevelEncoding.rawValue)
                    e.field(4, i32: p.repetitionLevelEncoding.rawValue)
                })
        }
        if let p = dictionaryPageHeader {
            e.field(
                7,
                struct: { e in
                    e.field(1, i32: p.numValues)
                    e.field(2, i32: p.encoding.rawValue)
                })
        }
        // The writer makes v1 pages only; tests re-encode the v2 headers of other writers' files.
        if let p = dataPageHeaderV2 {
            e.field(
                8,
                struct: { e in
                    e.field(1, i32: p.numValues)
                    e.field(2, i32: p.numNulls)
                    e.field(3, i32: p.numRows)
                    e.field(4, i32: p.encoding.rawValue)
                    e.field(5, i32: p.definitionLevelsByteLength)
                    e.field(6, i32: p.repetitionLevelsByteLength)
                    e.field(7, bool: p.isCompressed)
                })
        }
        e.endStruct()
    }
}
