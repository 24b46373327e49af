import Foundation
import TesseraCore

/// Why a server a test starts of its own could not be started or driven.
public struct TestServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Starting programs for servers that tests run: `posix_spawn` and `waitpid`, because
/// Foundation's `Process` waits for exits through a run loop that test tasks do not run.
public enum TestServer {
    /// Starts `command` (the program's path first), its output to /dev/null when `quiet`.
    public static func spawn(_ command: [String], quiet: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if quiet {
            // A server left running by the command would otherwise hold a test's pipe open.
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        guard posix_spawn(&pid, command[0], &actions, nil, &argv, environ) == 0 else {
            throw TestServerError("cannot start \(command[0])")
        }
        return pid
    }

    /// Waits for `pid` to end; its exit status.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        return (status >> 8) & 0xFF
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
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

    /// A free port in `range` — below Linux's ephemeral range (32768 and up), where other
    /// tests' outgoing connections take ports — with `port + offset` free too for each offset
    /// (a cluster node's bus port).
    public static func port(in range: Range<Int>, alsoFree offsets: [Int] = []) throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: range)
            if !accepts(port) && offsets.allSatisfy({ !accepts(port + $0) }) { return port }
        }
        throw TestServerError("no free port in \(range)")
    }
}
