import NIOCore

/// The head of an HTTP/1.1 `POST /get-online-features` request, parsed from raw bytes by
/// the fast path — or the reason the fast path leaves the request to the full HTTP stack.
///
/// Deliberately narrow: it recognizes only the plain form clients send (a request line, a
/// `Content-Length`, a handful of headers). Anything else — another method or path,
/// HTTP/1.0, `Transfer-Encoding`, `Expect`, folded or malformed lines, a repeated length —
/// is `.notFastPath`, and the connection goes to NIOHTTP1's parser, which accepts or rejects
/// it as it would any request. So the fast path never has to be a complete HTTP parser.
struct LookupRequestHead: Equatable {
    /// Bytes of the head, through the blank line.
    var headLength: Int
    var contentLength: Int
    var keepAlive: Bool
    var authorization: String?

    enum Parse: Equatable {
        case head(LookupRequestHead)
        /// More bytes are needed (the head is incomplete but could still be a fast request).
        case incomplete
        case notFastPath
    }

    /// Longest head the fast path reads; longer ones go to the full parser (which has its own limits).
    static let maxHeadBytes = 16 * 1024

    private static let requestLine = Array("POST /get-online-features".utf8)
    private static let version = Array(" HTTP/1.1".utf8)

    /// Parses the head at the start of `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        let n = bytes.count
        // The request line must start with the method and path; until it has, a prefix is enough.
        let prefix = min(n, requestLine.count)
        for i in 0..<prefix where bytes[i] != requestLine[i] { return .notFastPath }
        guard let end = headEnd(bytes) else { return n >= maxHeadBytes ? .notFastPath : .incomplete }
        var lines = LineReader(bytes: bytes, end: end)
        guard let first = lines.next(), first.upperBound >= requestLine.count else { return .notFastPath }
        // `POST /get-online-features[?query] HTTP/1.1`
        var cursor = requestLine.count
        if cursor < first.upperBound, bytes[cursor] == UInt8(ascii: "?") {
            while cursor < first.upperBound, bytes[cursor] != UInt8(ascii: " ") { cursor += 1 }
        }
        guard first.upperBound - cursor == version.count else { return .notFastPath }
        for (k, byte) in version.enumerated() where bytes[cursor + k] != byte { return .notFastPath }

        var contentLength: Int?
        var keepAlive = true
        var authorization: String?
        while let line = lines.next() {
            if line.isEmpty { break }
            guard bytes[line.lowerBound] != 0x20, bytes[line.lowerBound] != 0x09,
                let colon = (line.lowerBound..<line.upperBound).first(where: { bytes[$0] == UInt8(ascii: ":") }),
                colon > line.lowerBound
            else { return .notFastPath }
            let name = line.lowerBound..<colon
            for i in name where bytes[i] <= 0x20 || bytes[i] >= 0x7F { return .notFastPath }
            var valueStart = colon + 1
            var valueEnd = line.upperBound
            while valueStart < valueEnd, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
            while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let value = valueStart..<valueEnd
            for i in value where (bytes[i] < 0x20 && bytes[i] != 0x09) || bytes[i] == 0x7F { return .notFastPath }
            if equalsLowercase(bytes, name, "content-length") {
                guard contentLength == nil, !value.isEmpty, value.count <= 18 else { return .notFastPath }
                var length = 0
                for i in value {
                    guard bytes[i] >= 0x30, bytes[i] <= 0x39 else { return .notFastPath }
                    length = length * 10 + Int(bytes[i] - 0x30)
                }
                contentLength = length
            } else if equalsLowercase(bytes, name, "transfer-encoding") || equalsLowercase(bytes, name, "expect")
                || equalsLowercase(bytes, name, "upgrade")
            {
                return .notFastPath
            } else if equalsLowercase(bytes, name, "connection") {
                if containsLowercase(bytes, value, "close") { keepAlive = false }
                if containsLowercase(bytes, value, "upgrade") { return .notFastPath }
            } else if equalsLowercase(bytes, name, "authorization") {
                guard authorization == nil else { return .notFastPath }
                authorization = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value]), as: UTF8.self)
            }
        }
        guard let contentLength else { return .notFastPath }
        return .head(
            LookupRequestHead(
                headLength: end, contentLength: contentLength, keepAlive: keepAlive, authorization: authorization))
    }

    /// The offset just past the first `\r\n\r\n`, if the bytes hold one.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let limit = min(bytes.count, maxHeadBytes)
        var i = 0
        while i + 3 < limit {
            if bytes[i + 3] == 0x0A && bytes[i] == 0x0D && bytes[i + 1] == 0x0A && bytes[i + 2] == 0x0D { return i + 4 }
            i += 1
        }
        return nil
    }

    /// Whether `bytes[range]` is `word` (lowercase ASCII letters and '-'), ignoring ASCII case.
    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ word: StaticString)
        -> Bool
    {
        guard range.count == word.utf8CodeUnitCount else { return false }
        for k in 0..<range.count where bytes[range.lowerBound + k] | 0x20 != word.utf8Start[k] { return false }
        return true
    }

    private static func containsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ word: StaticString)
        -> Bool
    {
        let length = word.utf8CodeUnitCount
        guard range.count >= length else { return false }
        for start in range.lowerBound...(range.upperBound - length)
        where equalsLowercase(bytes, start..<(start + length), word) {
            return true
        }
        return false
    }
}

/// The lines of a head, each without its CRLF; a bare LF or CR inside a line stays in it
/// (and is then refused as a control character).
private struct LineReader {
    let bytes: UnsafeRawBufferPointer
    let end: Int
    var position = 0

    mutating func next() -> Range<Int>? {
        guard position < end else { return nil }
        var i = position
        while i + 1 < end, !(bytes[i] == 0x0D && bytes[i + 1] == 0x0A) { i += 1 }
        guard i + 1 < end else { return nil }
        let line = position..<i
        position = i + 2
        return line
    }
}
