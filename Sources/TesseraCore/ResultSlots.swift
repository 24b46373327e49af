/// Fixed slots written from concurrent iterations, each index by exactly one writer.
public final class ResultSlots<T: Sendable>: @unchecked Sendable {
    // Safe because `concurrentPerform` gives each index to exactly one iteration, each
    // iteration writes only its own slot through the raw buffer (no shared Swift
    // variable is accessed), and `values` is read after all iterations have returned.
    private let storage: UnsafeMutableBufferPointer<T?>

    public init(count: Int) {
        storage = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    public func set(_ index: Int, _ value: T) {
        storage[index] = value
    }

    public var values: [T?] { Array(storage) }
}
