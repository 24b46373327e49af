import Foundation
import Synchronization

/// The states of a rebuild, encoded ahead of the store's writer on every thread.
///
/// A store applies a rebuild key by key in one write transaction and asks for each key's
/// state as it goes (`OnlineStateUpdate.transform`). When it asks in index order (the
/// embedded store writes in key order, so a rebuild hands it keys sorted that way), the next
/// `chunk` states are encoded at once across `threads`; asked out of order, a state is
/// encoded alone, so no order costs more than encoding every state once.
public final class StateEncoder: Sendable {
    private let count: Int
    private let threads: Int
    private let chunk: Int
    private let encode: @Sendable (Int) -> [UInt8]?
    /// The encoded run: states of indices `start ..< start + states.count`.
    private let ahead = Mutex<(start: Int, states: [[UInt8]?])>((0, []))

    /// - Parameter threads: how many threads encode (`nil`: every core).
    public init(count: Int, threads: Int?, chunk: Int = 4096, encode: @escaping @Sendable (Int) -> [UInt8]?) {
        self.count = count
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.chunk = max(1, chunk)
        self.encode = encode
    }

    /// The state of index `index`: what `encode(index)` gives.
    public func state(_ index: Int) -> [UInt8]? {
        ahead.withLock { run in
            if index >= run.start && index < run.start + run.states.count { return run.states[index - run.start] }
            guard index < count, index == run.start + run.states.count, threads > 1 else { return encode(index) }
            // The next run after the last: encode it across the threads, each a contiguous part.
            let end = min(count, index + chunk)
            var states = [[UInt8]?](repeating: nil, count: end - index)
            let encode = self.encode
            states.withUnsafeMutableBufferPointer { buffer in
                let shared = UnsafeSendable(buffer)
                let parts = Parallel.chunks(count: end - index, threads: threads, minimum: 256)
                Parallel.forEach(parts) { part in
                    for k in part { shared.value[k] = encode(index + k) }
                }
            }
            run = (index, states)
            return states[0]
        }
    }
}
