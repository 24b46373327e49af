/// One finding of `tessera doctor`: what was checked on which backend, and how it went.
public struct BackendCheck: Sendable, Equatable, Encodable {
    public enum Status: String, Sendable, Encodable {
        case ok
        /// Works, but something deserves a look (an old server version, a risky setting).
        case warning
        /// Does not work: serving or loading would fail.
        case failed
    }

    /// The section of `tessera.yaml`: `registry`, `online_store`, `offline_store`, or `source <name>`.
    public var role: String
    /// What was checked: `connect`, `version`, `write`, …
    public var check: String
    public var status: Status
    /// What was found, or why it failed, in words a user can act on.
    public var detail: String
    /// How long the check's round trip took, when it measures one.
    public var milliseconds: Double?

    public init(role: String, check: String, status: Status, detail: String, milliseconds: Double? = nil) {
        self.role = role
        self.check = check
        self.status = status
        self.detail = detail
        self.milliseconds = milliseconds
    }
}

/// A backend that can check itself for `tessera doctor`: reachability, version,
/// permissions. Checks never change what the backend holds (a probe key it writes is removed).
public protocol BackendProbing {
    func probe(role: String) -> [BackendCheck]
}

/// The findings of one backend's probe, in order, with the connect check every probe starts with.
public struct BackendChecks: Sendable {
    public let role: String
    public private(set) var all: [BackendCheck] = []

    public init(role: String) { self.role = role }

    public mutating func add(
        _ check: String, _ status: BackendCheck.Status, _ detail: String, _ milliseconds: Double? = nil
    ) {
        all.append(BackendCheck(role: role, check: check, status: status, detail: detail, milliseconds: milliseconds))
    }

    /// Times `roundTrip` five times and records `connect`: ok with the median and `detail`,
    /// or failed with the first error. Whether the backend answered.
    public mutating func connect<E: Error & CustomStringConvertible>(
        _ detail: String, _ roundTrip: () throws(E) -> Void
    ) -> Bool {
        var times: [Double] = []
        for _ in 0..<5 {
            let (result, milliseconds) = Measure.timed(roundTrip)
            if case .failure(let error) = result {
                add("connect", .failed, error.description)
                return false
            }
            times.append(milliseconds)
        }
        times.sort()
        add("connect", .ok, detail + " (median of 5)", times[2])
        return true
    }
}
