import Foundation
import TesseraColumnar
import TesseraCore
import TesseraOnline
import Testing

/// What a store on a server must do when the server goes away and comes back: fail calls
/// with an error naming the server (`place`, and the word `name`), never `secret`; then write
/// and read again by itself once the server is back.
public enum OnlineStoreRestart {
    /// Writes key 1, `halt`s the server, checks the failures, `resume`s it and writes key 2;
    /// `keepsData`: whether the restarted server still holds key 1 (PostgreSQL) or nothing
    /// (a Redis without persistence).
    public static func check(
        _ store: any OnlineStore, place: String, name: String, secret: String?, keepsData: Bool,
        halt: () -> Void, resume: () throws -> Void
    ) throws {
        func batch(_ id: Int64, _ value: Double) throws -> OnlineWriteBatch {
            try OnlineWriteBatch(
                view: "v", joinKeys: [.int64([id])], eventTimestamps: .timestamp([1_000_000]),
                features: [("f", .float64([value]))])
        }
        try store.write(try batch(1, 1))
        halt()
        let second = try batch(2, 2)
        let down = thrownError { () throws(OnlineStoreError) in try store.write(second) }
        #expect(down?.kind == .io)
        #expect(down?.description.contains(place) == true, "\(String(describing: down))")
        #expect(down?.description.contains(name) == true, "\(String(describing: down))")
        if let secret { #expect(down?.debugDescription.contains(secret) == false, "\(String(describing: down))") }
        #expect(throws: OnlineStoreError.self) {
            try store.readRecords(view: "v", keys: [EntityKey(int64: 1)], features: ["f"])
        }
        try resume()
        // Reconnects may back off for a while: allow a few tries.
        var written = false
        for _ in 0..<60 where !written {
            written = (try? store.write(second)) != nil
            if !written { usleep(50_000) }
        }
        #expect(written)
        let rows = try store.readRecords(view: "v", keys: [1, 2].map(EntityKey.init(int64:)), features: ["f"])
        #expect(rows.map { $0?.values } == [keepsData ? [.float64(1)] : nil, [.float64(2)]])
    }
}
