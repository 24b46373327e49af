import TesseraColumnar
import TesseraCore

/// The identity of one push: the SHA-256 of its source, its columns' names and types, and
/// every value. The same push sent twice (a client's retry) has the same id, so offline
/// stores append it once (`OfflineEngine.appendPushed`) and aggregation states take it once.
public enum PushID {
    public static func of(source: String, batch: RecordBatch) -> String {
        var digest = SHA256()
        digest.update("tessera-push-2\n\(source)\n")
        for (field, column) in zip(batch.schema.fields, batch.columns) {
            digest.update("\(field.name):\(field.type.name):\(column.count)\n")
            add(column, to: &digest)
        }
        return SHA256.hexString(digest.finalize())
    }

    /// A column's validity (one byte per row) and values (their little-endian bytes; null
    /// slots hold placeholders, so equal columns give equal bytes), lists recursively.
    private static func add(_ column: Column, to digest: inout SHA256) {
        let valid = (0..<column.count).map { column.isValid($0) ? UInt8(1) : 0 }
        valid.withUnsafeBytes { digest.update(raw: $0) }
        switch column.data {
        case .bool(let v): v.map { $0 ? UInt8(1) : 0 }.withUnsafeBytes { digest.update(raw: $0) }
        case .int32(let v): v.map(\.littleEndian).withUnsafeBytes { digest.update(raw: $0) }
        case .int64(let v): v.map(\.littleEndian).withUnsafeBytes { digest.update(raw: $0) }
        case .float32(let v): v.map(\.bitPattern.littleEndian).withUnsafeBytes { digest.update(raw: $0) }
        case .float64(let v): v.map(\.bitPattern.littleEndian).withUnsafeBytes { digest.update(raw: $0) }
        case .binary(let data):
            offsets(data.offsets, to: &digest)
            data.bytes.withUnsafeBytes { digest.update(raw: $0) }
        case .list(let listOffsets, let values):
            offsets(listOffsets, to: &digest)
            add(values, to: &digest)
        }
        digest.update("\n")
    }

    private static func offsets(_ offsets: [Int], to digest: inout SHA256) {
        let base = offsets.first ?? 0
        offsets.map { Int64($0 - base).littleEndian }.withUnsafeBytes { digest.update(raw: $0) }
    }
}
