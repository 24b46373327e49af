#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Random access to a file's bytes (read with `pread`) or to bytes in memory.
///
/// The file is opened for each read and closed after it, so a dataset of thousands
/// of open `ParquetFile`s holds no descriptors, and concurrent reads share nothing.
final class ByteSource: Sendable {
    let name: String
    let size: Int
    private let memory: [UInt8]?

    /// Checks that `path` is a readable file and records its size.
    init(path: String) throws(FormatError) {
        name = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError(file: path, "cannot open: \(ByteSource.errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FormatError(file: path, "cannot stat: \(ByteSource.errnoText())") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw FormatError(file: path, "is a folder, not a Parquet file") }
        size = Int(info.st_size)
        memory = nil
    }

    /// Serves `bytes` as if they were a file called `name` (tests, in-memory data).
    init(bytes: [UInt8], name: String) {
        self.name = name
        self.size = bytes.count
        self.memory = bytes
    }

    /// Reads `count` bytes at `offset` into `buffer` (which is grown as needed).
    func read(offset: Int, count: Int, into buffer: RawBuffer, location: @autoclosure () -> String?) throws(FormatError)
    {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw FormatError(
                file: name, location: location(),
                "byte range \(offset)..<\(offset &+ count) lies outside the file (\(size) bytes)")
        }
        buffer.reserve(count)
        if let memory {
            memory.withUnsafeBytes { raw in
                if count > 0, let base = raw.baseAddress {
                    buffer.pointer.copyMemory(from: base + offset, byteCount: count)
                }
            }
            return
        }
        let descriptor = open(name, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw FormatError(file: name, location: location(), "cannot open: \(ByteSource.errnoText())")
        }
        defer { close(descriptor) }
        var done = 0
        while done < count {
            let got = pread(descriptor, buffer.pointer + done, count - done, off_t(offset + done))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                throw FormatError(
                    file: name, location: location(),
                    "read failed: \(got == 0 ? "unexpected end of file" : ByteSource.errnoText())")
            }
            done += got
        }
    }

    /// Reads `count` bytes at `offset` into a new array.
    func bytes(offset: Int, count: Int, location: @autoclosure () -> String?) throws(FormatError) -> [UInt8] {
        let buffer = RawBuffer(capacity: count)
        try read(offset: offset, count: count, into: buffer, location: location())
        return Array(UnsafeRawBufferPointer(start: buffer.pointer, count: count))
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
