import Foundation
import TesseraCore

/// A redis-server of a test's own, on a free loopback port, without persistence: started
/// by the test, stopped by it (CI installs the binary; nothing runs as a service).
public final class RedisServerProcess {
    public let port: Int
    public let password: String?
    /// The server's process id (spawned and reaped here, not through Foundation's `Process`,
    /// whose exit monitoring needs a run loop that test tasks do not run).
    private var pid: pid_t?

    /// Options added to the command line (cluster mode, a data folder).
    public let arguments: [String]

    public init(password: String? = nil, port: Int? = nil, arguments: [String] = []) throws {
        self.port = port ?? RedisServerProcess.freePort()
        self.password = password
        self.arguments = arguments
        try start()
    }

    deinit { stop() }

    public static func freePort() -> Int { LoopbackPort.free() }

    public func start() throws {
        let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let binary else {
            throw RedisTestError(
                "redis-server is not installed (apt-get install redis-server; scripts/ensure-deps does)")
        }
        var arguments = [
            binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize",
            "no", "--logfile", "/dev/null",
        ]
        if let password { arguments += ["--requirepass", password] }
        arguments += self.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var spawned = pid_t()
        guard posix_spawn(&spawned, binary, nil, nil, &argv, environ) == 0 else {
            throw RedisTestError("cannot start \(binary)")
        }
        pid = spawned
        // Ready when it accepts a connection.
        for _ in 0..<200 {
            if RedisServerProcess.accepts(port) { return }
            usleep(20_000)
        }
        stop()
        throw RedisTestError("redis-server did not start on port \(port)")
    }

    public func stop() {
        guard let pid else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        self.pid = nil
    }

    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

public struct RedisTestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
