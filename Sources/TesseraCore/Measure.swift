import Foundation

/// Wall-clock and memory measurements, for command summaries and the benchmarks.
public enum Measure {
    /// Seconds taken by `body`.
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = MonotonicClock.nanoseconds()
        try body()
        return Double(MonotonicClock.nanoseconds() &- start) / 1e9
    }

    /// `body`'s outcome and the milliseconds it took (for checks that report their latency).
    public static func timed<T, E: Error>(_ body: () throws(E) -> T) -> (result: Result<T, E>, milliseconds: Double) {
        let start = MonotonicClock.nanoseconds()
        let result = Result { () throws(E) -> T in try body() }
        return (result, Double(MonotonicClock.nanoseconds() &- start) / 1e6)
    }

    /// This process's peak resident set size so far, in bytes (VmHWM on Linux; 0 elsewhere).
    public static func peakRSS() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024
        }
        return 0
    }

    /// Resets the peak RSS counter so the next phase is measured alone (Linux ≥ 4.0).
    public static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}

/// A monotonic clock in nanoseconds: for intervals, never for wall time.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// `duration` in nanoseconds, 0 for negative durations.
    public static func nanoseconds(_ duration: Duration) -> UInt64 {
        let parts = duration.components
        guard parts.seconds >= 0, parts.attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(parts.seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : whole &+ UInt64(parts.attoseconds / 1_000_000_000)
    }
}
