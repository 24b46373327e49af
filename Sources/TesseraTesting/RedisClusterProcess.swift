import Foundation
import TesseraCore

/// A Redis Cluster of the test's own: `masters` redis-servers in cluster mode on free
/// loopback ports, joined by `redis-cli --cluster create` (no replicas), ready when every
/// node reports `cluster_state:ok`.
public final class RedisClusterProcess {
    public let nodes: [RedisServerProcess]
    private let folder: TemporaryDirectory

    public var ports: [Int] { nodes.map(\.port) }

    public init(masters: Int = 3) throws {
        let folder = try TemporaryDirectory("redis-cluster")
        self.folder = folder
        var nodes: [RedisServerProcess] = []
        do {
            for _ in 0..<masters {
                // A port another test took meanwhile: try another (three times).
                var started: RedisServerProcess?
                var lastError: (any Error)?
                for _ in 0..<3 where started == nil {
                    let port = try TestServer.port(in: 12_000..<22_000, alsoFree: [10_000])
                    do {
                        started = try RedisServerProcess(
                            port: port,
                            arguments: [
                                "--cluster-enabled", "yes", "--cluster-config-file", folder.file("nodes-\(port).conf"),
                                "--cluster-node-timeout", "2000", "--dir", folder.path,
                            ])
                    } catch {
                        lastError = error
                    }
                }
                guard let started else { throw lastError ?? TestServerError("no cluster node started") }
                nodes.append(started)
            }
        } catch {
            for node in nodes { node.stop() }
            folder.remove()
            throw error
        }
        self.nodes = nodes
        let created = try ProcessRunner.run(
            RedisClusterProcess.cli,
            ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + [
                "--cluster-replicas", "0", "--cluster-yes",
            ])
        guard created.status == 0 else {
            stop()
            throw TestServerError("redis-cli --cluster create failed: \(created)")
        }
        for _ in 0..<200 {
            if try nodes.allSatisfy({
                try self.cli(["-p", String($0.port), "CLUSTER", "INFO"]).contains("cluster_state:ok")
            }) {
                return
            }
            usleep(50_000)
        }
        stop()
        throw TestServerError("the cluster on \(ports) did not reach cluster_state:ok")
    }

    deinit { stop() }

    static var cli: String {
        ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "redis-cli"
    }

    /// `redis-cli arguments…`'s output.
    @discardableResult
    public func cli(_ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(RedisClusterProcess.cli, arguments)
        guard result.status == 0 else { throw TestServerError("redis-cli \(arguments): \(result)") }
        return result.stdout
    }

    public func stop() {
        for node in nodes { node.stop() }
        folder.remove()
    }
}
