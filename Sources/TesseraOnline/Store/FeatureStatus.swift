import TesseraColumnar
import TesseraCore

/// What a served value means, with Feast's names (`FieldStatus` in Feast's serving protocol).
public enum FeatureStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A stored, non-null value within the view's ttl.
    case present = "PRESENT"
    /// A stored row whose value for this feature is null.
    case nullValue = "NULL_VALUE"
    /// No row for the entity key (or the stored row predates the feature).
    case notFound = "NOT_FOUND"
    /// A stored row older than the view's ttl at the time of the read.
    case outsideMaxAge = "OUTSIDE_MAX_AGE"

    public var description: String { rawValue }
}

/// The one place where a stored record becomes served values and statuses. Ttl and nulls
/// are decided here for every backend, so no implementation can drift.
public enum OnlineStatusRules {
    /// Whether a row with event time `eventTime` is too old to serve at `now`.
    ///
    /// A `ttl` of zero never expires. A row exactly `ttl` old is still served, as in the
    /// point-in-time join (`event_ts >= ts - ttl`).
    @inlinable
    public static func isExpired(eventTime: Timestamp, ttl: TimeSpan, now: Timestamp) -> Bool {
        !ttl.isZero && eventTime < now - ttl
    }

    /// The value to serve and its status for one feature of one stored record.
    ///
    /// - Parameters:
    ///   - stored: the stored value; `nil` when the row does not hold this feature.
    ///   - expired: `isExpired` for the record.
    /// - Returns: the value (null unless `PRESENT`) and its status.
    @inlinable
    public static func serve(_ stored: ScalarValue?, expired: Bool) -> (ScalarValue, FeatureStatus) {
        guard let stored else { return (.null, .notFound) }
        if expired { return (.null, .outsideMaxAge) }
        return stored.isNull ? (.null, .nullValue) : (stored, .present)
    }
}
