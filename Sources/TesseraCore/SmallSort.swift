/// Sorting for the few values of one window or one key: an insertion sort up to a few
/// dozen elements, where it beats the standard library's stable sort (which allocates and
/// merges), and the standard sort above.
public enum SmallSort {
    /// Up to this many elements sort by insertion.
    public static let insertionLimit = 32

    @inlinable
    public static func sort<T: Comparable>(_ buffer: UnsafeMutableBufferPointer<T>) {
        guard buffer.count <= insertionLimit else {
            var all = buffer
            all.sort()
            return
        }
        var i = 1
        while i < buffer.count {
            let x = buffer[i]
            var j = i
            while j > 0 && x < buffer[j - 1] {
                buffer[j] = buffer[j - 1]
                j -= 1
            }
            buffer[j] = x
            i += 1
        }
    }
}
