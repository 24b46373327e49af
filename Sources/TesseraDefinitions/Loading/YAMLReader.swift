import TesseraCore
import TesseraExpressions
import Yams

/// Reads YAML nodes of one file into values, collecting every problem with its `file:line:column`.
///
/// Parsers call it field by field and keep going after a problem, so a user
/// sees all the mistakes in a file at once.
final class YAMLReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    /// Where each field of each object was written, for messages about references.
    var fieldLocations: [ObjectID: [String: SourceLocation]] = [:]

    /// Records the location of every field of an object's mapping.
    func recordFields(_ id: ObjectID, _ pairs: [(key: String, keyNode: Node, value: Node)]) {
        var fields: [String: SourceLocation] = [:]
        for pair in pairs { fields[pair.key] = location(pair.value) }
        fieldLocations[id] = fields
    }

    init(file: String) {
        self.file = file
    }

    func location(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(file: file) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func error(_ node: Node?, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, at: location(node), message, hint: hint))
    }

    /// Takes over the problems another reader found (a file this one's file names).
    func absorb(_ other: [Diagnostic]) {
        diagnostics += other
    }

    func warning(_ node: Node?, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.warning, at: location(node), message, hint: hint))
    }

    /// The pairs of a mapping whose keys are strings; reports anything else.
    func mapping(_ node: Node, _ what: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            error(node, "\(what) must be a mapping (key: value lines)", hint: "found \(describe(node))")
            return nil
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        pairs.reserveCapacity(mapping.count)
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                error(key, "keys of \(what) must be plain names")
                continue
            }
            pairs.append((scalar.string, key, value))
        }
        return pairs
    }

    /// Reports keys outside `allowed` (with a suggestion) and required keys that are absent.
    func checkKeys(
        _ pairs: [(key: String, keyNode: Node, value: Node)], in node: Node, allowed: [String], required: [String],
        what: String
    ) {
        for pair in pairs where !allowed.contains(pair.key) {
            let hint =
                Suggestions.hint(for: pair.key, in: allowed)
                ?? "expected one of: \(allowed.joined(separator: ", "))"
            error(pair.keyNode, "unknown field '\(pair.key)' in \(what)", hint: hint)
        }
        for key in required where !pairs.contains(where: { $0.key == key }) {
            error(node, "\(what) is missing the required field '\(key)'")
        }
    }

    func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error(node, "\(what) must be a single value", hint: "found \(describe(node))")
            return nil
        }
        return scalar.string
    }

    /// An expression (a string, checked for syntax here; names and types are checked against
    /// the source later), and where its first character is: errors point into it.
    func expression(_ node: Node, _ what: String) -> (text: String, at: SourceLocation)? {
        guard let text = string(node, what) else { return nil }
        var at = location(node)
        if case .scalar(let scalar) = node, scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
            at.column += 1
        }
        do {
            _ = try ExpressionParser.parse(text)
        } catch {
            var place = at
            place.column += error.column(in: text) - 1
            diagnostics.append(Diagnostic(.error, at: place, "\(error.message) in \(what)", hint: error.hint))
            return nil
        }
        return (text, at)
    }

    /// A name: letters, digits and underscores, not starting with a digit.
    func name(_ node: Node, _ what: String) -> String? {
        guard let text = string(node, what) else { return nil }
        guard YAMLReader.isIdentifier(text) else {
            error(
                node, "\(what) '\(text)' is not a valid name",
                hint: "use letters, digits and '_', starting with a letter or '_'")
            return nil
        }
        return text
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(48...57).contains(first) else { return false }
        return text.utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95
        }
    }

    func bool(_ node: Node, _ what: String) -> Bool? {
        guard let text = string(node, what) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, "\(what) must be true or false", hint: "found '\(text)'")
            return nil
        }
    }

    func type(_ node: Node, _ what: String, allowList: Bool = true) -> ValueType? {
        guard let text = string(node, what) else { return nil }
        guard let type = ValueType(parsing: text) else {
            let hint =
                Suggestions.hint(for: text, in: ValueType.spellings)
                ?? "expected one of: \(ValueType.spellings.joined(separator: ", "))"
            error(node, "unknown type '\(text)' for \(what)", hint: hint)
            return nil
        }
        if !allowList, type.isList {
            error(
                node, "\(what) cannot be a list type",
                hint: "join keys are scalars: \(ValueType.scalars.map(\.name).joined(separator: ", "))")
            return nil
        }
        return type
    }

    func duration(_ node: Node, _ what: String) -> TimeSpan? {
        guard let text = string(node, what) else { return nil }
        guard let span = TimeSpan(parsing: text) else {
            error(
                node, "'\(text)' is not a duration for \(what)",
                hint: "write a number and a unit: 30s, 15m, 2h, 7d, 1w, or 0 for unbounded")
            return nil
        }
        return span
    }

    /// A list of strings; a single string is accepted as a list of one.
    func stringList(_ node: Node, _ what: String) -> [(String, Node)]? {
        switch node {
        case .scalar(let scalar): return [(scalar.string, node)]
        case .sequence(let sequence):
            var out: [(String, Node)] = []
            for item in sequence {
                guard let text = string(item, "each item of \(what)") else { continue }
                out.append((text, item))
            }
            return out
        default:
            error(node, "\(what) must be a list of names", hint: "found \(describe(node))")
            return nil
        }
    }

    /// A mapping of strings to strings (tags, field mappings).
    func stringMap(_ node: Node, _ what: String) -> [String: String]? {
        guard let pairs = mapping(node, what) else { return nil }
        var out: [String: String] = [:]
        for pair in pairs {
            guard let value = string(pair.value, "the value of '\(pair.key)' in \(what)") else { continue }
            out[pair.key] = value
        }
        return out
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): "the value '\(s.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// Turns a Yams error into a diagnostic at its line and column.
    func syntaxError(_ error: any Error) {
        let (mark, problem): (Mark?, String) = {
            guard let yaml = error as? YamlError else { return (nil, "\(error)") }
            switch yaml {
            case .scanner(let context, let problem, let mark, _),
                .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                let text = context.map { "\(problem) (\($0.text))" } ?? problem
                return (mark, text)
            case .reader(let problem, _, _, _):
                return (nil, problem)
            case .duplicatedKeysInMapping(let duplicates, let context):
                return (context.mark, "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))")
            default:
                return (nil, "\(yaml)")
            }
        }()
        let location =
            mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
            ?? SourceLocation(file: file)
        diagnostics.append(Diagnostic(.error, at: location, "invalid YAML: \(problem)"))
    }
}
