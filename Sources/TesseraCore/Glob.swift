/// Shell-style path patterns: `*` (any run within one folder), `?` (one character),
/// `[abc]` (one of a set) and `**` (any number of folders).
public struct Glob: Hashable, Sendable {
    public let pattern: String
    private let parts: [Substring]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// Whether `text` contains glob syntax at all.
    public static func isPattern(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Whether a relative path (folders separated by `/`) matches the pattern.
    public func matches(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return Glob.match(parts[...], segments[...])
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            var remaining = path
            while true {
                if match(rest, remaining) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let segment = path.first,
            matchSegment(Array(head.unicodeScalars)[...], Array(segment.unicodeScalars)[...])
        else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    private static func matchSegment(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let c = p.first else { return s.isEmpty }
        switch c {
        case "*":
            var rest = s
            while true {
                if matchSegment(p.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case "?":
            return !s.isEmpty && matchSegment(p.dropFirst(), s.dropFirst())
        case "[":
            guard let close = p.dropFirst().firstIndex(of: "]"), let ch = s.first else { return false }
            var set = p[(p.startIndex + 1)..<close]
            var negate = false
            if set.first == "!" || set.first == "^" {
                negate = true
                set = set.dropFirst()
            }
            var found = false
            var i = set.startIndex
            while i < set.endIndex {
                if i + 2 < set.endIndex, set[i + 1] == "-" {
                    if set[i] <= ch && ch <= set[i + 2] { found = true }
                    i += 3
                } else {
                    if set[i] == ch { found = true }
                    i += 1
                }
            }
            return found != negate && matchSegment(p[(close + 1)...], s.dropFirst())
        default:
            return s.first == c && matchSegment(p.dropFirst(), s.dropFirst())
        }
    }
}
