import TesseraColumnar
import TesseraCore

/// The identity of one push: the SHA-256 of its source, its columns' names and types, and
/// every value. The same push sent twice (a client's retry) has the same id, so offline
/// stores append it once (`OfflineEngine.appendPushed`).
public enum PushID {
    public static func of(source: String, batch: RecordBatch) -> String {
        var digest = SHA256()
        digest.update("\(source)\n")
        for (field, column) in zip(batch.schema.fields, batch.columns) {
            digest.update("\(field.name):\(field.type.name):\(column.count)\n")
            for row in 0..<column.count { digest.update("\(column.value(at: row))\u{1F}") }
            digest.update("\n")
        }
        return SHA256.hexString(digest.finalize())
    }
}
