/// Sizes written by people: `10MB`, `512KB`, `1GB`, `64MiB` or a plain number of bytes.
public enum ByteSize {
    /// The number of bytes `text` names (0 allowed), or `nil` when it is not a size.
    public static func parse(_ text: String) -> Int? {
        let upper = text.trimmingSpaces().uppercased()
        let units: [(String, Int)] = [
            ("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10),
            ("B", 1),
        ]
        for (suffix, factor) in units where upper.hasSuffix(suffix) {
            guard let number = Int(String(upper.dropLast(suffix.count)).trimmingSpaces()), number >= 0 else {
                return nil
            }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        return Int(upper).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// `10MB`, `512KB` or `123B`: the largest unit that divides the size exactly.
    public static func format(_ bytes: Int) -> String {
        for (suffix, factor) in [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)]
        where bytes % factor == 0 && bytes > 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(bytes)B"
    }
}
