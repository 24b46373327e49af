import Foundation
import TesseraColumnar

/// Reads the next batch on another thread while the caller works on the current one.
///
/// Decoding a row group and joining the previous one overlap on two cores; at most
/// `depth` decoded batches wait, so memory stays bounded.
enum Prefetch {
    struct Cancelled: Error {}

    /// Like `reader.scan`, with decoding one batch ahead of `body`.
    static func scan(
        _ reader: any SourceReader, columns: [String], filter: TimeFilter?, threads: Int, depth: Int = 1,
        _ body: (RecordBatch) throws -> Void
    ) throws {
        guard threads > 1 else {
            try reader.scan(columns: columns, filter: filter, threads: 1, body)
            return
        }
        let queue = BatchQueue(capacity: depth)
        let producer = Thread {
            do {
                try reader.scan(columns: columns, filter: filter, threads: 1) { batch in
                    try queue.put(batch)
                }
                queue.finish(nil)
            } catch {
                queue.finish(error)
            }
        }
        producer.start()
        do {
            while let batch = try queue.take() { try body(batch) }
        } catch {
            queue.cancel()
            queue.waitUntilProducerDone()
            throw error
        }
        queue.waitUntilProducerDone()
    }
}

/// A bounded hand-off between one producer thread and one consumer.
final class BatchQueue: @unchecked Sendable {
    // Every field is read and written only while holding `condition`'s lock.
    private let condition = NSCondition()
    private var items: [RecordBatch] = []
    private let capacity: Int
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private var producerDone = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func put(_ batch: RecordBatch) throws {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { throw Prefetch.Cancelled() }
        items.append(batch)
        condition.broadcast()
    }

    func finish(_ error: (any Error)?) {
        condition.lock()
        finished = true
        producerDone = true
        if !(error is Prefetch.Cancelled) { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; rethrows the producer's error.
    func take() throws -> RecordBatch? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        if !items.isEmpty {
            let batch = items.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilProducerDone() {
        condition.lock()
        while !producerDone { condition.wait() }
        condition.unlock()
    }
}
