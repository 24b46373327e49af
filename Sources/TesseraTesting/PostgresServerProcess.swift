import Foundation
import TesseraCore

/// A PostgreSQL 15 server of a test's own: a fresh cluster (`initdb`, trust auth) in a
/// temporary folder, on a free loopback port below the ephemeral range, stopped and
/// removed by the test. As root (CI), it runs as the `postgres` user, since `initdb`
/// refuses root.
public final class PostgresServerProcess {
    public let port: Int
    /// The `postgres` superuser's password over TCP (scram-sha-256; local sockets trust).
    public let password = "pg-s3cret"
    private let folder: TemporaryDirectory
    private var running = false

    static let binaries = "/usr/lib/postgresql/15/bin"

    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: PostgresServerProcess.binaries + "/initdb") else {
            throw RedisTestError(
                "PostgreSQL 15 is not installed (apt-get install postgresql-15; scripts/ensure-deps does)")
        }
        folder = try TemporaryDirectory("postgres")
        let data = folder.file("data")
        let isRoot = getuid() == 0
        try (password + "\n").write(toFile: folder.file("pwfile"), atomically: true, encoding: .utf8)
        if isRoot { _ = try ProcessRunner.run("/bin/chown", ["-R", "postgres:postgres", folder.path]) }
        func asServer(_ program: String, _ arguments: [String]) throws -> ProcessRunner.Output {
            isRoot
                ? try ProcessRunner.run("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments)
                : try ProcessRunner.run(program, arguments)
        }
        let initdb = try asServer(
            PostgresServerProcess.binaries + "/initdb",
            [
                "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--pwfile=" + folder.file("pwfile"), "-E", "UTF8", "--no-sync",
            ])
        guard initdb.status == 0 else {
            folder.remove()
            throw RedisTestError("initdb failed: \(initdb)")
        }
        var started: Int?
        for _ in 0..<5 where started == nil {
            let port = Int.random(in: 22_000..<32_000)
            if RedisServerProcess.accepts(port) { continue }
            // Output to nothing: the server pg_ctl leaves running would hold a pipe open forever.
            let arguments = [
                "-D", data, "-o",
                "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
                "-l", folder.file("pg.log"), "-w", "start",
            ]
            let command =
                isRoot
                ? ["/usr/sbin/runuser", "-u", "postgres", "--", PostgresServerProcess.binaries + "/pg_ctl"] + arguments
                : [PostgresServerProcess.binaries + "/pg_ctl"] + arguments
            if PostgresServerProcess.spawnQuietly(command) == 0 { started = port }
        }
        guard let port = started else {
            let log = (try? String(contentsOfFile: folder.file("pg.log"), encoding: .utf8)) ?? ""
            folder.remove()
            throw RedisTestError("PostgreSQL did not start: \(log.suffix(2000))")
        }
        self.port = port
        running = true
        self.isRoot = isRoot
    }

    private var isRoot = false

    /// Runs `command` with its output to /dev/null and waits for it (`posix_spawn` and
    /// `waitpid`: Foundation's `Process` waits through a run loop that tests do not run).
    static func spawnQuietly(_ command: [String]) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        guard posix_spawn(&pid, command[0], &actions, nil, &argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        return (status >> 8) & 0xFF
    }

    deinit { stop() }

    /// The URL of `database` as the `postgres` superuser, with its password.
    public func url(_ database: String = "postgres") -> String {
        "postgresql://postgres:\(password)@127.0.0.1:\(port)/\(database)"
    }

    /// `psql -c sql` as the `postgres` superuser, on database `database`.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try ProcessRunner.run(
            "/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-tAc", sql],
            environment: ["PGPASSWORD": password])
        guard result.status == 0 else { throw RedisTestError("psql \(sql): \(result)") }
        return result.stdout
    }

    public func stop() {
        guard running else { return }
        running = false
        let arguments = ["-D", folder.file("data"), "-m", "immediate", "-w", "stop"]
        let program = PostgresServerProcess.binaries + "/pg_ctl"
        _ =
            isRoot
            ? try? ProcessRunner.run("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments)
            : try? ProcessRunner.run(program, arguments)
        folder.remove()
    }
}
