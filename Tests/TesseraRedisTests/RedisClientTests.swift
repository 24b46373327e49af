import Foundation
import TesseraCore
import TesseraTesting
import Testing

@testable import TesseraRedis

/// The client against a real redis-server: logging in (password, ACL user, database),
/// pipelined batches answered in order, concurrent callers on a pool, and every failure
/// named — refused connections, refused credentials (never echoing the password),
/// timeouts, and a server that dies and comes back.
@Suite(.serialized) struct RedisClientTests {
    static func bytes(_ strings: String...) -> [[UInt8]] { strings.map { Array($0.utf8) } }

    @Test func pipelinedBatchesAreAnsweredInOrder() async throws {
        let server = try RedisServerProcess(password: "s3cret")
        defer { server.stop() }
        let connection = try await RedisConnection.connect(
            to: RedisEndpoint(host: "127.0.0.1", port: server.port, password: "s3cret"))
        // 1,000 SETs in one write, then 1,000 GETs and an MGET with missing keys.
        let sets = (0..<1000).map { Self.bytes("SET", "k\($0)", "value-\($0)") }
        let setReplies = try await connection.send(sets)
        #expect(setReplies == Array(repeating: .simple("OK"), count: 1000))
        let gets = (0..<1000).map { Self.bytes("GET", "k\($0)") }
        let values = try await connection.send(gets)
        #expect(values.map(\.string) == (0..<1000).map { "value-\($0)" })
        let mget = try await connection.command(["MGET", "k1", "missing", "k999"])
        #expect(mget == .array([.bulk(Array("value-1".utf8)), .bulk(nil), .bulk(Array("value-999".utf8))]))
        // Binary values survive, and an error reply is a value in a batch, thrown alone.
        let binary: [UInt8] = [0, 13, 10, 255, 36, 42]
        let replies = try await connection.send([
            [Array("SET".utf8), Array("bin".utf8), binary], Self.bytes("GET", "bin"), Self.bytes("INCR", "bin"),
        ])
        #expect(replies[1] == .bulk(binary))
        guard case .error(let message) = replies[2] else {
            throw TestServerError("INCR of a binary value: \(replies[2])")
        }
        #expect(message.contains("not an integer"))
        await #expect(throws: RedisError.self) { try await connection.command(["INCR", "bin"]) }
        await connection.close()
    }

    @Test func credentialsDatabasesAndAclUsers() async throws {
        let server = try RedisServerProcess(password: "s3cret")
        defer { server.stop() }
        do {
            _ = try await RedisConnection.connect(
                to: RedisEndpoint(host: "127.0.0.1", port: server.port, password: "wrong-hunter2"))
            Issue.record("a wrong password was accepted")
        } catch {
            #expect(error.kind == .authentication, "\(error)")
            #expect(error.description.contains("127.0.0.1:\(server.port)"), "\(error)")
            #expect(!error.description.contains("hunter2"), "\(error)")
        }
        let admin = try await RedisConnection.connect(
            to: try RedisEndpoint(url: "redis://:s3cret@127.0.0.1:\(server.port)/0"))
        try await admin.command(["ACL", "SETUSER", "app", "on", ">app-pw", "~*", "+@all"])
        try await admin.command(["SET", "where", "db0"])
        let app = try await RedisConnection.connect(
            to: try RedisEndpoint(url: "redis://app:app-pw@127.0.0.1:\(server.port)/3"))
        #expect(try await app.command(["GET", "where"]) == .bulk(nil), "database 3 is not database 0")
        try await app.command(["SET", "where", "db3"])
        #expect(try await app.command(["GET", "where"]).string == "db3")
        #expect(try await admin.command(["GET", "where"]).string == "db0")
        do {
            _ = try await RedisConnection.connect(
                to: try RedisEndpoint(url: "redis://app:nope-hunter2@127.0.0.1:\(server.port)"))
            Issue.record("a wrong ACL password was accepted")
        } catch {
            #expect(error.kind == .authentication && error.description.contains("user 'app'"), "\(error)")
            #expect(!error.description.contains("hunter2"))
        }
        await admin.close()
        await app.close()
    }

    @Test func refusedConnectionsAndTimeoutsAreNamed() async throws {
        let port = LoopbackPort.free()
        do {
            _ = try await RedisConnection.connect(to: RedisEndpoint(host: "127.0.0.1", port: port))
            Issue.record("a connection to a closed port succeeded")
        } catch {
            #expect(error.kind == .connection && error.description.contains("127.0.0.1:\(port)"), "\(error)")
        }
        let server = try RedisServerProcess()
        defer { server.stop() }
        let connection = try await RedisConnection.connect(
            to: RedisEndpoint(host: "127.0.0.1", port: server.port), timeout: .milliseconds(200))
        do {
            _ = try await connection.command(["BLPOP", "nothing-here", "2"])
            Issue.record("a blocked command did not time out")
        } catch {
            #expect(error.kind == .timeout && error.description.contains("200 ms"), "\(error)")
        }
        #expect(!connection.isActive, "a connection that timed out is closed (its replies would be misread)")
    }

    @Test func aPoolServesConcurrentCallersAndReconnects() async throws {
        let port = LoopbackPort.free()
        var server = try RedisServerProcess(port: port)
        var settings = RedisClient.Settings()
        settings.connections = 3
        settings.timeout = .seconds(2)
        let client = RedisClient(RedisEndpoint(host: "127.0.0.1", port: port), settings: settings)
        // 8 callers at once, each a pipelined batch of its own keys, on 3 connections.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<8 {
                group.addTask {
                    let keys = (0..<200).map { "c\(caller)-\($0)" }
                    _ = try await client.send(keys.map { Self.bytes("SET", $0, $0.uppercased()) })
                    let values = try await client.send(keys.map { Self.bytes("GET", $0) })
                    #expect(values.map(\.string) == keys.map { $0.uppercased() })
                }
            }
            try await group.waitForAll()
        }
        // The server dies: calls fail clearly; it comes back: calls succeed again, by themselves.
        server.stop()
        await #expect(throws: RedisError.self) { try await client.command(["PING"]) }
        server = try RedisServerProcess(port: port)
        defer { server.stop() }
        var answered = false
        for _ in 0..<100 where !answered {
            answered = (try? await client.command(["PING"])) == .simple("PONG")
            if !answered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answered, "the pool did not reconnect to the restarted server")
        await client.close()
    }
}
