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

    /// Reorders `buffer` so that `buffer[rank]` holds the element a full sort would put
    /// there (quickselect; the other elements end in no particular order). `rank` must be
    /// an index of `buffer`.
    @inlinable
    public static func select<T: Comparable>(_ buffer: UnsafeMutableBufferPointer<T>, rank: Int) -> T {
        // Small windows (the common case) sort by insertion faster than they partition.
        if buffer.count <= insertionLimit {
            sort(buffer)
            return buffer[rank]
        }
        var lo = 0
        var hi = buffer.count - 1
        while lo < hi {
            // Median of three as the pivot, then Hoare's partition.
            let mid = lo + (hi - lo) / 2
            if buffer[mid] < buffer[lo] { buffer.swapAt(mid, lo) }
            if buffer[hi] < buffer[lo] { buffer.swapAt(hi, lo) }
            if buffer[hi] < buffer[mid] { buffer.swapAt(hi, mid) }
            let pivot = buffer[mid]
            var i = lo
            var j = hi
            while i <= j {
                while buffer[i] < pivot { i += 1 }
                while pivot < buffer[j] { j -= 1 }
                if i <= j {
                    buffer.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            // Now every element of lo...j is <= pivot and every one of i...hi is >= it.
            if rank <= j {
                hi = j
            } else if rank >= i {
                lo = i
            } else {
                return buffer[rank]
            }
        }
        return buffer[rank]
    }
}
