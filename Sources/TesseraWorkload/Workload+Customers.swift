import TesseraColumnar
import TesseraCore

/// A second, richer table for the example repository: customer profiles with a
/// string column, an int64 count and floats, keyed by `customer_id`.
extension Workload {
    /// Distinct customers: N / 100 (at least 1).
    public var customers: Int { max(1, rows / 100) }
    /// Rows of `customer_profile`: N / 10.
    public var customerRows: Int { max(1, rows / 10) }

    public static let segments = ["standard", "premium", "business"]

    public static let customerSchema = Schema([
        Field("customer_id", .int64, nullable: false),
        Field("event_timestamp", .timestamp, nullable: false),
        Field("created", .timestamp, nullable: false),
        Field("current_balance", .float32, nullable: false),
        Field("lifetime_trip_count", .int64, nullable: false),
        Field("avg_passenger_count", .float32, nullable: false),
        Field("segment", .string, nullable: true),
    ])

    /// Rows `range` of `customer_profile`; about 2% of segments are null.
    public func customerProfile(_ range: Range<Int>) -> RecordBatch {
        let n = range.count
        var ids = [Int64](repeating: 0, count: n)
        var events = [Int64](repeating: 0, count: n)
        var created = [Int64](repeating: 0, count: n)
        var balance = [Float](repeating: 0, count: n)
        var trips = [Int64](repeating: 0, count: n)
        var passengers = [Float](repeating: 0, count: n)
        var segment = BinaryData()
        var valid = Bitmap(count: n, value: true)
        let c = UInt64(customers)
        for k in 0..<n {
            let row = UInt64(range.lowerBound + k)
            ids[k] = Int64(Workload.random(seed, 21, row) % c)
            let event = start + Int64(Workload.random(seed, 22, row) % Workload.statsSpanSeconds) * 1_000_000
            events[k] = event
            created[k] = event + Int64(Workload.random(seed, 23, row) % 61) * 1_000_000
            balance[k] = Workload.unit(Workload.random(seed, 24, row)) * 1000
            trips[k] = Int64(Workload.random(seed, 25, row) % 5000)
            passengers[k] = 1 + Workload.unit(Workload.random(seed, 26, row)) * 3
            let s = Workload.random(seed, 27, row) % 100
            if s < 2 {
                segment.appendEmpty()
                valid[k] = false
            } else {
                segment.append(Workload.segments[Int(s % 3)])
            }
        }
        let columns: [Column] = [
            .int64(ids), .timestamp(events), .timestamp(created), .float32(balance), .int64(trips),
            .float32(passengers), Column(type: .string, data: .binary(segment), validity: valid),
        ]
        return (try? RecordBatch(schema: Workload.customerSchema, columns: columns))
            ?? RecordBatch(empty: Workload.customerSchema)
    }

    public static let ridesSchema = Schema([
        Field("driver_id", .int64, nullable: false),
        Field("customer_id", .int64, nullable: false),
        Field("event_timestamp", .timestamp, nullable: false),
        Field("trip_completed", .int64, nullable: false),
        Field("fare_estimate", .float64, nullable: false),
    ])

    /// Labelled events for the example's training sets: `entity_df` plus a customer per ride
    /// and the fare the app estimated when it was requested (request data for on-demand features).
    public func rides(_ range: Range<Int>) -> RecordBatch {
        let base = entityDF(range)
        let c = UInt64(customers) * 11 / 10
        var ids = [Int64](repeating: 0, count: range.count)
        var fares = [Double](repeating: 0, count: range.count)
        for k in 0..<range.count {
            ids[k] = Int64(Workload.random(seed, 14, UInt64(range.lowerBound + k)) % max(1, c))
            // 5.00 to 79.99, in cents.
            fares[k] = Double(500 + Workload.random(seed, 15, UInt64(range.lowerBound + k)) % 7_500) / 100
        }
        let columns = [base.columns[0], .int64(ids), base.columns[1], base.columns[2], .float64(fares)]
        return (try? RecordBatch(schema: Workload.ridesSchema, columns: columns))
            ?? RecordBatch(empty: Workload.ridesSchema)
    }
}
