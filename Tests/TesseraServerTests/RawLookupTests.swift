import Foundation
import NIOCore
import TesseraTesting
import Testing

@testable import TesseraServer

/// The fast path's own HTTP/1.1 head parser: it takes the plain form clients send, and
/// hands anything else to the full HTTP stack instead of guessing.
@Suite struct LookupRequestHeadTests {
    static func parse(_ text: String) -> LookupRequestHead.Parse {
        Array(text.utf8).withUnsafeBytes { LookupRequestHead.parse($0) }
    }

    @Test func plainHeadsAreParsed() {
        let head =
            "POST /get-online-features HTTP/1.1\r\nHost: x\r\ncontent-length: 12\r\nAuthorization: Bearer k\r\n\r\n"
        #expect(
            Self.parse(head + "{}")
                == .head(
                    LookupRequestHead(
                        headLength: head.utf8.count, contentLength: 12, keepAlive: true, authorization: "Bearer k")))
        guard case .head(let query) = Self.parse("POST /get-online-features?x=1 HTTP/1.1\r\nContent-Length:5\r\n\r\n")
        else {
            Issue.record("a query string was refused")
            return
        }
        #expect(query.contentLength == 5)
        guard
            case .head(let close) = Self.parse(
                "POST /get-online-features HTTP/1.1\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n")
        else {
            Issue.record("connection close was refused")
            return
        }
        #expect(!close.keepAlive)
    }

    @Test func prefixesWaitForMoreBytes() {
        for text in ["P", "POST /get-online", "POST /get-online-features HTTP/1.1\r\nContent-Le"] {
            #expect(Self.parse(text) == .incomplete, "\(text)")
        }
    }

    @Test func everythingElseGoesToTheFullStack() {
        let cases = [
            "GET /get-online-features HTTP/1.1\r\n\r\n",
            "POST /push HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            "POST /get-online-features-x HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            "POST /get-online-features HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\n\r\n",  // no length
            "POST /get-online-features HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nContent-Length: 2\r\n folded\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nContent-Length: -2\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nContent-Length: 2 2\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nX\u{1}: y\r\nContent-Length: 2\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nContent-Length: 2\r\nX: a\nb\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nNoColon\r\nContent-Length: 2\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\nContent-Length: 2\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "POST /get-online-features HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000),
        ]
        for text in cases { #expect(Self.parse(text) == .notFastPath, "\(text.prefix(90))") }
    }
}

/// The fast path on a live socket: bytes arriving in pieces, pipelined lookups, and a
/// connection handed to the full stack mid-stream, all answered in order.
@Suite struct RawLookupConnectionTests {
    static let lookup = #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[1001]}}"#

    /// Sends `chunks` one by one (with pauses) and reads `expected` responses.
    static func exchange(port: Int, _ chunks: [String], expected: Int) throws -> String {
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
        guard connected == 0 else { throw TestHTTPClient.Failure(description: "cannot connect") }
        var timeout = timeval(tv_sec: TestHTTPClient.replyTimeout, tv_usec: 0)  // bounds a hang
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        for chunk in chunks {
            _ = Array(chunk.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            usleep(2_000)
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while String(decoding: received, as: UTF8.self).components(separatedBy: "HTTP/1.1 ").count - 1 < expected
            || !String(decoding: received, as: UTF8.self).hasSuffix("}")
        {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    static func offPool(_ body: @escaping @Sendable () throws -> String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    @Test func requestsSplitAnywhereArePipelinedInOrder() async throws {
        let fixture = try ServerFixture(label: "raw-pieces")
        defer { fixture.directory.remove() }
        let request = PipeliningTests.post("/get-online-features", Self.lookup)
        let bytes = Array((request + request).utf8)
        // The two requests in 1-byte to 40-byte pieces, straddling every boundary.
        var chunks: [String] = []
        var i = 0
        var size = 1
        while i < bytes.count {
            let end = min(bytes.count, i + size)
            chunks.append(String(decoding: bytes[i..<end], as: UTF8.self))
            i = end
            size = size % 40 + 7
        }
        let pieces = chunks
        let text = try await fixture.live { client in
            try await Self.offPool { try Self.exchange(port: client.port, pieces, expected: 2) }
        }
        let responses = text.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(responses.count == 2, "\(text.prefix(400))")
        for response in responses {
            #expect(response.hasPrefix("200 OK"))
            #expect(response.contains(#""values":[10]"#))
        }
    }

    /// Lookups, then a push (the connection goes to the full stack), then a lookup: four
    /// answers in request order, the last seeing the push.
    @Test func aConnectionHandedToTheFullStackKeepsOrder() async throws {
        let fixture = try ServerFixture(label: "raw-handoff")
        defer { fixture.directory.remove() }
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[1001],"event_timestamp":["2026-01-09T23:00:00Z"],"conv_rate":[1],"acc_rate":[1],"avg_daily_trips":[77]}}"#
        let text = try await fixture.live { client in
            try await Self.offPool {
                try Self.exchange(
                    port: client.port,
                    [
                        PipeliningTests.post("/get-online-features", Self.lookup)
                            + PipeliningTests.post("/get-online-features", Self.lookup)
                            + PipeliningTests.post("/push", push)
                            + PipeliningTests.post("/get-online-features", Self.lookup)
                    ], expected: 4)
            }
        }
        let responses = Array(text.components(separatedBy: "HTTP/1.1 ").dropFirst())
        #expect(responses.count == 4, "\(text.prefix(600))")
        guard responses.count == 4 else { return }
        #expect(responses[0].contains(#""values":[10]"#))
        #expect(responses[1].contains(#""values":[10]"#))
        #expect(responses[2].hasPrefix("200") && !responses[2].contains("results"))
        #expect(responses[3].contains(#""values":[77]"#))
    }

    /// A lookup body over the limit is refused with 413 and the connection closed.
    @Test func oversizedBodiesAre413() async throws {
        let fixture = try ServerFixture(label: "raw-413", maxBodyBytes: 1024)
        defer { fixture.directory.remove() }
        let head = "POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"
        let text = try await fixture.live { client in
            try await Self.offPool { try Self.exchange(port: client.port, [head], expected: 1) }
        }
        #expect(text.hasPrefix("HTTP/1.1 413"), "\(text.prefix(200))")
        #expect(text.lowercased().contains("connection: close"))
    }
}
