import TesseraColumnar

/// One data page's levels and values into the accumulator.
extension ColumnChunkReader {
    func readPage(
        count: Int, _ repetitionBytes: UnsafeRawBufferPointer?, _ definitionBytes: UnsafeRawBufferPointer?,
        values: UnsafeRawBufferPointer, encoding: ParquetEncoding, _ out: inout LeafAccumulator
    ) throws {
        let leaf = out.leaf
        guard count > 0 else { return }
        // Common case: a flat column whose page has no nulls stores its definition levels as
        // one RLE run of the maximum; then every slot holds a value and the levels need no decoding.
        if leaf.maxRepetition == 0, let definitionBytes,
            HybridDecoder.isSingleRun(
                definitionBytes, width: bitWidth(UInt64(leaf.maxDefinition)), value: UInt64(leaf.maxDefinition),
                count: count)
        {
            out.rows += count
            let valid = scratch.valid.typed(UInt8.self, count: 1)
            if leaf.physical == .byteArray {
                try readBinaryValues(values, encoding: encoding, present: count, slots: count, valid: valid, &out)
            } else {
                try readFixedValues(values, encoding: encoding, present: count, slots: count, valid: valid, &out)
            }
            out.validity.appendOnes(count)
            out.slots += count
            return
        }
        // The header's count sizes the buffers below only once the levels are shown to hold
        // that many entries; a page without levels has its count checked against its values.
        let definitions = try decodeLevels(
            definitionBytes, max: leaf.maxDefinition, count: count, into: scratch.definitions, "definition")
        let repetitions = try decodeLevels(
            repetitionBytes, max: leaf.maxRepetition, count: count, into: scratch.repetitions, "repetition")
        let valid = scratch.valid.typed(UInt8.self, count: definitions == nil ? 1 : count)
        var slots = 0
        var present = 0
        if leaf.maxRepetition > 0 {
            guard let definitions, let repetitions else {
                throw DecodeError("a page of a list column has no repetition or definition levels")
            }
            let listDefinition = leaf.listDefinition
            let elementDefinition = leaf.elementDefinition
            let maxDefinition = leaf.maxDefinition
            if out.rows == 0, repetitions[0] != 0 {
                throw DecodeError("the column's first value continues a list that never started")
            }
            // Branch-free: every entry writes a row start and a slot flag at the current
            // position, and the positions advance only when the entry is one.
            let starts = scratch.listStarts.typed(Int.self, count: count + 1)
            let rowValid = scratch.listValid.typed(UInt8.self, count: count + 1)
            var rows = 0
            let base = out.slots
            for i in 0..<count {
                let d = Int(definitions[i])
                let isStart = repetitions[i] == 0 ? 1 : 0
                starts[rows] = base + slots
                rowValid[rows] = d >= listDefinition ? 1 : 0
                rows += isStart
                let isSlot = d >= elementDefinition ? 1 : 0
                let isValue = d == maxDefinition ? 1 : 0
                valid[slots] = UInt8(isValue)
                present += isValue
                slots += isSlot
            }
            out.listStarts.append(contentsOf: UnsafeBufferPointer(start: starts, count: rows))
            out.listValidity.append(rowValid, rows)
            out.rows += rows
        } else if leaf.maxDefinition > 0, let definitions {
            let maxDefinition = UInt8(leaf.maxDefinition)
            for i in 0..<count {
                let isValue: UInt8 = definitions[i] == maxDefinition ? 1 : 0
                valid[i] = isValue
                present += Int(isValue)
            }
            slots = count
            out.rows += count
        } else {
            slots = count
            present = count
            out.rows += count
        }
        if leaf.physical == .byteArray {
            try readBinaryValues(values, encoding: encoding, present: present, slots: slots, valid: valid, &out)
        } else {
            try readFixedValues(values, encoding: encoding, present: present, slots: slots, valid: valid, &out)
        }
        if present == slots {
            out.validity.appendOnes(slots)
        } else {
            out.validity.append(valid, slots)
        }
        out.slots += slots
    }

    /// Decodes `count` levels into `buffer`; nil when the page has none of this kind.
    private func decodeLevels(
        _ bytes: UnsafeRawBufferPointer?, max: Int, count: Int, into buffer: RawBuffer, _ kind: String
    ) throws -> UnsafeMutablePointer<UInt8>? {
        guard let bytes else { return nil }
        try PageBounds.levels(bytes, maxLevel: max, count: count, kind)
        let levels = buffer.typed(UInt8.self, count: count)
        var decoder = HybridDecoder(bytes, width: bitWidth(UInt64(max)))
        try decoder.decode(into: levels, count: count)
        var highest: UInt8 = 0
        for i in 0..<count { highest = Swift.max(highest, levels[i]) }
        guard Int(highest) <= max else { throw DecodeError("\(kind) level \(highest) exceeds the maximum \(max)") }
        return levels
    }

    private func readFixedValues(
        _ data: UnsafeRawBufferPointer, encoding: ParquetEncoding, present: Int, slots: Int,
        valid: UnsafePointer<UInt8>, _ out: inout LeafAccumulator
    ) throws {
        let leaf = out.leaf
        let width = leaf.storedWidth
        try PageBounds.values(data, encoding: encoding, count: present, width: width, physical: leaf.physical)
        let direct = try out.directTarget(slots)
        let target: UnsafeMutableRawPointer
        if let direct {
            target = direct
        } else {
            // Dictionary entries and null slots take no page bytes, so the output is capped instead.
            guard slots * width <= ReadLimits.maxPageOutputBytes else {
                throw DecodeError(
                    "\(slots) values of \(width) bytes would decode to \(slots * width) bytes, more than a page may (\(ReadLimits.maxPageOutputBytes))"
                )
            }
            scratch.values.reserve(slots * width)
            target = scratch.values.pointer
        }
        switch encoding {
        case .plain:
            if leaf.physical == .boolean {
                try FixedDecoding.plainBoolean(data, count: present, into: target.assumingMemoryBound(to: UInt8.self))
            } else {
                try FixedDecoding.plain(data, count: present, width: width, into: target)
            }
        case .plainDictionary, .rleDictionary:
            guard scratch.dictionaryCount >= 0 || present == 0 else {
                throw DecodeError("dictionary-encoded page without a dictionary page")
            }
            let indices = scratch.indices.typed(UInt32.self, count: present)
            try FixedDecoding.indices(data, count: present, dictionaryCount: scratch.dictionaryCount, into: indices)
            scratch.dictionaryFixed.withUnsafeBytes { dictionary in
                guard let base = dictionary.baseAddress else { return }
                FixedDecoding.gather(base, width: width, indices: indices, count: present, into: target)
            }
        case .rle where leaf.physical == .boolean:
            try FixedDecoding.rleBoolean(data, count: present, into: target.assumingMemoryBound(to: UInt8.self))
        case .deltaBinaryPacked where leaf.physical == .int32 || leaf.physical == .int64:
            try FixedDecoding.delta(data, count: present, width: width, into: target, scratch: scratch.aux)
        case .byteStreamSplit where leaf.physical != .boolean:
            try FixedDecoding.byteStreamSplit(data, count: present, width: width, into: target)
        case .deltaByteArray where leaf.physical == .fixedLenByteArray,
            .deltaLengthByteArray where leaf.physical == .fixedLenByteArray:
            var bytes: [UInt8] = []
            let ends = scratch.ends.typed(Int.self, count: present)
            if encoding == .deltaByteArray {
                try BinaryDecoding.deltaByteArray(data, count: present, bytes: &bytes, ends: ends, scratch: scratch.aux)
            } else {
                try BinaryDecoding.deltaLength(data, count: present, bytes: &bytes, ends: ends, scratch: scratch.aux)
            }
            guard bytes.count == present * width else {
                throw DecodeError("fixed-length values of \(width) bytes decoded to \(bytes.count) bytes in all")
            }
            for i in 0..<present where ends[i] != (i + 1) * width {
                throw DecodeError("fixed-length value \(i) is not \(width) bytes long")
            }
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress, !raw.isEmpty { target.copyMemory(from: base, byteCount: raw.count) }
            }
        default:
            throw DecodeError("encoding \(encoding) is not supported for \(leaf.physical.name) values")
        }
        if present < slots {
            FixedDecoding.spread(target, width: width, valid: valid, slots: slots, dense: present)
        }
        if direct == nil { out.appendFixed(target, count: slots) }
    }

    private func readBinaryValues(
        _ data: UnsafeRawBufferPointer, encoding: ParquetEncoding, present: Int, slots: Int,
        valid: UnsafePointer<UInt8>, _ out: inout LeafAccumulator
    ) throws {
        try PageBounds.values(data, encoding: encoding, count: present, width: 0, physical: .byteArray)
        let ends = scratch.ends.typed(Int.self, count: present)
        switch encoding {
        case .plain:
            try BinaryDecoding.plain(data, count: present, bytes: &out.binary.bytes, ends: ends)
        case .plainDictionary, .rleDictionary:
            guard scratch.dictionaryCount >= 0 || present == 0 else {
                throw DecodeError("dictionary-encoded page without a dictionary page")
            }
            let indices = scratch.indices.typed(UInt32.self, count: present)
            try FixedDecoding.indices(data, count: present, dictionaryCount: scratch.dictionaryCount, into: indices)
            try BinaryDecoding.gather(
                scratch.dictionaryBinary, indices: indices, count: present, bytes: &out.binary.bytes, ends: ends)
        case .deltaLengthByteArray:
            try BinaryDecoding.deltaLength(
                data, count: present, bytes: &out.binary.bytes, ends: ends, scratch: scratch.aux)
        case .deltaByteArray:
            try BinaryDecoding.deltaByteArray(
                data, count: present, bytes: &out.binary.bytes, ends: ends, scratch: scratch.aux)
        default:
            throw DecodeError("encoding \(encoding) is not supported for BYTE_ARRAY values")
        }
        if present == slots {
            out.binary.offsets.append(contentsOf: UnsafeBufferPointer(start: ends, count: present))
        } else {
            var next = 0
            var last = out.binary.offsets[out.binary.offsets.count - 1]
            for slot in 0..<slots {
                if valid[slot] != 0 {
                    last = ends[next]
                    next += 1
                }
                out.binary.offsets.append(last)
            }
        }
    }
}
