import NIOPosix

/// The threads that run blocking work for the server, so no event loop (and no thread of
/// Swift's cooperative pool) ever waits on a file, a lock or the network.
///
/// Three pools, so that one kind of wait never delays another:
/// - `reads`: online lookups (SQLite point reads: microseconds, but file I/O and reader locks);
/// - `writes`: pushes and writes (they may wait for SQLite's write lock, held by a materialization);
/// - `maintenance`: `/materialize` runs (seconds to minutes), one at a time.
final class BlockingPools: Sendable {
    let reads: NIOThreadPool
    let writes: NIOThreadPool
    let maintenance: NIOThreadPool

    init(readThreads: Int, writeThreads: Int) {
        reads = NIOThreadPool(numberOfThreads: max(1, readThreads))
        writes = NIOThreadPool(numberOfThreads: max(1, writeThreads))
        maintenance = NIOThreadPool(numberOfThreads: 1)
        reads.start()
        writes.start()
        maintenance.start()
    }

    deinit {
        for pool in [reads, writes, maintenance] { pool.shutdownGracefully { _ in } }
    }
}
