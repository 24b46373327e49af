import TesseraFormats

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Memory limits for checking that reads never allocate more than a bound.
///
/// Use it inside an exit test (`#expect(processExitsWith:)`): the limit applies to the
/// whole child process, and an allocation past it makes the Swift runtime stop that
/// process, which the exit test reports as a failure. The address space is limited, not
/// the resident size, so even a huge reservation that is never touched is caught. The
/// limit and the sizes come from Linux (`RLIMIT_AS`, /proc); elsewhere they are not checked.
enum BoundedMemory {
    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// This process's (virtual, resident) size in bytes, from /proc/self/statm.
    static func usage() -> (virtual: Int, resident: Int) {
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return (0, 0) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return (0, 0) }
        let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ").compactMap { Int($0) }
        guard fields.count >= 2 else { return (0, 0) }
        return (fields[0] * pageSize, fields[1] * pageSize)
    }

    /// The largest this process's address space has been, in bytes (VmPeak in /proc/self/status).
    static func peakVirtual() -> Int {
        let descriptor = open("/proc/self/status", O_RDONLY)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmPeak:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) << 10
    }

    /// Lets this process's address space grow by at most `megabytes` from now on.
    static func limitGrowth(megabytes: Int) {
        #if os(Linux)
            limitLinuxAddressSpace(growth: megabytes << 20)
        #endif
    }

    #if os(Linux)
        private static func limitLinuxAddressSpace(growth: Int) {
            // One malloc arena: each thread's own arena would reserve 64 MiB of address space.
            // (`mallopt` is not in the Glibc module; M_ARENA_MAX is -8 in malloc.h.)
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
                typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
                _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, 1)
            }
            var current = rlimit()
            _ = getrlimit(Int32(RLIMIT_AS.rawValue), &current)
            let wanted = rlim_t(usage().virtual + growth)
            var bounded = rlimit(rlim_cur: min(wanted, current.rlim_max), rlim_max: current.rlim_max)
            _ = setrlimit(Int32(RLIMIT_AS.rawValue), &bounded)
        }
    #endif

    /// Writes `line` to standard error at once (unbuffered), so it survives a crash.
    static func say(_ line: String) {
        say(line, to: 2)
    }

    /// Writes `line` to the open file `descriptor` at once.
    static func say(_ line: String, to descriptor: Int32) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}

/// Reading a whole file the way the tests here do.
enum ReadProbe {
    /// Opens `bytes`, describes it and reads every row group with `threads` (then, when
    /// `batches`, once more batch by batch); returns the error, or nil when the file read.
    static func read(_ bytes: [UInt8], name: String, threads: Int = 1, batches: Bool = true) -> FormatError? {
        do {
            let file = try ParquetFile(bytes: bytes, name: name)
            _ = file.inspect().render()
            _ = try file.read(ParquetReadOptions(threads: threads))
            guard batches else { return nil }
            var iterator = try file.batches(ParquetReadOptions(threads: threads))
            while try iterator.next() != nil {}
            return nil
        } catch {
            return error
        }
    }
}
