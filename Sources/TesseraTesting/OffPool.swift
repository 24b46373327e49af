import Foundation

/// Runs `body` on a thread of its own and waits for it without holding one of Swift's
/// cooperative threads: long synchronous test work (building training sets, replaying
/// pushes) would otherwise starve the async tests running beside it on a 2-core machine.
public func runOffPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
