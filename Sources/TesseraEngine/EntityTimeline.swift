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
///
/// Kept per timeline position, beside the entity row's time, rather than per entity row: a
/// feature row then reads its key's start and one run of slots (a cache line or two),
/// instead of the timeline, the entity row's number and three arrays indexed by entity rows
/// in request order, each a cache miss once the entity rows outgrow the caches.
public struct AsOfAccumulator: Sendable {
    struct Slot {
        var time: Int64
        /// The chosen feature row's reference (-1: none yet), event and created times.
        var best: Int
        var event: Int64
        var created: Int64
    }

    private var slots: [Slot]
    private let rowOfSlot: [Int32]
    private let entityRows: Int
    private let ttl: Int64
    private let guardCreated: Bool

    /// An accumulator for the entity rows of `timeline` (none when `nil`).
    public init(timeline: EntityTimeline?, options: AsOfJoin.Options) {
        entityRows = timeline?.entityRows ?? 0
        rowOfSlot = timeline?.rows ?? []
        slots = (timeline?.times ?? []).map { Slot(time: $0, best: -1, event: Int64.min, created: Int64.min) }
        ttl = options.ttl.microseconds
        guardCreated = options.createdNotAfterTime
    }

    /// Per entity row: the chosen feature row's reference (-1: none).
    public var reference: [Int] {
        var out = [Int](repeating: -1, count: entityRows)
        for (k, slot) in slots.enumerated() { out[Int(rowOfSlot[k])] = slot.best }
        return out
    }

    /// `reference`, leaving the accumulator empty: its slots are freed before the caller
    /// gathers the chosen rows (at L, 320 MB).
    public mutating func takeReferences() -> [Int] {
        let out = reference
        slots = []
        return out
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
        slots.withUnsafeMutableBufferPointer { slotBuffer in
            // Safe to share: each part writes only the slots of its own key groups.
            let shared = UnsafeSendable(slotBuffer)
            Parallel.forEach((0..<parts).map { $0..<($0 + 1) }) { part in
                let lowGroup = bounds[part.lowerBound]
                let highGroup = bounds[part.lowerBound + 1]
                timeline.start.withUnsafeBufferPointer { start in
                    groups.withUnsafeBufferPointer { groupOf in
                        events.withUnsafeBufferPointer { eventOf in
                            AsOfAccumulator.offerRange(
                                groupOf: groupOf, eventOf: eventOf, eventTimes: eventTimes,
                                eventNullable: eventNullable, createds: createds, createdTimes: createdTimes,
                                referenceBase: referenceBase, start: start, slots: shared.value, ttl: ttl,
                                guardCreated: guardCreated, groups: lowGroup..<highGroup)
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
        start: UnsafeBufferPointer<Int32>, slots: UnsafeMutableBufferPointer<Slot>, ttl: Int64, guardCreated: Bool,
        groups: Range<Int32>
    ) {
        let createdNullable = createdTimes?.validity != nil
        let empty: [Int64] = []
        (createds ?? empty).withUnsafeBufferPointer { createdOf in
            let hasCreated = createds != nil
            // Rows go in blocks: first every row's slot range and first slot time are loaded
            // (independent loads, so their cache misses overlap), then the rows are offered in
            // order from cache. One row at a time, each row waited on two misses in a chain.
            let block = 64
            withUnsafeTemporaryAllocation(of: (Int32, Int32).self, capacity: block) { ranges in
                withUnsafeTemporaryAllocation(of: Int64.self, capacity: block) { firsts in
                    var blockStart = 0
                    while blockStart < groupOf.count {
                        let blockEnd = min(groupOf.count, blockStart + block)
                        for r in blockStart..<blockEnd {
                            let g32 = groupOf[r]
                            var range: (Int32, Int32) = (0, 0)
                            if g32 >= groups.lowerBound && g32 < groups.upperBound
                                && !(eventNullable && !eventTimes.isValid(r))
                            {
                                range = (start[Int(g32)], start[Int(g32) + 1])
                            }
                            ranges[r - blockStart] = range
                        }
                        for j in 0..<(blockEnd - blockStart) {
                            firsts[j] = ranges[j].0 < ranges[j].1 ? slots[Int(ranges[j].0)].time : Int64.max
                        }
                        for r in blockStart..<blockEnd {
                            var k = Int(ranges[r - blockStart].0)
                            let end = Int(ranges[r - blockStart].1)
                            if k >= end { continue }
                            let e = eventOf[r]
                            var c = Int64.min
                            if hasCreated && (!createdNullable || (createdTimes?.isValid(r) ?? false)) {
                                c = createdOf[r]
                            }
                            let ref = referenceBase + r
                            if firsts[r - blockStart] < e {
                                k += 1
                                while k < end && slots[k].time < e { k += 1 }
                            }
                            while k < end {
                                let t = slots[k].time
                                if ttl > 0 && t &- ttl > e { break }
                                if !(guardCreated && c > t) {
                                    let slot = slots[k]
                                    if slot.best < 0
                                        || LatestWins.replaces(
                                            event: e, created: c, heldEvent: slot.event, heldCreated: slot.created)
                                    {
                                        slots[k].best = ref
                                        slots[k].event = e
                                        slots[k].created = c
                                    }
                                }
                                k += 1
                            }
                        }
                        blockStart = blockEnd
                    }
                }
            }
        }
    }

    /// Keeps only the rows of `retained` this accumulator points at, and renumbers its references.
    mutating func compact(_ retained: inout RetainedRows, types: [ValueType]) throws {
        guard let offset = MemoryLayout<Slot>.offset(of: \Slot.best) else { return }
        let count = slots.count
        try slots.withUnsafeMutableBytes { raw in
            try retained.compact(
                strided: raw.baseAddress.map { $0 + offset }, count: count, stride: MemoryLayout<Slot>.stride,
                types: types)
        }
    }
}
