import TesseraColumnar
import TesseraCore

extension RowLayout {
    /// Decodes feature `position` from a stored value, touching only that feature's bytes.
    ///
    /// - Returns: the value (`.null` when its presence bit is clear), or `nil` when the bytes
    ///   are too short or inconsistent for this layout (a damaged row): never a crash.
    package func decode(_ position: Int, from blob: UnsafeRawBufferPointer) -> ScalarValue? {
        let head = bitmapBytes + fixedSize
        guard position < slots.count, blob.count >= head else { return nil }
        guard blob[position >> 3] & (1 << UInt8(position & 7)) != 0 else { return .null }
        let slot = slots[position]
        let fixed = bitmapBytes + slot.offset
        guard slot.isVariable else { return RowLayout.readFixed(slot.type, blob, at: fixed) }
        let end = Int(UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: fixed, as: UInt32.self)))
        var start = 0
        if slot.previousVariable >= 0 {
            let previous = bitmapBytes + slots[slot.previousVariable].offset
            start = Int(UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: previous, as: UInt32.self)))
        }
        guard start <= end, head + end <= blob.count else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: blob[(head + start)..<(head + end)])
        return RowLayout.readVariable(slot.type, bytes)
    }

    @inline(__always)
    static func readFixed(_ type: ValueType, _ blob: UnsafeRawBufferPointer, at offset: Int) -> ScalarValue? {
        guard let width = fixedWidth(type), offset + width <= blob.count else { return nil }
        switch type {
        case .bool: return .bool(blob[offset] != 0)
        case .int32: return .int32(Int32(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        case .int64: return .int64(Int64(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
        case .timestamp:
            let micros = Int64(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: Int64.self))
            return .timestamp(Timestamp(microseconds: micros))
        case .float32:
            let bits = UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            return .float32(Float(bitPattern: bits))
        case .float64:
            let bits = UInt64(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            return .float64(Double(bitPattern: bits))
        case .string, .bytes, .list: return nil
        }
    }

    static func readVariable(_ type: ValueType, _ bytes: UnsafeRawBufferPointer) -> ScalarValue? {
        switch type {
        case .string: return .string(String(decoding: bytes, as: UTF8.self))
        case .bytes: return .bytes(Array(bytes))
        case .list(let element):
            guard bytes.count >= 5 else { return nil }
            let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            var at = 5
            var presence: UnsafeRawBufferPointer?
            if bytes[4] != 0 {
                let length = (count + 7) / 8
                guard at + length <= bytes.count else { return nil }
                presence = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)])
                at += length
            }
            // A damaged count must not make us reserve absurd memory: every element takes a byte or more.
            guard count <= bytes.count else { return nil }
            var items: [ScalarValue] = []
            items.reserveCapacity(count)
            for k in 0..<count {
                let present = presence.map { $0[k >> 3] & (1 << UInt8(k & 7)) != 0 } ?? true
                if let width = fixedWidth(element) {
                    guard let value = readFixed(element, bytes, at: at) else { return nil }
                    items.append(present ? value : .null)
                    at += width
                } else {
                    guard at + 4 <= bytes.count else { return nil }
                    let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    at += 4
                    guard at + length <= bytes.count else { return nil }
                    let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)])
                    guard let value = readVariable(element, slice) else { return nil }
                    items.append(present ? value : .null)
                    at += length
                }
            }
            return .list(items)
        default: return nil
        }
    }
}

extension RowLayout {
    /// The values of the features at `positions` (`nil`: the layout lacks that feature) from
    /// a stored value; `nil` when the bytes do not match this layout.
    package func decode(_ positions: [Int?], from blob: UnsafeRawBufferPointer) -> [ScalarValue?]? {
        var decoded: [ScalarValue?] = []
        decoded.reserveCapacity(positions.count)
        for position in positions {
            guard let position else {
                decoded.append(nil)
                continue
            }
            guard let scalar = decode(position, from: blob) else { return nil }
            decoded.append(scalar)
        }
        return decoded
    }

    /// An id for this layout that every process derives alike, with no coordination: the
    /// first 8 bytes of the SHA-256 of its spec (stores shared by many writers key layouts by it).
    package var digestID: UInt64 {
        var digest = SHA256()
        digest.update(spec)
        let bytes = digest.finalize()
        var value: UInt64 = 0
        for k in 0..<8 { value = value << 8 | UInt64(bytes[k]) }
        return value
    }
}
