/// The common page of the common file, decoded without an intermediate copy: a PLAIN,
/// compressed v1 page of a flat fixed-width column whose definition levels (if any)
/// say "no nulls" is decompressed straight into the column's final array.
extension ColumnChunkReader {
    /// Returns false, having changed nothing, when the page is not of that shape.
    func readPlainPageInPlace(
        _ header: PageHeader, _ info: DataPageHeader, _ body: UnsafeRawBufferPointer, _ codec: ParquetCompression,
        _ out: inout LeafAccumulator
    ) throws -> Bool {
        let leaf = out.leaf
        let count = Int(info.numValues)
        let width = leaf.storedWidth
        guard info.encoding == .plain, codec != .uncompressed, leaf.maxRepetition == 0, leaf.physical != .boolean,
            width >= 4, count > 0, let direct = out.direct, out.slots + count <= out.directCapacity
        else { return false }
        let size = Int(header.uncompressedPageSize)
        // Whatever precedes the values is the levels section; a page without nulls has a tiny one.
        let prefix = size - count * width
        guard prefix >= 0, prefix <= 64, out.slots * width >= prefix, leaf.maxDefinition > 0 || prefix == 0 else {
            return false
        }
        // The levels land on the previous page's last values: save those bytes, put them back after.
        let target = direct + out.slots * width - prefix
        return try withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { saved in
            guard let savedBase = saved.baseAddress else { return false }
            savedBase.copyMemory(from: target, byteCount: prefix)
            defer { target.copyMemory(from: savedBase, byteCount: prefix) }
            try Codecs.decompress(codec, body, into: UnsafeMutableRawBufferPointer(start: target, count: size))
            // Without definition levels the page must be values alone. With them the levels
            // section must be there and say "no nulls": a size that merely works out (a page
            // whose nulls' missing values take as many bytes as its levels) is not enough.
            var allPresent = leaf.maxDefinition == 0 && prefix == 0
            if leaf.maxDefinition > 0 {
                var cursor = ByteCursor(UnsafeRawBufferPointer(start: target, count: prefix))
                if info.definitionLevelEncoding == .rle, let length = try? cursor.uint32LE(), Int(length) == prefix - 4
                {
                    let maximum = leaf.maxDefinition
                    allPresent = HybridDecoder.isSingleRun(
                        cursor.rest, width: bitWidth(UInt64(maximum)), value: UInt64(maximum), count: count)
                }
            }
            guard allPresent else {
                // Some other layout after all: decode a copy of the page the general way.
                scratch.page.reserve(size)
                scratch.page.pointer.copyMemory(from: target, byteCount: size)
                target.copyMemory(from: savedBase, byteCount: prefix)
                try readPageV1(UnsafeRawBufferPointer(start: scratch.page.pointer, count: size), info, &out)
                return true
            }
            out.rows += count
            out.validity.appendOnes(count)
            out.slots += count
            return true
        }
    }
}
