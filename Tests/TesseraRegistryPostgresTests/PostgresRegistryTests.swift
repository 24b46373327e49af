import Foundation
import Synchronization
import TesseraCore
import TesseraDefinitions
import TesseraPostgres
import TesseraRegistry
import TesseraRegistryPostgres
import TesseraTesting
import Testing

/// The registry on a PostgreSQL 15 server the test starts: the conformance suite, applies
/// from several "machines" at once (one wins, the others change nothing), and errors that
/// name the server but never its password.
@Suite(.serialized) struct PostgresRegistryTests {
    static func registry(_ server: PostgresServerProcess, schema: String, password: String? = nil)
        -> PostgresRegistry
    {
        PostgresRegistry(
            endpoint: PostgresEndpoint(
                host: "127.0.0.1", port: server.port, user: "postgres", password: password ?? server.password,
                database: "postgres"),
            schema: schema)
    }

    @Test func conformanceAndConcurrentApplies() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        // Each check starts on an empty registry: a schema of its own.
        for check in RegistryStoreConformance.Check.allCases {
            try RegistryStoreConformance.run(check) {
                Self.registry(server, schema: "c_\(check.rawValue.lowercased())")
            }
        }

        // Eight machines apply against the same empty registry at once: exactly one wins.
        let definitions = Definitions(
            entities: [Entity(name: "driver", joinKeys: [JoinKey("driver_id", .int64)])])
        let plan = Plan(from: Definitions(), to: definitions)
        let outcomes = Outcomes()
        let (port, password) = (server.port, server.password)
        DispatchQueue.concurrentPerform(iterations: 8) { machine in
            let registry = PostgresRegistry(
                endpoint: PostgresEndpoint(
                    host: "127.0.0.1", port: port, user: "postgres", password: password, database: "postgres"),
                schema: "race")
            do {
                _ = try registry.apply(
                    definitions, plan: plan, project: "p", user: "machine-\(machine)", expectedVersion: nil,
                    at: Timestamp(seconds: 1_767_225_600))
                outcomes.add("won")
            } catch let error as RegistryError {
                outcomes.add(
                    error.kind == .conflict && error.description.contains("moved on") ? "conflict" : "\(error)")
            } catch {
                outcomes.add("\(error)")
            }
        }
        #expect(
            outcomes.sorted == [
                "conflict", "conflict", "conflict", "conflict", "conflict", "conflict", "conflict", "won",
            ])
        let reader = Self.registry(server, schema: "race")
        #expect(try reader.history(limit: nil).count == 1)
        #expect(try reader.head()?.version == 1)
    }

    @Test func errorsNameTheServerNeverThePassword() throws {
        let server = try PostgresServerProcess()
        defer { server.stop() }
        let wrong = Self.registry(server, schema: "x", password: "hunter2-wrong")
        let refused = thrownError { () throws(RegistryError) in _ = try wrong.head() }
        #expect(refused?.description.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: refused))")
        #expect(refused?.description.contains("hunter2") == false, "\(String(describing: refused))")
        server.stop()
        let gone = Self.registry(server, schema: "x")
        let down = thrownError { () throws(RegistryError) in _ = try gone.head() }
        #expect(
            down?.kind == .io && down?.description.contains("127.0.0.1:\(server.port)") == true,
            "\(String(describing: down))")
        #expect(
            PostgresEndpoint.redacted("postgresql://tessera:pw@127.0.0.1:5432/features")
                == "postgresql://tessera:***@127.0.0.1:5432/features")
        #expect(throws: PostgresEndpointError.self) { try PostgresEndpoint(url: "mysql://x@y/z") }
        let parsed = try PostgresEndpoint(url: "postgresql://tessera@db.example:6543/features")
        #expect(parsed == PostgresEndpoint(host: "db.example", port: 6543, user: "tessera", database: "features"))
    }
}

/// Results of concurrent applies.
final class Outcomes: Sendable {
    private let all = Mutex<[String]>([])
    func add(_ outcome: String) { all.withLock { $0.append(outcome) } }
    var sorted: [String] { all.withLock { $0.sorted() } }
}
