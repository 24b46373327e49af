import Foundation
import TesseraLocalServers

/// A PostgreSQL 15 cluster of the benchmark's own (a temporary folder, a free loopback port),
/// for `--online-store postgres` (loaded by each tool in turn, emptied in between) and
/// `bench registry --registry postgres`.
struct PostgresBenchServer {
    let server: PostgresServerProcess

    static func start() throws -> PostgresBenchServer {
        do {
            return PostgresBenchServer(server: try PostgresServerProcess())
        } catch {
            throw PeerError(
                description: "a PostgreSQL benchmark needs PostgreSQL 15 (apt-get install postgresql-15): \(error)")
        }
    }

    var port: Int { server.port }
    var password: String { server.password }
    var url: String { "postgresql://postgres:\(password)@127.0.0.1:\(port)/postgres" }

    /// Drops what either tool loaded: Tessera's schema and Feast's tables in `public`.
    func reset() throws {
        try server.psql("DROP SCHEMA IF EXISTS tessera CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    }

    /// The database's size on disk (tables and indexes), in bytes.
    func databaseBytes() throws -> Double {
        Double(
            try server.psql("SELECT pg_database_size(current_database())").trimmingCharacters(
                in: .whitespacesAndNewlines)) ?? 0
    }

    func stop() { server.stop() }
}
