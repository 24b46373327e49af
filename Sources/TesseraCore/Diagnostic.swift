/// A place in a user's file: `path:line:column` (1-based; 0 means unknown).
public struct SourceLocation: Hashable, Sendable, Codable, Comparable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

extension SourceLocation: CustomStringConvertible {
    public var description: String {
        if line == 0 { return file }
        if column == 0 { return "\(file):\(line)" }
        return "\(file):\(line):\(column)"
    }
}

/// One problem found in a user's input, with where it is and what would fix it.
public struct Diagnostic: Hashable, Sendable, Codable {
    public enum Severity: String, Hashable, Sendable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation
    /// What is wrong, in one sentence.
    public var message: String
    /// What was expected, or a likely fix ("did you mean 'driver_id'?").
    public var hint: String?

    public init(_ severity: Severity = .error, at location: SourceLocation, _ message: String, hint: String? = nil) {
        self.severity = severity
        self.location = location
        self.message = message
        self.hint = hint
    }
}

extension Diagnostic: CustomStringConvertible {
    public var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let hint { text += "\n    \(hint)" }
        return text
    }
}

/// Every problem found in one pass, so that a user can fix them all at once.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        let count = errors.count
        let header = count == 1 ? "1 error" : "\(count) errors"
        return diagnostics.map(\.description).joined(separator: "\n") + "\n\(header)"
    }
}

/// Suggests the closest known names for a misspelt one ("did you mean ...").
///
/// The cost is bounded whatever the input: names longer than `maxNameLength` get no
/// suggestions, and candidates whose length differs by more than the threshold are skipped
/// before any distance is computed, so a request naming a 5 MB "view" costs nothing.
public enum Suggestions {
    /// Longer names are not compared (no identifier is that long; the input is hostile or a paste).
    public static let maxNameLength = 128

    /// Up to `limit` candidates within an edit distance that scales with the name's length.
    public static func closest(to name: String, in candidates: some Sequence<String>, limit: Int = 3) -> [String] {
        guard name.utf8.count <= maxNameLength * 4 else { return [] }
        let target = Array(name.lowercased().unicodeScalars)
        guard target.count <= maxNameLength else { return [] }
        let threshold = max(2, target.count / 3)
        var scored: [(String, Int)] = []
        for candidate in candidates {
            let utf8 = candidate.utf8.count
            // A scalar is 1–4 UTF-8 bytes: skip what cannot be within the threshold before decoding it.
            guard utf8 <= (target.count + threshold) * 4, utf8 + threshold >= target.count else { continue }
            let other = Array(candidate.lowercased().unicodeScalars)
            guard abs(other.count - target.count) <= threshold else { continue }
            let distance = editDistance(target, other)
            if distance <= threshold { scored.append((candidate, distance)) }
        }
        scored.sort { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        var seen = Set<String>()
        return scored.compactMap { seen.insert($0.0).inserted ? $0.0 : nil }.prefix(limit).map { $0 }
    }

    /// A hint sentence, or `nil` when nothing is close.
    public static func hint(for name: String, in candidates: some Sequence<String>) -> String? {
        let close = closest(to: name, in: candidates)
        guard !close.isEmpty else { return nil }
        return "did you mean " + close.map { "'\($0)'" }.joined(separator: " or ") + "?"
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and
    /// adjacent transpositions ("dirver" is one edit from "driver").
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        var d = [Int](repeating: 0, count: (a.count + 1) * width)
        for i in 0...a.count { d[i * width] = i }
        for j in 0...b.count { d[j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var best = min(d[(i - 1) * width + j] + 1, d[i * width + j - 1] + 1, d[(i - 1) * width + j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    best = min(best, d[(i - 2) * width + j - 2] + 1)
                }
                d[i * width + j] = best
            }
        }
        return d[a.count * width + b.count]
    }
}
