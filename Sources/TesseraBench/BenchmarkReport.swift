import Foundation

/// One measured figure of a benchmark run: Tessera's and its peer's, side by side.
public struct BenchmarkFigure: Sendable, Codable {
    public var task: String
    public var metric: String
    public var tessera: Double
    public var peer: Double?
    public var peerName: String?
    /// How many times better Tessera is (peer / tessera for times, tessera / peer for rates).
    public var ratio: Double?
    public var target: String?

    public init(
        task: String, metric: String, tessera: Double, peer: Double? = nil, peerName: String? = nil,
        higherIsBetter: Bool = false, target: String? = nil
    ) {
        self.task = task
        self.metric = metric
        self.tessera = tessera
        self.peer = peer
        self.peerName = peerName
        if let peer, peer > 0, tessera > 0 {
            ratio = higherIsBetter ? tessera / peer : peer / tessera
        }
        self.target = target
    }
}

/// The figures of one benchmark command, printable as a table.
public struct BenchmarkReport: Sendable, Codable {
    public var title: String
    public var figures: [BenchmarkFigure] = []
    public var notes: [String] = []

    public init(title: String) {
        self.title = title
    }

    public var table: String {
        var lines = [
            "# \(title)", "", "| task | metric | tessera | peer | peer figure | tessera advantage | target |",
            "| --- | --- | ---: | --- | ---: | ---: | --- |",
        ]
        for f in figures {
            let peer = f.peer.map { format($0) } ?? "–"
            let ratio = f.ratio.map { String(format: "%.2f×", $0) } ?? "–"
            lines.append(
                "| \(f.task) | \(f.metric) | \(format(f.tessera)) | \(f.peerName ?? "–") | \(peer) | \(ratio) | \(f.target ?? "") |"
            )
        }
        for note in notes { lines.append("\n\(note)") }
        return lines.joined(separator: "\n")
    }

    private func format(_ value: Double) -> String {
        if value >= 100 { return String(format: "%.0f", value) }
        if value >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.4f", value)
    }
}
