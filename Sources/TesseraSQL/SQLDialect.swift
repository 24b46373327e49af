import TesseraCore
import TesseraDefinitions

/// The SQL a generated query is written in. Queries are built from the same shapes for
/// every dialect; a dialect only spells identifiers, literals and the pick of one row per
/// group, so the rules cannot drift between engines.
public enum SQLDialect: String, Sendable, CaseIterable {
    case postgres
    case spark

    /// `identifier` quoted so that it is read as written, whatever it holds.
    public func quoted(_ identifier: String) -> String {
        switch self {
        case .postgres: PostgresRelation.quoted(identifier)
        case .spark: "`" + identifier.replacingAll("`", with: "``") + "`"
        }
    }

    /// An instant as a literal of the dialect's timestamp type (`cast` for PostgreSQL: the
    /// type of the column it is compared with; its text is our own digits, nothing to escape).
    public func timestamp(_ microseconds: Int64, cast: String = "timestamptz") -> String {
        let text = Timestamp(microseconds: microseconds).iso8601
        switch self {
        case .postgres: return "'\(text)'::\(cast)"
        case .spark: return "TIMESTAMP '\(text)'"
        }
    }
}

extension String {
    /// Every `target` replaced (Foundation-free, for the generator's few escapes).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(count)
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}
