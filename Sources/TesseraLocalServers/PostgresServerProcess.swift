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
            throw TestServerError(
                "PostgreSQL 15 is not installed (apt-get install postgresql-15; scripts/ensure-deps does)")
        }
        folder = try TemporaryDirectory("postgres")
        isRoot = getuid() == 0
        let data = folder.file("data")
        try (password + "\n").write(toFile: folder.file("pwfile"), atomically: true, encoding: .utf8)
        if isRoot { _ = try ProcessRunner.run("/bin/chown", ["-R", "postgres:postgres", folder.path]) }
        let initdb = PostgresServerProcess.asServer(
            "initdb",
            [
                "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--pwfile=" + folder.file("pwfile"), "-E", "UTF8", "--no-sync",
            ], root: isRoot)
        guard try TestServer.wait(TestServer.spawn(initdb, quiet: true)) == 0 else {
            folder.remove()
            throw TestServerError("initdb failed in \(data)")
        }
        var started: Int?
        for _ in 0..<5 where started == nil {
            let port = try TestServer.port(in: 22_000..<32_000)
            if try PostgresServerProcess.launch(folder, port: port, root: isRoot) { started = port }
        }
        guard let port = started else {
            let log = (try? String(contentsOfFile: folder.file("pg.log"), encoding: .utf8)) ?? ""
            folder.remove()
            throw TestServerError("PostgreSQL did not start: \(log.suffix(2000))")
        }
        self.port = port
        running = true
    }

    /// `pg_ctl start` of the cluster in `folder` on `port`: whether it started.
    private static func launch(_ folder: TemporaryDirectory, port: Int, root: Bool) throws -> Bool {
        let start = PostgresServerProcess.asServer(
            "pg_ctl",
            [
                "-D", folder.file("data"), "-o",
                "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
                "-l", folder.file("pg.log"), "-w", "start",
            ], root: root)
        // Quiet: the server pg_ctl leaves running would hold a pipe of ours open forever.
        return try TestServer.wait(TestServer.spawn(start, quiet: true)) == 0
    }

    /// Stops the server as a crash would (`-m immediate`), keeping its data for `resume()`.
    public func halt() {
        guard running else { return }
        running = false
        if let pid = try? TestServer.spawn(
            PostgresServerProcess.asServer(
                "pg_ctl", ["-D", folder.file("data"), "-m", "immediate", "-w", "stop"], root: isRoot), quiet: true)
        {
            TestServer.wait(pid)
        }
    }

    /// Starts a halted server again on its port, with its data.
    public func resume() throws {
        guard !running else { return }
        guard try PostgresServerProcess.launch(folder, port: port, root: isRoot) else {
            throw TestServerError("PostgreSQL did not start again on port \(port)")
        }
        running = true
    }

    private let isRoot: Bool

    /// The command line running PostgreSQL's `program` as the `postgres` user under root
    /// (`initdb` refuses root), as the current user otherwise.
    private static func asServer(_ program: String, _ arguments: [String], root: Bool) -> [String] {
        let path = binaries + "/" + program
        return root ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
    }

    deinit { stop() }

    /// `psql -c sql` as the `postgres` superuser, on database `database`.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try ProcessRunner.run(
            "/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-tAc", sql],
            environment: ["PGPASSWORD": password])
        guard result.status == 0 else { throw TestServerError("psql \(sql): \(result)") }
        return result.stdout
    }

    public func stop() {
        halt()
        folder.remove()
    }
}
