import TesseraColumnar
import TesseraCore

/// The trips workload of the window-aggregation docs and benchmarks: raw trip events and
/// labelled driver events, the same values as `benchmarks/workload.py --trips`.
extension Workload {
    /// Rows of `trips`: N.
    public var tripRows: Int { rows }
    /// Distinct drivers of `trips`: N / 100 (about 100 trips per driver in 30 days).
    public var tripDrivers: Int { max(1, rows / 100) }
    /// Rows of `trip_labels`: N / 10.
    public var tripLabelRows: Int { max(1, rows / 10) }

    public static let tripsSchema = Schema([
        Field("trip_id", .int64, nullable: false),
        Field("driver_id", .int64, nullable: false),
        Field("rider_id", .int64, nullable: false),
        Field("event_timestamp", .timestamp, nullable: false),
        Field("fare", .float64, nullable: true),
        Field("distance_km", .float32, nullable: false),
        Field("status", .string, nullable: false),
    ])

    public static let tripLabelsSchema = Schema([
        Field("driver_id", .int64, nullable: false),
        Field("event_timestamp", .timestamp, nullable: false),
        Field("label", .int64, nullable: false),
    ])

    @inline(__always)
    func tripDriver(_ row: UInt64) -> Int64 { Int64(Workload.random(seed, 31, row) % UInt64(tripDrivers)) }

    /// Trips are in event order: trip i starts `⌊i · 30 days / N⌋` seconds after the start.
    @inline(__always)
    func tripTime(_ row: UInt64) -> Int64 {
        start + (Int64(row) * Int64(Workload.statsSpanSeconds)) / Int64(max(1, rows)) * 1_000_000
    }

    /// Rows `range` of `trips`; 1% of fares are null, 10% of trips are cancelled.
    public func trips(_ range: Range<Int>) -> RecordBatch {
        let n = range.count
        var ids = [Int64](repeating: 0, count: n)
        var drivers = [Int64](repeating: 0, count: n)
        var riders = [Int64](repeating: 0, count: n)
        var events = [Int64](repeating: 0, count: n)
        var fares = [Double](repeating: 0, count: n)
        var fareValid = Bitmap(count: n, value: true)
        var distances = [Float](repeating: 0, count: n)
        var status = BinaryData()
        let riderCount = UInt64(max(1, rows / 10))
        for k in 0..<n {
            let row = UInt64(range.lowerBound + k)
            ids[k] = Int64(row)
            drivers[k] = tripDriver(row)
            riders[k] = Int64(Workload.random(seed, 32, row) % riderCount)
            events[k] = tripTime(row)
            let r = Workload.random(seed, 33, row)
            fares[k] = Double(200 + (r >> 8) % 7800) / 100
            if r % 100 == 0 { fareValid[k] = false }
            distances[k] = Float(100 + Workload.random(seed, 34, row) % 29900) / 1000
            status.append(Workload.random(seed, 35, row) % 10 == 0 ? "cancelled" : "completed")
        }
        let columns: [Column] = [
            .int64(ids), .int64(drivers), .int64(riders), .timestamp(events),
            Column(type: .float64, data: .float64(fares), validity: fareValid), .float32(distances),
            Column(type: .string, data: .binary(status), validity: nil),
        ]
        return (try? RecordBatch(schema: Workload.tripsSchema, columns: columns))
            ?? RecordBatch(empty: Workload.tripsSchema)
    }

    /// Rows `range` of `trip_labels`: one row in five labels a trip (its driver, at its
    /// time), so a window that counted the event at t would count that trip.
    public func tripLabels(_ range: Range<Int>) -> RecordBatch {
        let n = range.count
        var drivers = [Int64](repeating: 0, count: n)
        var events = [Int64](repeating: 0, count: n)
        var labels = [Int64](repeating: 0, count: n)
        let others = UInt64(max(1, tripDrivers * 11 / 10))
        for k in 0..<n {
            let row = UInt64(range.lowerBound + k)
            if Workload.random(seed, 41, row) % 5 == 0 {
                let trip = Workload.random(seed, 42, row) % UInt64(max(1, rows))
                drivers[k] = tripDriver(trip)
                events[k] = tripTime(trip)
            } else {
                drivers[k] = Int64(Workload.random(seed, 43, row) % others)
                events[k] = start + Int64(Workload.random(seed, 44, row) % Workload.entitySpanSeconds) * 1_000_000
            }
            labels[k] = Int64(Workload.random(seed, 45, row) & 1)
        }
        let columns: [Column] = [.int64(drivers), .timestamp(events), .int64(labels)]
        return (try? RecordBatch(schema: Workload.tripLabelsSchema, columns: columns))
            ?? RecordBatch(empty: Workload.tripLabelsSchema)
    }
}
