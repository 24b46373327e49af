import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import TesseraCore

/// A failure talking to PostgreSQL, in words that name the server and never the password.
public struct PostgresFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server answered with an error (a constraint, a permission, bad SQL).
        case refused
        /// No answer: the server is down, unreachable, or the connection broke.
        case unreachable
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// One connection's place in the pool, locked while a call uses it.
final class Slot: Sendable {
    let connection = Mutex<PostgresConnection?>(nil)
}

/// A few connections to one PostgreSQL server for callers that block (the synchronous
/// registry and online-store seams): each call takes a free connection, runs its statements
/// on it, and gives it back.
///
/// Connections are opened on first use and again after one breaks, so a server that is
/// down at start-up, or restarts, is an error of the calls made meanwhile, never of the
/// process. They live on an event loop group of their own: a caller waits on a future of
/// that group, never of its own loop.
public final class PostgresConnections: Sendable {
    public let endpoint: PostgresEndpoint
    /// Runs before the first statement of the pool's first connection (schema creation),
    /// given the connection and `place` for its errors; on later connections too until it
    /// has succeeded once. A server restarted with its data keeps what it made.
    public typealias Setup = @Sendable (PostgresConnection, _ place: String) throws(PostgresFailure) -> Void

    private let slots: [Slot]
    private let next = Atomic<Int>(0)
    private let timeout: Duration
    private let statementTimeout: Duration?
    private let setup: Setup?
    /// Whether `setup` has succeeded on some connection of this pool.
    private let setUp = Atomic<Bool>(false)

    /// One loop thread: these connections carry short statements, and the callers wait.
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let logger: Logger = {
        var logger = Logger(label: "tessera.postgres")
        logger.logLevel = .critical
        return logger
    }()

    /// - Parameters:
    ///   - connections: how many calls may run at once.
    ///   - timeout: how long a connect may take.
    ///   - statementTimeout: how long one statement may run (`statement_timeout`); `nil`: no limit.
    public init(
        endpoint: PostgresEndpoint, connections: Int = 1, timeout: Duration = .seconds(5),
        statementTimeout: Duration? = nil, setup: Setup? = nil
    ) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.statementTimeout = statementTimeout
        self.setup = setup
        slots = (0..<max(1, connections)).map { _ in Slot() }
    }

    deinit { close() }

    /// What errors name: the server, never the password.
    public var place: String { "PostgreSQL at \(endpoint.host):\(endpoint.port)" }

    /// Closes every open connection (a later call opens new ones).
    public func close() {
        for slot in slots {
            let open = slot.connection.withLock { held -> PostgresConnection? in
                defer { held = nil }
                return held
            }
            guard let open else { continue }
            if PostgresConnections.group.any().inEventLoop {
                open.close().whenComplete { _ in _ = open }
            } else {
                _ = try? open.close().wait()
            }
        }
    }

    /// Runs `body` on a connection no other call is using; a connection that broke under it
    /// is closed and replaced on the next call. `convert` turns a failure to connect into
    /// the caller's error type.
    public func withConnection<T: Sendable, E: Error>(
        _ convert: (PostgresFailure) -> E, _ body: (PostgresConnection) throws(E) -> T
    ) throws(E) -> T {
        // A free connection if there is one; else wait for the next in turn.
        let start = next.add(1, ordering: .relaxed).newValue
        for offset in 0..<slots.count {
            let slot = slots[(start + offset) % slots.count]
            if let result = try slot.connection.withLockIfAvailable({ (held) throws(E) -> T in
                try run(body, convert, on: &held)
            }) {
                return result
            }
        }
        return try slots[start % slots.count].connection.withLock { (held) throws(E) -> T in
            try run(body, convert, on: &held)
        }
    }

    /// `body` inside `BEGIN … COMMIT` on one connection; rolled back when it throws.
    public func transaction<T: Sendable, E: Error>(
        _ convert: @escaping (PostgresFailure) -> E, _ body: (PostgresConnection) throws(E) -> T
    ) throws(E) -> T {
        try withConnection(convert) { (connection) throws(E) -> T in
            do throws(PostgresFailure) {
                try PostgresConnections.run("BEGIN", on: connection, place: place)
            } catch {
                throw convert(error)
            }
            do throws(E) {
                let result = try body(connection)
                do throws(PostgresFailure) {
                    try PostgresConnections.run("COMMIT", on: connection, place: place)
                } catch {
                    throw convert(error)
                }
                return result
            } catch {
                _ = try? PostgresConnections.run("ROLLBACK", on: connection, place: place)
                throw error
            }
        }
    }

    /// One statement on a connection of this pool.
    @discardableResult
    public func run(_ query: PostgresQuery) throws(PostgresFailure) -> PostgresQueryResult {
        try withConnection({ $0 }) { (connection) throws(PostgresFailure) in
            try PostgresConnections.run(query, on: connection, place: place)
        }
    }

    /// One statement on `connection`, waited for.
    @discardableResult
    public static func run(_ query: PostgresQuery, on connection: PostgresConnection, place: String)
        throws(PostgresFailure) -> PostgresQueryResult
    {
        // postgres-nio hands a query to its channel without a promise for the write: on a
        // connection already closed the query is dropped and its future never completes (a
        // ROLLBACK after the server died hung `materialize` forever). Fail it here instead.
        guard !connection.isClosed else {
            throw PostgresFailure(.unreachable, "cannot reach \(place): the connection is closed")
        }
        do {
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw failure(error, place: place)
        }
    }

    private func run<T: Sendable, E: Error>(
        _ body: (PostgresConnection) throws(E) -> T, _ convert: (PostgresFailure) -> E,
        on held: inout PostgresConnection?
    ) throws(E) -> T {
        // A broken connection is closed before it is dropped: postgres-nio asserts (debug
        // builds) when a connection it still counts as open is deinitialized.
        if let open = held, open.isClosed {
            let _: EventLoopFuture<Void> = open.close()
            held = nil
        }
        let connection: PostgresConnection
        if let open = held {
            connection = open
        } else {
            do throws(PostgresFailure) {
                connection = try connect()
            } catch {
                throw convert(error)
            }
            held = connection
        }
        do throws(E) {
            return try body(connection)
        } catch {
            // A broken connection is replaced by the next call; one that answered is kept.
            if connection.isClosed {
                let _: EventLoopFuture<Void> = connection.close()
                held = nil
            }
            throw error
        }
    }

    private func connect() throws(PostgresFailure) -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.user, password: endpoint.password,
            database: endpoint.database, tls: .disable)
        configuration.options.connectTimeout = TimeAmount.milliseconds(PostgresConnections.milliseconds(timeout))
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                on: PostgresConnections.group.next(), configuration: configuration, id: 1,
                logger: PostgresConnections.logger
            ).wait()
        } catch {
            let (kind, reason) = PostgresConnections.reason(error)
            throw PostgresFailure(kind, "cannot connect to \(place) as \(endpoint.user): \(reason)")
        }
        do throws(PostgresFailure) {
            if let statementTimeout {
                let milliseconds = PostgresConnections.milliseconds(statementTimeout)
                _ = try PostgresConnections.run(
                    PostgresQuery(unsafeSQL: "SET statement_timeout = \(milliseconds)"), on: connection, place: place)
            }
            if let setup, !setUp.load(ordering: .acquiring) {
                try setup(connection, place)
                setUp.store(true, ordering: .releasing)
            }
        } catch {
            let _: EventLoopFuture<Void> = connection.close()
            throw error
        }
        return connection
    }

    /// Runs schema-creating `statements` in one transaction under advisory lock `lock`:
    /// `CREATE … IF NOT EXISTS` is not safe against itself run at once from two machines (a
    /// duplicate type name), so creators take turns.
    public static func create(_ statements: [String], lock: Int64, on connection: PostgresConnection, place: String)
        throws(PostgresFailure)
    {
        do throws(PostgresFailure) {
            try run("BEGIN", on: connection, place: place)
            try run("SELECT pg_advisory_xact_lock(\(lock))", on: connection, place: place)
            for statement in statements {
                try run(PostgresQuery(unsafeSQL: statement), on: connection, place: place)
            }
            try run("COMMIT", on: connection, place: place)
        } catch {
            _ = try? run("ROLLBACK", on: connection, place: place)
            throw error
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        max(1, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Any error of postgres-nio as a failure naming the server.
    public static func failure(_ error: any Error, place: String) -> PostgresFailure {
        if let error = error as? PostgresFailure { return error }
        let (kind, reason) = reason(error)
        return PostgresFailure(
            kind, kind == .refused ? "\(place) refused: \(reason)" : "cannot reach \(place): \(reason)")
    }

    /// What went wrong, without the place: the server's message, or why there was no answer.
    static func reason(_ error: any Error) -> (PostgresFailure.Kind, String) {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return (.refused, message) }
            return (.unreachable, "\(error.code)")
        }
        return (.unreachable, "\(error)")
    }
}
