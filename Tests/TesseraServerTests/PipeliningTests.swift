import Foundation
import TesseraTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Raw HTTP/1.1 on a socket: what generic clients never do (pipelining, `Connection: close`).
@Suite struct PipeliningTests {
    /// Sends `text` on a fresh connection to 127.0.0.1:`port`; reads until the server closes
    /// or `expectedResponses` responses arrived.
    static func exchange(port: Int, _ text: String, expectedResponses: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        var timeout = timeval(tv_sec: TestHTTPClient.replyTimeout, tv_usec: 0)  // bounds a hang
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while String(decoding: received, as: UTF8.self).components(separatedBy: "HTTP/1.1 ").count - 1
            < expectedResponses
            || !String(decoding: received, as: UTF8.self).hasSuffix("}")
        {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// `exchange` on its own thread: blocking on a socket inside the cooperative pool would starve
    /// the server's request handlers (they run there too) when other tests hold the other threads.
    static func exchangeOffPool(port: Int, _ text: String, expectedResponses: Int) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result { try exchange(port: port, text, expectedResponses: expectedResponses) })
            }.start()
        }
    }

    static func post(_ path: String, _ body: String, close: Bool = false) -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n" + body
    }

    @Test func pipelinedResponsesKeepRequestOrder() async throws {
        let fixture = try ServerFixture(label: "pipelining")
        defer { fixture.directory.remove() }
        let lookup = #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[1001]}}"#
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[1001],"event_timestamp":["2026-01-09T23:00:00Z"],"conv_rate":[1],"acc_rate":[1],"avg_daily_trips":[99]}}"#
        let text = try await fixture.live { client in
            // A push (routed through Hummingbird) then a lookup (the fast path), in one write:
            // the lookup must be answered second, and must see the push.
            try await Self.exchangeOffPool(
                port: client.port, Self.post("/push", push) + Self.post("/get-online-features", lookup),
                expectedResponses: 2)
        }
        let responses = text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(responses.count == 2)
        #expect(responses.first?.hasPrefix("200") == true)
        #expect(responses.first?.contains("\"results\"") == false, "the push's empty answer comes first")
        #expect(responses.last?.contains(#""values":[99]"#) == true)
    }

    @Test func connectionCloseIsHonouredOnTheFastPath() async throws {
        let fixture = try ServerFixture(label: "close")
        defer { fixture.directory.remove() }
        let lookup = #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[1001]}}"#
        let text = try await fixture.live { client in
            try await Self.exchangeOffPool(
                port: client.port, Self.post("/get-online-features", lookup, close: true), expectedResponses: 1)
        }
        #expect(text.hasPrefix("HTTP/1.1 200"))
        #expect(text.lowercased().contains("connection: close"))
        #expect(text.hasSuffix(#""metadata":{"feature_names":["driver_id","avg_daily_trips"]}}"#))
    }
}
