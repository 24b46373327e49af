/// Client input quoted back in error messages, cut short: an error names what was wrong
/// without sending a 5 MB field back (or into the logs).
public enum Echo {
    /// At most this many UTF-8 bytes of one quoted value.
    public static let limit = 80

    /// `text`, or its first bytes (cut at a character boundary) followed by `…(N bytes)`.
    public static func clip(_ text: String, limit: Int = Echo.limit) -> String {
        let count = text.utf8.count
        guard count > limit else { return text }
        var kept = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > limit { break }
            kept.append(character)
            bytes += size
        }
        return kept + "…(\(count) bytes)"
    }
}
