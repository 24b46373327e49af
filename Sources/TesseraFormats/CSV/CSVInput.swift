#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file read in large chunks into one growable buffer.
///
/// Bytes `start ..< end` of `buffer` are read but not yet consumed; `refill` moves them to
/// the front and reads more after them. Offsets stay below 2³¹ so that the tokenizer can
/// store them in 32 bits with a flag bit.
final class CSVInput {
    let path: String
    private let fd: Int32
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var start = 0
    private(set) var end = 0
    private(set) var eof = false
    /// The physical line number (1-based) of the byte at `start`.
    var line = 1
    /// The file's size when opened (0 when unknown, as for a pipe).
    let size: Int
    /// Bytes read so far.
    private(set) var bytesRead = 0

    /// Buffers stay below this size: offsets must fit in 31 bits.
    static let maximumCapacity = 1 << 30

    init(path: String, chunkBytes: Int) throws(FormatError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw FormatError(file: path, "cannot open the file: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        var status = stat()
        size = fstat(fd, &status) == 0 ? Int(status.st_size) : 0
        capacity = max(16, min(chunkBytes, CSVInput.maximumCapacity))
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    var pointer: UnsafePointer<UInt8> { UnsafePointer(buffer) }
    /// Bytes consumed so far.
    var consumedBytes: Int { bytesRead - (end - start) }
    var available: Int { end - start }

    /// Moves the unconsumed bytes to the front and reads until the buffer is full or the file
    /// ends. When the unconsumed bytes already fill the buffer (a row longer than it), the
    /// buffer doubles first.
    func refill() throws(FormatError) {
        guard !eof else { return }
        if start > 0 {
            let kept = end - start
            if kept > 0 { buffer.update(from: buffer + start, count: kept) }
            start = 0
            end = kept
        }
        if end == capacity {
            guard capacity < CSVInput.maximumCapacity else {
                throw FormatError(
                    file: path, location: "line \(line)", "a row is longer than 1 GiB; is the file really CSV?")
            }
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            larger.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = larger
            capacity *= 2
        }
        while end < capacity {
            let count = read(fd, buffer + end, capacity - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw FormatError(file: path, "cannot read the file: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                eof = true
                break
            }
            end += count
            bytesRead += count
        }
    }

    /// Advances past `count` bytes holding `lines` line breaks.
    func consume(_ count: Int, lines: Int) {
        start += count
        line += lines
    }
}
