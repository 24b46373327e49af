import TesseraColumnar
import TesseraCore

/// Entity rows grouped by key and sorted by time: the build side of the streaming as-of join.
///
/// With it, each feature row finds the few entity rows it can serve (same key, time in
/// `[event, event + ttl]`) and offers itself to them, so feature rows are never copied or
/// sorted. `AsOfJoin.match` over sorted features is the fallback when a key has so many
/// entity rows that offering would cost more than sorting.
public struct EntityTimeline: Sendable {
    /// Per group `g`, its entity rows are positions `start[g] ..< start[g + 1]`.
    public let start: [Int32]
    /// Entity times and rows, by (group, time, row).
    public let times: [Int64]
    public let rows: [Int32]
    /// The largest number of entity rows of one key.
    public let widestGroup: Int
    public let entityRows: Int

    public init(entityGroups: [Int32], groupCount: Int, entityTimes: Column) {
        let n = entityGroups.count
        let values = entityTimes.int64Values ?? []
        var counts = [Int32](repeating: 0, count: groupCount + 1)
        for i in 0..<n where entityGroups[i] >= 0 && entityTimes.isValid(i) { counts[Int(entityGroups[i]) + 1] += 1 }
        var widest: Int32 = 0
        for g in 0..<groupCount {
            widest = max(widest, counts[g + 1])
            counts[g + 1] += counts[g]
        }
        var cursor = counts
        let total = Int(counts[groupCount])
        var times = [Int64](repeating: 0, count: total)
        var rows = [Int32](repeating: 0, count: total)
        for i in 0..<n where entityGroups[i] >= 0 && entityTimes.isValid(i) {
            let g = Int(entityGroups[i])
            let p = Int(cursor[g])
            cursor[g] += 1
            times[p] = values[i]
            rows[p] = Int32(i)
        }
        // Rows entered in ascending order; an insertion sort on time keeps equal times in row order.
        for g in 0..<groupCount {
            let lo = Int(counts[g])
            let hi = Int(counts[g + 1])
            if hi - lo < 2 { continue }
            if hi - lo > 32 {
                var items = (lo..<hi).map { (times[$0], rows[$0]) }
                items.sort { $0 < $1 }
                for (k, item) in items.enumerated() {
                    times[lo + k] = item.0
                    rows[lo + k] = item.1
                }
                continue
            }
            for i in (lo + 1)..<hi {
                let (t, r) = (times[i], rows[i])
                var j = i - 1
                while j >= lo && times[j] > t {
                    times[j + 1] = times[j]
                    rows[j + 1] = rows[j]
                    j -= 1
                }
                times[j + 1] = t
                rows[j + 1] = r
            }
        }
        self.start = counts
        self.times = times
        self.rows = rows
        self.widestGroup = Int(widest)
        self.entityRows = n
    }

    /// Whether offering feature rows to entity rows is cheap: every key has few entity rows.
    public var suitsStreaming: Bool { widestGroup <= 64 }
}

/// The best candidate so far for every entity row, fed feature rows batch by batch.
public struct AsOfAccumulator: Sendable {
    /// Per entity row: the chosen feature row's reference (-1: none yet), event and created times.
    public private(set) var reference: [Int]
    private var event: [Int64]
    private var created: [Int64]
    private let ttl: Int64
    private let guardCreated: Bool

    public init(entityRows: Int, options: AsOfJoin.Options) {
        reference = [Int](repeating: -1, count: entityRows)
        event = [Int64](repeating: Int64.min, count: entityRows)
        created = [Int64](repeating: Int64.min, count: entityRows)
        ttl = options.ttl.microseconds
        guardCreated = options.createdNotAfterTime
    }

    /// Offers feature rows (`groups` from `KeyIndex.lookup`, -1 to skip) to the entity rows they can
    /// serve. Row `r` is known as `referenceBase + r`; references must grow with input order, so that
    /// a later row wins a full tie. With `threads > 1` each thread takes a range of key groups: an
    /// entity row belongs to one group, so the threads write disjoint slots.
    public mutating func offer(
        groups: [Int32], eventTimes: Column, createdTimes: Column?, referenceBase: Int, timeline: EntityTimeline,
        threads: Int = 1
    ) {
        let events = eventTimes.int64Values ?? []
        let createds = createdTimes?.int64Values
        let eventNullable = eventTimes.validity != nil
        let ttl = self.ttl
        let guardCreated = self.guardCreated
        let groupCount = timeline.start.count - 1
        let parts = max(1, min(threads, 8))
        let bounds = (0...parts).map { Int32(groupCount * $0 / parts) }
        reference.withUnsafeMutableBufferPointer { bestBuffer in
            event.withUnsafeMutableBufferPointer { eventBuffer in
                created.withUnsafeMutableBufferPointer { createdBuffer in
                    let shared = UnsafeSendable((bestBuffer, eventBuffer, createdBuffer))
                    Parallel.forEach((0..<parts).map { $0..<($0 + 1) }) { part in
                        let (best, bestEvent, bestCreated) = shared.value
                        let lowGroup = bounds[part.lowerBound]
                        let highGroup = bounds[part.lowerBound + 1]
                        timeline.start.withUnsafeBufferPointer { start in
                            timeline.times.withUnsafeBufferPointer { times in
                                timeline.rows.withUnsafeBufferPointer { rows in
                                    groups.withUnsafeBufferPointer { groupOf in
                                        events.withUnsafeBufferPointer { eventOf in
                                            AsOfAccumulator.offerRange(
                                                groupOf: groupOf, eventOf: eventOf, eventTimes: eventTimes,
                                                eventNullable: eventNullable, createds: createds,
                                                createdTimes: createdTimes, referenceBase: referenceBase,
                                                start: start, times: times, rows: rows, best: best,
                                                bestEvent: bestEvent, bestCreated: bestCreated, ttl: ttl,
                                                guardCreated: guardCreated, groups: lowGroup..<highGroup)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The inner loop of `offer` over raw buffers, for one thread's range of groups.
    @inline(__always)
    private static func offerRange(
        groupOf: UnsafeBufferPointer<Int32>, eventOf: UnsafeBufferPointer<Int64>, eventTimes: Column,
        eventNullable: Bool, createds: [Int64]?, createdTimes: Column?, referenceBase: Int,
        start: UnsafeBufferPointer<Int32>, times: UnsafeBufferPointer<Int64>, rows: UnsafeBufferPointer<Int32>,
        best: UnsafeMutableBufferPointer<Int>, bestEvent: UnsafeMutableBufferPointer<Int64>,
        bestCreated: UnsafeMutableBufferPointer<Int64>, ttl: Int64, guardCreated: Bool, groups: Range<Int32>
    ) {
        let createdNullable = createdTimes?.validity != nil
        let empty: [Int64] = []
        (createds ?? empty).withUnsafeBufferPointer { createdOf in
            let hasCreated = createds != nil
            for r in 0..<groupOf.count {
                let g32 = groupOf[r]
                if g32 < groups.lowerBound || g32 >= groups.upperBound { continue }
                if eventNullable && !eventTimes.isValid(r) { continue }
                let g = Int(g32)
                let e = eventOf[r]
                var c = Int64.min
                if hasCreated && (!createdNullable || (createdTimes?.isValid(r) ?? false)) { c = createdOf[r] }
                let ref = referenceBase + r
                var k = Int(start[g])
                let end = Int(start[g + 1])
                while k < end && times[k] < e { k += 1 }
                while k < end {
                    let t = times[k]
                    if ttl > 0 && t &- ttl > e { break }
                    if !(guardCreated && c > t) {
                        let i = Int(rows[k])
                        let be = bestEvent[i]
                        if best[i] < 0
                            || LatestWins.replaces(event: e, created: c, heldEvent: be, heldCreated: bestCreated[i])
                        {
                            best[i] = ref
                            bestEvent[i] = e
                            bestCreated[i] = c
                        }
                    }
                    k += 1
                }
            }
        }
    }

    /// Keeps only the rows of `retained` this accumulator points at, and renumbers its references.
    mutating func compact(_ retained: inout RetainedRows, types: [ValueType]) throws {
        try retained.compact(&reference, types: types)
    }
}
