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
                                    for r in 0..<groups.count {
                                        let g32 = groups[r]
                                        if g32 < lowGroup || g32 >= highGroup { continue }
                                        if eventNullable && !eventTimes.isValid(r) { continue }
                                        let g = Int(g32)
                                        let e = events[r]
                                        var c = Int64.min
                                        if let createds, createdTimes?.isValid(r) ?? false { c = createds[r] }
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
                                                if best[i] < 0 || e > be || (e == be && c >= bestCreated[i]) {
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
                        }
                    }
                }
            }
        }
    }

}

extension AsOfAccumulator {
    /// Rewrites every chosen reference (after the rows they point at have been compacted).
    public mutating func remap(_ transform: (Int) -> Int) {
        for i in reference.indices where reference[i] >= 0 { reference[i] = transform(reference[i]) }
    }
}

/// The feature columns of rows that may still be chosen, addressed by reference.
///
/// Every batch read is kept until `compact` drops the rows no entity row points at any
/// more; so memory is bounded by the entity rows, not by the source's size.
struct RetainedRows {
    private(set) var chunks: [(base: Int, columns: [Column])] = []
    private(set) var rows = 0
    private var nextReference = 0

    /// Keeps a batch's feature columns; returns the reference of its first row.
    mutating func append(_ columns: [Column], count: Int) -> Int {
        let base = nextReference
        nextReference += count
        chunks.append((base, columns))
        rows += count
        return base
    }

    /// The position of `reference` in the chunks laid end to end.
    private func position(_ reference: Int, offsets: [Int]) -> Int {
        var lo = 0
        var hi = chunks.count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if chunks[mid].base <= reference { lo = mid } else { hi = mid }
        }
        return offsets[lo] + (reference - chunks[lo].base)
    }

    private var offsets: [Int] {
        var out = [0]
        for chunk in chunks { out.append(out[out.count - 1] + (chunk.columns.first?.count ?? 0)) }
        return out
    }

    /// Column `k` at `references` (-1: null).
    func take(column k: Int, type: ValueType, _ references: [Int]) throws -> Column {
        guard !chunks.isEmpty else { return Column(nulls: type, count: references.count) }
        let offsets = self.offsets
        let positions = references.map { $0 < 0 ? -1 : position($0, offsets: offsets) }
        return try Column.take(from: chunks.map { $0.columns[k] }, positions)
    }

    /// Keeps only the rows `accumulator` points at, and renumbers its references.
    mutating func compact(_ accumulator: inout AsOfAccumulator, types: [ValueType]) throws {
        var live: [Int] = []
        for reference in accumulator.reference where reference >= 0 { live.append(reference) }
        live.sort()
        var unique: [Int] = []
        unique.reserveCapacity(live.count)
        for reference in live where unique.last != reference { unique.append(reference) }
        let columns = try types.indices.map { try take(column: $0, type: types[$0], unique) }
        let base = nextReference
        nextReference += unique.count
        chunks = [(base, columns)]
        rows = unique.count
        accumulator.remap { old in
            var lo = 0
            var hi = unique.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if unique[mid] < old { lo = mid + 1 } else { hi = mid }
            }
            return base + lo
        }
    }
}
