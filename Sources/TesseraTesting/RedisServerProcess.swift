import Foundation
import TesseraCore

/// A redis-server of a test's own, on a free loopback port, without persistence: started
/// by the test, stopped by it (CI installs the binary; nothing runs as a service).
public final class RedisServerProcess {
    public let port: Int
    public let password: String?
    /// The server's process id (spawned and reaped by `TestServer`).
    private var pid: pid_t?

    /// Options added to the command line (cluster mode, a data folder).
    public let arguments: [String]

    public init(password: String? = nil, port: Int? = nil, arguments: [String] = []) throws {
        self.port = port ?? LoopbackPort.free()
        self.password = password
        self.arguments = arguments
        try start()
    }

    deinit { stop() }

    public func start() throws {
        let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let binary else {
            throw TestServerError(
                "redis-server is not installed (apt-get install redis-server; scripts/ensure-deps does)")
        }
        var arguments = [
            binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize",
            "no", "--logfile", "/dev/null",
        ]
        if let password { arguments += ["--requirepass", password] }
        arguments += self.arguments
        pid = try TestServer.spawn(arguments)
        // Ready when it accepts a connection.
        for _ in 0..<200 {
            if TestServer.accepts(port) { return }
            usleep(20_000)
        }
        stop()
        throw TestServerError("redis-server did not start on port \(port)")
    }

    public func stop() {
        guard let pid else { return }
        kill(pid, SIGKILL)
        TestServer.wait(pid)
        self.pid = nil
    }
}
