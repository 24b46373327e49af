import TesseraCore

/// One option a backend accepts in its `tessera.yaml` section: its name, what values it
/// takes, its default and what it does. Backends list theirs; validation, error messages and
/// `docs/definitions.md` all come from the same list.
public struct BackendOption: Sendable {
    public enum Kind: Sendable {
        /// Any text.
        case string
        /// A file path, relative to the repository unless absolute.
        case path
        /// An integer in the range.
        case integer(ClosedRange<Int>)
        /// One of the words.
        case choice([String])
        /// A duration (`250ms`, `1s`, `2h`); zero allowed.
        case duration
        /// A byte size (`64MB`).
        case size
        case bool
        /// A list of strings.
        case stringList
        /// A mapping of strings to strings.
        case stringMap

        /// What a value must look like, for messages.
        public var expected: String {
            switch self {
            case .string: "text"
            case .path: "a file path"
            case .integer(let range):
                range.upperBound == Int.max
                    ? "an integer of at least \(range.lowerBound)"
                    : "an integer from \(range.lowerBound) to \(range.upperBound)"
            case .choice(let words): "one of " + words.map { "'\($0)'" }.joined(separator: ", ")
            case .duration: "a duration such as 250ms, 1s or 2h"
            case .size: "a size such as 64MB or 512KB"
            case .bool: "true or false"
            case .stringList: "a list of strings"
            case .stringMap: "a mapping of names to values"
            }
        }
    }

    public var name: String
    public var kind: Kind
    /// The default, as a user would write it; `nil` when the option is required or has none.
    public var defaultValue: String?
    public var help: String
    public var required: Bool

    public init(_ name: String, _ kind: Kind, default defaultValue: String? = nil, required: Bool = false, help: String)
    {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.required = required
    }
}

/// What every backend factory says about itself.
public protocol BackendDescription: Sendable {
    /// The `type:` that selects it.
    var type: String { get }
    /// One line for listings and docs.
    var summary: String { get }
    /// The options it accepts besides `type`.
    var options: [BackendOption] { get }
}

/// A backend's options after validation: typed accessors that cannot fail for an option the
/// backend declared (the value was checked against its kind).
public struct BackendSettings: Sendable {
    /// The section these came from: `registry`, `online_store` or `offline_store`.
    public let role: String
    public let type: String
    /// The repository's folder; relative paths resolve against it.
    public let root: String
    private let values: [String: OptionValue]
    private let defaults: [String: String]

    init(role: String, type: String, root: String, values: [String: OptionValue], defaults: [String: String]) {
        self.role = role
        self.type = type
        self.root = root
        self.values = values
        self.defaults = defaults
    }

    /// Settings with every option at its default (for backends built in code, and tests).
    public init(role: String, type: String, root: String, options: [BackendOption], values: [String: String] = [:]) {
        var defaults: [String: String] = [:]
        for option in options { defaults[option.name] = option.defaultValue }
        self.init(role: role, type: type, root: root, values: values.mapValues { .scalar($0) }, defaults: defaults)
    }

    private func scalar(_ name: String) -> String? {
        if case .scalar(let text)? = values[name] { return text }
        return defaults[name]
    }

    /// Whether the option was written (not defaulted).
    public func isSet(_ name: String) -> Bool { values[name] != nil }

    public func string(_ name: String) -> String? { scalar(name) }

    /// A path resolved against the repository's folder.
    public func path(_ name: String) -> String? {
        scalar(name).map { $0.hasPrefix("/") ? $0 : root + "/" + $0 }
    }

    public func integer(_ name: String) -> Int? { scalar(name).flatMap { Int($0.trimmingSpaces()) } }
    public func duration(_ name: String) -> TimeSpan? { scalar(name).flatMap(TimeSpan.init(parsing:)) }
    public func size(_ name: String) -> Int? { scalar(name).flatMap(ByteSize.parse) }
    public func bool(_ name: String) -> Bool? { scalar(name).flatMap(BackendSettings.parseBool) }

    public func list(_ name: String) -> [String]? {
        switch values[name] {
        case .list(let items)?: items
        case .scalar(let text)?: [text]
        default: nil
        }
    }

    public func map(_ name: String) -> [String: String]? {
        if case .map(let pairs)? = values[name] { return pairs }
        return nil
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.trimmingSpaces().lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }
}

extension BackendSettings {
    /// Checks a store section against the backends available for its role and returns the
    /// chosen backend with its typed settings, or every problem found, each at its place in
    /// `tessera.yaml` (an unknown type, an unknown option, a bad value, a missing option).
    ///
    /// - Parameters:
    ///   - role: `registry`, `online_store` or `offline_store`, as the section is named.
    ///   - available: the backends of this build for the role.
    /// - Complexity: O(options × backends).
    public static func validate<Backend>(
        _ store: StoreConfig, role: String, available: [Backend], root: String
    ) -> Result<(Backend, BackendSettings), DiagnosticsError> {
        let file = SourceLocation(file: "tessera.yaml")
        guard let backend = available.first(where: { ($0 as? any BackendDescription)?.type == store.type }),
            let description = backend as? any BackendDescription
        else {
            let types = available.compactMap { ($0 as? any BackendDescription)?.type }
            var hint = "this build has: " + types.map { "'\($0)'" }.joined(separator: ", ")
            if let close = Suggestions.hint(for: store.type, in: types) { hint = close + " (" + hint + ")" }
            return .failure(
                DiagnosticsError([
                    Diagnostic(
                        .error, at: store.typeLocation ?? store.location ?? file,
                        "\(role) type '\(store.type)' is not available", hint: hint)
                ]))
        }
        var problems: [Diagnostic] = []
        let declared = description.options
        for (name, value) in store.options.sorted(by: { $0.key < $1.key }) {
            let at = store.optionLocations[name] ?? store.location ?? file
            guard let option = declared.first(where: { $0.name == name }) else {
                let names = declared.map(\.name)
                let accepted =
                    names.isEmpty
                    ? "it takes no options besides 'type'" : "it accepts: " + names.joined(separator: ", ")
                problems.append(
                    Diagnostic(
                        .error, at: at, "unknown option '\(name)' for \(role) type '\(store.type)'",
                        hint: Suggestions.hint(for: name, in: names).map { "\($0) (\(accepted))" } ?? accepted))
                continue
            }
            if let reason = check(value, against: option.kind) {
                problems.append(
                    Diagnostic(
                        .error, at: store.valueLocations[name] ?? at, "\(role).\(name) \(reason)",
                        hint: "expected \(option.kind.expected)"
                            + (option.defaultValue.map { "; the default is \($0)" } ?? "")))
            }
        }
        for option in declared where option.required && store.options[option.name] == nil {
            problems.append(
                Diagnostic(
                    .error, at: store.location ?? file,
                    "\(role) type '\(store.type)' needs the option '\(option.name)'", hint: option.help))
        }
        guard problems.isEmpty else { return .failure(DiagnosticsError(problems)) }
        var defaults: [String: String] = [:]
        for option in declared { defaults[option.name] = option.defaultValue }
        return .success(
            (
                backend,
                BackendSettings(role: role, type: store.type, root: root, values: store.options, defaults: defaults)
            ))
    }

    /// Why `value` does not fit `kind`, or `nil` when it does.
    static func check(_ value: OptionValue, against kind: BackendOption.Kind) -> String? {
        switch (kind, value) {
        case (.stringList, .list), (.stringList, .scalar), (.stringMap, .map): return nil
        case (.stringList, _), (.stringMap, _): return "must be \(kind.expected)"
        case (_, .list), (_, .map): return "must be a single value"
        case (_, .scalar(let text)):
            let shown = "'\(text.prefix(80))'"
            switch kind {
            case .string, .stringList, .stringMap: return nil
            case .path: return text.trimmingSpaces().isEmpty ? "is empty" : nil
            case .integer(let range):
                guard let number = Int(text.trimmingSpaces()) else { return "\(shown) is not an integer" }
                return range.contains(number) ? nil : "\(number) is out of range"
            case .choice(let words):
                guard words.contains(text) else {
                    return "\(shown) is not accepted"
                        + (Suggestions.hint(for: text, in: words).map { " (\($0))" } ?? "")
                }
                return nil
            case .duration: return TimeSpan(parsing: text) == nil ? "\(shown) is not a duration" : nil
            case .size: return ByteSize.parse(text) == nil ? "\(shown) is not a size" : nil
            case .bool: return parseBool(text) == nil ? "\(shown) is not true or false" : nil
            }
        }
    }
}
