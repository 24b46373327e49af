import Testing

@testable import TesseraRedis

/// The RESP parser: every reply type of RESP2 (and RESP3's scalars, maps and nulls), fed
/// whole or a byte at a time, nested arrays, and malformed or oversized input refused.
@Suite struct RESPParserTests {
    static let samples: [(String, RESPValue)] = [
        ("+OK\r\n", .simple("OK")),
        ("-ERR wrong number of arguments\r\n", .error("ERR wrong number of arguments")),
        (":-42\r\n", .integer(-42)),
        ("$5\r\nhello\r\n", .bulk(Array("hello".utf8))),
        ("$0\r\n\r\n", .bulk([])),
        ("$-1\r\n", .bulk(nil)),
        ("$4\r\na\r\nb\r\n", .bulk(Array("a\r\nb".utf8))),
        ("*-1\r\n", .array(nil)),
        ("*0\r\n", .array([])),
        (
            "*3\r\n$1\r\na\r\n$-1\r\n*2\r\n:1\r\n+x\r\n",
            .array([.bulk(Array("a".utf8)), .bulk(nil), .array([.integer(1), .simple("x")])])
        ),
        ("_\r\n", .bulk(nil)),
        ("#t\r\n", .integer(1)),
        ("%1\r\n+k\r\n:2\r\n", .array([.simple("k"), .integer(2)])),
    ]

    @Test func everyReplyTypeWholeAndByteByByte() throws {
        for (text, expected) in Self.samples {
            var whole = RESPParser()
            whole.feed(Array(text.utf8))
            #expect(try whole.next() == expected, "\(text.debugDescription)")
            #expect(try whole.next() == nil)
            var slow = RESPParser()
            var got: RESPValue?
            for (i, byte) in Array(text.utf8).enumerated() {
                #expect(got == nil, "\(text.debugDescription): a value before its last byte (\(i))")
                slow.feed([byte])
                got = try slow.next()
            }
            #expect(got == expected, "\(text.debugDescription) fed a byte at a time")
        }
        // Many values in one read, in order.
        var parser = RESPParser()
        parser.feed(Self.samples.flatMap { Array($0.0.utf8) })
        for (_, expected) in Self.samples { #expect(try parser.next() == expected) }
        #expect(try parser.next() == nil)
        #expect(parser.pending == 0)
    }

    @Test func commandsEncodeAsArraysOfBulkStrings() throws {
        let command = [Array("SET".utf8), Array("k\r\n".utf8), [0, 255]]
        let bytes = RESPEncoder.encode(command)
        #expect(String(decoding: bytes.prefix(13), as: UTF8.self) == "*3\r\n$3\r\nSET\r\n")
        var parser = RESPParser()
        parser.feed(bytes)
        #expect(try parser.next() == .array(command.map { .bulk($0) }))
    }

    @Test func malformedAndOversizedInputIsRefused() {
        for bad in ["?x\r\n", ":abc\r\n", "$3\r\nabcd\r\n", "$-7\r\n", "*99999999999\r\n", "$999999999999\r\n"] {
            var parser = RESPParser()
            parser.feed(Array(bad.utf8))
            #expect(throws: RESPProtocolError.self, "\(bad.debugDescription)") { _ = try parser.next() }
        }
        var deep = RESPParser()
        deep.feed(Array((String(repeating: "*1\r\n", count: 100) + ":1\r\n").utf8))
        #expect(throws: RESPProtocolError.self) { _ = try deep.next() }
    }

    @Test func urlsParseAndErrorsNeverShowThePassword() throws {
        let full = try RedisEndpoint(url: "redis://app:s%40cret@10.0.0.5:7001/3")
        #expect(full == RedisEndpoint(host: "10.0.0.5", port: 7001, user: "app", password: "s@cret", database: 3))
        #expect(try RedisEndpoint(url: "redis://127.0.0.1") == RedisEndpoint(host: "127.0.0.1"))
        #expect(try RedisEndpoint(url: "redis://:pw@h:1/").password == "pw")
        #expect(try RedisEndpoint(url: "redis://[::1]:6380").host == "::1")
        #expect(RedisEndpoint.redacted("redis://app:hunter2@h:1/0") == "redis://app:***@h:1/0")
        for bad in ["http://h", "redis://u:hunter2@h:99999", "redis://u:hunter2@h/x", "redis://u:hunter2@"] {
            do {
                _ = try RedisEndpoint(url: bad)
                Issue.record("\(bad) parsed")
            } catch {
                #expect(error.kind == .configuration)
                #expect(!error.description.contains("hunter2"), "\(error)")
            }
        }
    }
}
