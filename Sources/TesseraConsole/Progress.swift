import Foundation

/// A one-line progress bar.
public enum Progress {
    public static func bar(_ label: String, done: Int, total: Int?) -> String {
        guard let total, total > 0 else { return "\(label): \(done) rows" }
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        return "\(label) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + String(format: "] %3.0f%%", fraction * 100)
    }
}
