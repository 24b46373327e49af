import Foundation

/// A value handed to concurrent workers that each touch disjoint parts of it.
///
/// `@unchecked` because the compiler cannot see the disjointness: every use site
/// gives each worker its own index range of the buffer, and the buffer outlives the
/// `Parallel.forEach` call that uses it (it returns only when all workers are done).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Splitting work over cores.
enum Parallel {
    /// `count` items cut into about `threads × 4` contiguous ranges (at least `minimum` items each).
    static func chunks(count: Int, threads: Int, minimum: Int = 4096) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let pieces = threads <= 1 ? 1 : max(1, min(threads * 4, count / max(1, minimum)))
        let size = (count + pieces - 1) / pieces
        return stride(from: 0, to: count, by: size).map { $0..<min(count, $0 + size) }
    }

    /// Runs `body` on every range, concurrently when there is more than one.
    static func forEach(_ ranges: [Range<Int>], _ body: @Sendable (Range<Int>) -> Void) {
        if ranges.count <= 1 {
            ranges.forEach(body)
            return
        }
        DispatchQueue.concurrentPerform(iterations: ranges.count) { body(ranges[$0]) }
    }
}
