/// Plain aligned columns for terminal output.
public enum TextTable {
    public static func render(header: [String], rows: [[String]], maxWidth: Int = 60) -> String {
        func clip(_ s: String) -> String { s.count > maxWidth ? String(s.prefix(maxWidth - 1)) + "…" : s }
        let all = [header] + rows.map { $0.map(clip) }
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
