import TesseraColumnar
import TesseraCore

/// The reference workload (`driver_stats` and `entity_df`), generated deterministically.
///
/// Every value is a pure function of (seed, column, row): a counter-based
/// generator, so any slice of rows can be made on any core in any order, and
/// `benchmarks/workload.py` makes exactly the same values with numpy (the
/// benchmarks hand the identical table to pyarrow, DuckDB and Feast).
public struct Workload: Sendable {
    /// Rows of `driver_stats`.
    public var rows: Int
    public var seed: UInt64
    /// The first instant of the data, in microseconds; event times span 30 days from it.
    public var start: Int64

    public init(rows: Int, seed: UInt64 = 42, start: Int64 = Workload.defaultStart) {
        self.rows = rows
        self.seed = seed
        self.start = start
    }

    /// The named sizes of WORKLOAD.md.
    public static func named(_ name: String) -> Workload? {
        switch name.uppercased() {
        case "XS": Workload(rows: 100_000)
        case "S": Workload(rows: 1_000_000)
        case "M": Workload(rows: 10_000_000)
        case "L": Workload(rows: 100_000_000)
        default: nil
        }
    }

    /// Distinct drivers: N / 10 (at least 1).
    public var entities: Int { max(1, rows / 10) }
    /// Rows of `entity_df`: N / 10.
    public var entityRows: Int { max(1, rows / 10) }

    /// WORKLOAD.md's first instant: 2026-01-01T00:00:00Z, in microseconds.
    public static let defaultStart: Int64 = 1_767_225_600 * 1_000_000
    static let statsSpanSeconds: UInt64 = 30 * 86_400
    static let entitySpanSeconds: UInt64 = 31 * 86_400

    /// SplitMix64's finalizer over a (stream, row) counter.
    @inline(__always)
    public static func random(_ seed: UInt64, _ stream: UInt64, _ row: UInt64) -> UInt64 {
        var z = (row &* 0x9E37_79B9_7F4A_7C15) ^ ((seed &* 0x1000_0000_01B3 &+ stream) &* 0xD1B5_4A32_D192_ED03)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A float uniform in [0, 1) with 24 random bits (exact in float32).
    @inline(__always)
    static func unit(_ bits: UInt64) -> Float { Float(bits >> 40) * (1.0 / 16_777_216.0) }

    public static let statsSchema = Schema([
        Field("driver_id", .int64, nullable: false),
        Field("event_timestamp", .timestamp, nullable: false),
        Field("created", .timestamp, nullable: false),
        Field("conv_rate", .float32, nullable: false),
        Field("acc_rate", .float32, nullable: false),
        Field("avg_daily_trips", .int32, nullable: false),
    ])

    public static let entitySchema = Schema([
        Field("driver_id", .int64, nullable: false),
        Field("event_timestamp", .timestamp, nullable: false),
        Field("label", .int64, nullable: false),
    ])

    /// Rows `range` of `driver_stats`.
    public func driverStats(_ range: Range<Int>) -> RecordBatch {
        let n = range.count
        var ids = [Int64](repeating: 0, count: n)
        var events = [Int64](repeating: 0, count: n)
        var created = [Int64](repeating: 0, count: n)
        var conv = [Float](repeating: 0, count: n)
        var acc = [Float](repeating: 0, count: n)
        var trips = [Int32](repeating: 0, count: n)
        let e = UInt64(entities)
        for k in 0..<n {
            let row = UInt64(range.lowerBound + k)
            ids[k] = Int64(Workload.random(seed, 1, row) % e)
            let event = start + Int64(Workload.random(seed, 2, row) % Workload.statsSpanSeconds) * 1_000_000
            events[k] = event
            created[k] = event + Int64(Workload.random(seed, 3, row) % 61) * 1_000_000
            conv[k] = Workload.unit(Workload.random(seed, 4, row))
            acc[k] = Workload.unit(Workload.random(seed, 5, row))
            trips[k] = Int32(Workload.random(seed, 6, row) % 1000)
        }
        let columns: [Column] = [
            .int64(ids), .timestamp(events), .timestamp(created), .float32(conv), .float32(acc), .int32(trips),
        ]
        // The schema and the columns are built together above; they cannot disagree.
        return (try? RecordBatch(schema: Workload.statsSchema, columns: columns))
            ?? RecordBatch(empty: Workload.statsSchema)
    }

    /// Rows `range` of `entity_df`.
    public func entityDF(_ range: Range<Int>) -> RecordBatch {
        let n = range.count
        var ids = [Int64](repeating: 0, count: n)
        var events = [Int64](repeating: 0, count: n)
        var labels = [Int64](repeating: 0, count: n)
        let e = UInt64(entities) * 11 / 10
        for k in 0..<n {
            let row = UInt64(range.lowerBound + k)
            ids[k] = Int64(Workload.random(seed, 11, row) % max(1, e))
            events[k] = start + Int64(Workload.random(seed, 12, row) % Workload.entitySpanSeconds) * 1_000_000
            labels[k] = Int64(Workload.random(seed, 13, row) & 1)
        }
        let columns: [Column] = [.int64(ids), .timestamp(events), .int64(labels)]
        return (try? RecordBatch(schema: Workload.entitySchema, columns: columns))
            ?? RecordBatch(empty: Workload.entitySchema)
    }

    /// `driver_stats` in batches of `batchRows`, in row order.
    public func driverStatsBatches(batchRows: Int = 1 << 20) -> [Range<Int>] {
        stride(from: 0, to: rows, by: batchRows).map { $0..<min(rows, $0 + batchRows) }
    }
}
