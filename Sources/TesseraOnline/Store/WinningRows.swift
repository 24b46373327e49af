import TesseraColumnar
import TesseraCore

/// A batch's rows as every store writes them: its encoded keys, the row that wins for each
/// key (`NewestPerKey`, in key order), the batch's value layout, and the winners' encoded
/// features — all of it work done before a store locks or sends anything.
package struct WinningRows {
    package let keys: EncodedKeys
    /// The winning row of each key, in key order.
    package let rows: [Int]
    package let layout: RowLayout
    /// The winners' encoded features, in `rows` order.
    package let values: EncodedRows

    /// - Throws: `OnlineStoreError.invalidBatch` for a null or list key.
    package init(_ batch: OnlineWriteBatch) throws(OnlineStoreError) {
        layout = RowLayout(fields: zip(batch.featureNames, batch.features.map(\.type)).map { ($0, $1) })
        keys = try EncodedKeys(columns: batch.joinKeys, rows: batch.count)
        rows =
            batch.count == 0
            ? [] : NewestPerKey.select(keys: keys, events: batch.eventTimestamps, created: batch.createdTimestamps)
        values = layout.encode(columns: batch.features, rows: rows)
    }

    package var count: Int { rows.count }

    /// The encoded key of winner `winner`.
    package func key(_ winner: Int) -> ArraySlice<UInt8> {
        let row = rows[winner]
        return keys.bytes[keys.offsets[row]..<keys.offsets[row + 1]]
    }

    /// The encoded features of winner `winner`.
    package func value(_ winner: Int) -> ArraySlice<UInt8> {
        values.bytes[values.offsets[winner]..<values.offsets[winner + 1]]
    }
}

extension OnlineWriteSummary {
    /// One summary per batch, given the rows written of each non-empty batch in order
    /// (empty batches are not sent to a store).
    package static func perBatch(_ batches: [OnlineWriteBatch], writtenByNonEmpty written: [Int])
        -> [OnlineWriteSummary]
    {
        var next = 0
        return batches.map { batch in
            guard batch.count > 0 else { return OnlineWriteSummary(received: 0, written: 0, skipped: 0) }
            defer { next += 1 }
            return OnlineWriteSummary(
                received: batch.count, written: written[next], skipped: batch.count - written[next])
        }
    }
}
