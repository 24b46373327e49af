/// A value of Redis's wire protocol (RESP2, and the RESP3 scalars a server may send):
/// what a command's reply is.
public enum RESPValue: Sendable, Equatable, CustomStringConvertible {
    /// `+OK`
    case simple(String)
    /// `-ERR …`: the server refused the command (the message is the server's).
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5\r\nhello`, or `nil` for RESP2's null bulk string (`$-1`) and RESP3's `_`.
    case bulk([UInt8]?)
    /// `*2 …`, or `nil` for the null array (`*-1`).
    case array([RESPValue]?)

    /// The bytes of a bulk or simple string (`nil` for nulls and other kinds).
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .simple(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The text of a bulk or simple string.
    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    public var description: String {
        switch self {
        case .simple(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(nil), .array(nil): "(nil)"
        case .bulk(let bytes?): "\"\(String(decoding: bytes.prefix(64), as: UTF8.self))\"\(bytes.count > 64 ? "…" : "")"
        case .array(let values?): "[\(values.map(\.description).joined(separator: ", "))]"
        }
    }
}

/// Encodes commands as RESP arrays of bulk strings (how clients send every command).
public enum RESPEncoder {
    public static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        RESPCommands([arguments]).bytes
    }
}

/// Builds pipelined commands straight into one buffer: arguments are appended from any
/// bytes (slices of a larger encoded column, numbers), so a bulk write allocates no array
/// per argument.
public struct RESPCommands: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Where each command starts in `bytes`.
    public private(set) var starts: [Int] = []
    /// The commands appended so far.
    public var count: Int { starts.count }

    public init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Commands given as their arguments (the name first).
    public init(_ commands: [[[UInt8]]]) {
        for command in commands {
            begin(command.count)
            for argument in command { self.argument(argument) }
        }
    }

    private mutating func line(_ prefix: UInt8, _ number: Int) {
        bytes.append(prefix)
        appendDecimal(number)
        bytes.append(13)
        bytes.append(10)
    }

    private mutating func appendDecimal(_ number: Int) {
        if number >= 0 && number < 10 {
            bytes.append(UInt8(48 + number))
            return
        }
        bytes.append(contentsOf: String(number).utf8)
    }

    /// Starts a command of `arguments` arguments (its name counts as one).
    public mutating func begin(_ arguments: Int) {
        starts.append(bytes.count)
        line(UInt8(ascii: "*"), arguments)
    }

    /// The encoded bytes of command `index`.
    public func command(at index: Int) -> ArraySlice<UInt8> {
        bytes[starts[index]..<(index + 1 < starts.count ? starts[index + 1] : bytes.count)]
    }

    /// Appends a command already encoded (one of another `RESPCommands`).
    public mutating func append(encoded command: ArraySlice<UInt8>) {
        starts.append(bytes.count)
        bytes.append(contentsOf: command)
    }

    public mutating func argument(_ value: some Collection<UInt8>) {
        line(UInt8(ascii: "$"), value.count)
        bytes.append(contentsOf: value)
        bytes.append(13)
        bytes.append(10)
    }

    /// An argument made of two parts (a key's prefix and its entity bytes).
    public mutating func argument(_ head: some Collection<UInt8>, _ tail: some Collection<UInt8>) {
        line(UInt8(ascii: "$"), head.count + tail.count)
        bytes.append(contentsOf: head)
        bytes.append(contentsOf: tail)
        bytes.append(13)
        bytes.append(10)
    }

    public mutating func argument(_ text: String) { argument(Array(text.utf8)) }

    public mutating func argument(_ number: Int) { argument(Array(String(number).utf8)) }

    /// A whole command of text arguments.
    public mutating func command(_ arguments: [String]) {
        begin(arguments.count)
        for argument in arguments { self.argument(argument) }
    }
}

/// What is wrong with bytes a server sent (the connection is then closed: its stream is lost).
public struct RESPProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Redis protocol error: \(message)" }
}

/// An incremental RESP parser: fed whatever bytes arrived, it returns each complete value
/// and keeps the rest for the next call. Lengths are bounded, so a hostile or broken peer
/// cannot make it allocate without limit.
public struct RESPParser: Sendable {
    /// The largest bulk string taken (Redis's own `proto-max-bulk-len` default is 512 MB).
    public static let maxBulk = 512 << 20
    /// The most elements of one array, and the deepest nesting.
    public static let maxElements = 1 << 24
    public static let maxDepth = 64

    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Adds bytes that arrived.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 1 << 16 && start > buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete value, or `nil` when more bytes are needed.
    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        var at = start
        guard let value = try parse(&at, depth: 0) else { return nil }
        start = at
        return value
    }

    /// Bytes fed but not yet parsed.
    public var pending: Int { buffer.count - start }

    private func line(_ at: inout Int) -> ArraySlice<UInt8>? {
        var i = at
        while i + 1 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 {
                let slice = buffer[at..<i]
                at = i + 2
                return slice
            }
            i += 1
        }
        return nil
    }

    private func integer(_ text: ArraySlice<UInt8>) throws(RESPProtocolError) -> Int64 {
        guard !text.isEmpty, text.count <= 20, let value = Int64(String(decoding: text, as: UTF8.self)) else {
            throw RESPProtocolError("'\(String(decoding: text.prefix(32), as: UTF8.self))' is not an integer")
        }
        return value
    }

    private func parse(_ at: inout Int, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard at < buffer.count else { return nil }
        guard depth <= RESPParser.maxDepth else { throw RESPProtocolError("arrays nested deeper than 64") }
        let kind = buffer[at]
        var i = at + 1
        guard let head = line(&i) else { return nil }
        let text = { String(decoding: head, as: UTF8.self) }
        let value: RESPValue
        switch kind {
        case UInt8(ascii: "+"): value = .simple(text())
        case UInt8(ascii: "-"), UInt8(ascii: "!"): value = .error(text())
        case UInt8(ascii: ":"): value = .integer(try integer(head))
        case UInt8(ascii: "_"): value = .bulk(nil)
        case UInt8(ascii: "#"): value = .integer(head.first == UInt8(ascii: "t") ? 1 : 0)
        case UInt8(ascii: ","): value = .simple(text())
        case UInt8(ascii: "$"), UInt8(ascii: "="):
            let length = try integer(head)
            if length == -1 {
                value = .bulk(nil)
                break
            }
            guard length >= 0, length <= RESPParser.maxBulk else {
                throw RESPProtocolError("a bulk string of \(length) bytes")
            }
            let end = i + Int(length)
            guard end + 2 <= buffer.count else { return nil }
            guard buffer[end] == 13, buffer[end + 1] == 10 else {
                throw RESPProtocolError("a bulk string not ended by CRLF")
            }
            value = .bulk(Array(buffer[i..<end]))
            i = end + 2
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"):
            var count = try integer(head)
            if count == -1 {
                value = .array(nil)
                break
            }
            if kind == UInt8(ascii: "%") { count *= 2 }  // a map: keys and values in turn
            guard count >= 0, count <= RESPParser.maxElements else {
                throw RESPProtocolError("an array of \(count) elements")
            }
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(min(count, 1024)))
            for _ in 0..<count {
                guard let element = try parse(&i, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            value = .array(elements)
        default:
            throw RESPProtocolError("unknown reply type byte \(kind)")
        }
        at = i
        return value
    }
}
