import Foundation
import TesseraColumnar
import TesseraCore

/// The point-in-time ("as-of") match between entity rows and feature rows, by Feast's rules.
///
/// For each entity row (key group `g`, time `t`) the candidates are the feature rows of
/// group `g` with `event <= t` and, when `ttl > 0`, `event >= t - ttl`. The chosen one has
/// the greatest event time, then the greatest created time; rows equal in both are
/// resolved in favour of the later row in input order, so results are deterministic.
/// With `createdNotAfterTime` a candidate must also have `created <= t`.
public enum AsOfJoin {
    public struct Options: Sendable {
        /// `0` means no lower bound.
        public var ttl: TimeSpan
        /// Also require `created <= t` (values backfilled after `t` do not leak into training).
        public var createdNotAfterTime: Bool
        /// Worker threads for the sorting and matching phases.
        public var threads: Int

        public init(ttl: TimeSpan = .zero, createdNotAfterTime: Bool = false, threads: Int = 1) {
            self.ttl = ttl
            self.createdNotAfterTime = createdNotAfterTime
            self.threads = max(1, threads)
        }
    }

    /// Feature rows grouped by key and sorted by (event, created, row) inside each group.
    public struct SortedFeatures: Sendable {
        /// Per group `g`, its rows are positions `start[g] ..< start[g + 1]`.
        public let start: [Int]
        /// Per position: the feature row, its event time and its created time. `created` is
        /// empty when the rows have no created times (every one would be the same, and the
        /// array as large as `event`: 80 MB for 10M rows).
        public let row: [Int]
        public let event: [Int64]
        public let created: [Int64]

        /// Groups `featureGroups` (-1: skip the row) and sorts each group.
        ///
        /// - Parameters:
        ///   - eventTimes: microseconds; a null event time drops the row.
        ///   - createdTimes: microseconds, or `nil`; a null created time sorts first.
        public init(
            featureGroups: [Int32], groupCount: Int, eventTimes: Column, createdTimes: Column?, threads: Int = 1
        ) {
            let rows = featureGroups.count
            let events = eventTimes.int64Values ?? []
            let createds = createdTimes?.int64Values
            var counts = [Int](repeating: 0, count: groupCount + 1)
            let eventNullable = eventTimes.validity != nil
            for r in 0..<rows {
                let g = featureGroups[r]
                if g >= 0 && (!eventNullable || eventTimes.isValid(r)) { counts[Int(g) + 1] += 1 }
            }
            for g in 0..<groupCount { counts[g + 1] += counts[g] }
            let total = counts[groupCount]
            var cursor = counts
            var order = [Int](repeating: 0, count: total)
            var event = [Int64](repeating: 0, count: total)
            var created = [Int64](repeating: Int64.min, count: createdTimes == nil ? 0 : total)
            featureGroups.withUnsafeBufferPointer { groups in
                order.withUnsafeMutableBufferPointer { o in
                    event.withUnsafeMutableBufferPointer { e in
                        created.withUnsafeMutableBufferPointer { c in
                            for r in 0..<rows {
                                let g = Int(groups[r])
                                if g < 0 || (eventNullable && !eventTimes.isValid(r)) { continue }
                                let p = cursor[g]
                                cursor[g] = p + 1
                                o[p] = r
                                e[p] = events[r]
                                if let createds, createdTimes?.isValid(r) ?? false { c[p] = createds[r] }
                            }
                        }
                    }
                }
            }
            let starts = counts
            // Sort each group by (event, created); rows entered in ascending order, so an
            // insertion sort that moves only strictly greater pairs keeps equal pairs in row order.
            let chunks = Parallel.chunks(count: groupCount, threads: threads)
            order.withUnsafeMutableBufferPointer { o in
                event.withUnsafeMutableBufferPointer { e in
                    created.withUnsafeMutableBufferPointer { c in
                        let (po, pe, pc) = (UnsafeSendable(o), UnsafeSendable(e), UnsafeSendable(c))
                        Parallel.forEach(chunks) { range in
                            for g in range {
                                if pc.value.isEmpty {
                                    AsOfJoin.sortGroup(po.value, pe.value, starts[g], starts[g + 1])
                                } else {
                                    AsOfJoin.sortGroup(po.value, pe.value, pc.value, starts[g], starts[g + 1])
                                }
                            }
                        }
                    }
                }
            }
            self.start = starts
            self.row = order
            self.event = event
            self.created = created
        }
    }

    static func sortGroup(
        _ o: UnsafeMutableBufferPointer<Int>, _ e: UnsafeMutableBufferPointer<Int64>,
        _ c: UnsafeMutableBufferPointer<Int64>, _ lo: Int, _ hi: Int
    ) {
        let n = hi - lo
        if n < 2 { return }
        if n <= 32 {
            for i in (lo + 1)..<hi {
                let (ko, ke, kc) = (o[i], e[i], c[i])
                var j = i - 1
                while j >= lo && LatestWins.precedes((ke, kc, ko), (e[j], c[j], o[j])) {
                    o[j + 1] = o[j]
                    e[j + 1] = e[j]
                    c[j + 1] = c[j]
                    j -= 1
                }
                o[j + 1] = ko
                e[j + 1] = ke
                c[j + 1] = kc
            }
            return
        }
        var items = (lo..<hi).map { (e[$0], c[$0], o[$0]) }
        items.sort { LatestWins.precedes($0, $1) }
        for (k, item) in items.enumerated() {
            e[lo + k] = item.0
            c[lo + k] = item.1
            o[lo + k] = item.2
        }
    }

    /// `sortGroup` for rows without created times: by (event, row).
    static func sortGroup(
        _ o: UnsafeMutableBufferPointer<Int>, _ e: UnsafeMutableBufferPointer<Int64>, _ lo: Int, _ hi: Int
    ) {
        let n = hi - lo
        if n < 2 { return }
        if n <= 32 {
            for i in (lo + 1)..<hi {
                let (ko, ke) = (o[i], e[i])
                var j = i - 1
                while j >= lo && (ke, ko) < (e[j], o[j]) {
                    o[j + 1] = o[j]
                    e[j + 1] = e[j]
                    j -= 1
                }
                o[j + 1] = ko
                e[j + 1] = ke
            }
            return
        }
        var items = (lo..<hi).map { (e[$0], o[$0]) }
        items.sort { $0 < $1 }
        for (k, item) in items.enumerated() {
            e[lo + k] = item.0
            o[lo + k] = item.1
        }
    }

    /// For each entity row, the chosen feature row, or -1 when there is none.
    ///
    /// - Parameters:
    ///   - entityGroups: each entity row's key group (-1: null or unknown key).
    ///   - entityTimes: each entity row's time; a null time matches nothing.
    /// - Complexity: O(entity rows × log(rows per key)).
    public static func match(
        entityGroups: [Int32], entityTimes: Column, features: SortedFeatures, options: Options
    ) -> [Int] {
        let rows = entityGroups.count
        var out = [Int](repeating: -1, count: rows)
        let times = entityTimes.int64Values ?? []
        let ttl = options.ttl.microseconds
        // Without created times no row was written after any time.
        let guardCreated = options.createdNotAfterTime && !features.created.isEmpty
        let timeNullable = entityTimes.validity != nil
        let chunks = Parallel.chunks(count: rows, threads: options.threads, minimum: 65_536)
        out.withUnsafeMutableBufferPointer { o in
            let po = UnsafeSendable(o)
            Parallel.forEach(chunks) { range in
                features.start.withUnsafeBufferPointer { start in
                    features.event.withUnsafeBufferPointer { ev in
                        features.created.withUnsafeBufferPointer { cr in
                            features.row.withUnsafeBufferPointer { fr in
                                for i in range {
                                    let g = Int(entityGroups[i])
                                    if g < 0 || (timeNullable && !entityTimes.isValid(i)) { continue }
                                    let t = times[i]
                                    let lo = start[g]
                                    var hi = start[g + 1]
                                    // Upper bound: first position with event > t.
                                    var a = lo
                                    while a < hi {
                                        let mid = (a + hi) >> 1
                                        if ev[mid] <= t { a = mid + 1 } else { hi = mid }
                                    }
                                    var p = a - 1
                                    let floor = ttl > 0 ? t &- ttl : Int64.min
                                    if guardCreated {
                                        while p >= lo && ev[p] >= floor && cr[p] > t { p -= 1 }
                                    }
                                    if p >= lo && ev[p] >= floor { po.value[i] = fr[p] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
