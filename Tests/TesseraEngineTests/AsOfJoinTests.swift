import PropertyBased
import TesseraColumnar
import TesseraCore
import TesseraEngine
import TesseraOffline
import Testing

/// A small point-in-time case: entity rows (key, time) and feature rows (key, event, created).
struct JoinCase {
    var entityKeys: [Int64?]
    var entityTimes: [Int64?]
    var featureKeys: [Int64?]
    var events: [Int64?]
    var created: [Int64?]?
    var ttl: Int64
    var guardCreated: Bool

    static func column(_ values: [Int64?], timestamp: Bool = false) -> Column {
        let valid = Bitmap(values.map { $0 != nil })
        let data = values.map { $0 ?? 0 }
        return timestamp ? .timestamp(data, validity: valid) : .int64(data, validity: valid)
    }

    /// Tessera's engine.
    func run(threads: Int = 1) -> [Int] {
        let index = KeyIndex(keys: [JoinCase.column(entityKeys)])
        let sorted = AsOfJoin.SortedFeatures(
            featureGroups: index.lookup([JoinCase.column(featureKeys)]), groupCount: index.groupCount,
            eventTimes: JoinCase.column(events, timestamp: true),
            createdTimes: created.map { JoinCase.column($0, timestamp: true) }, threads: threads)
        return AsOfJoin.match(
            entityGroups: index.groupOfRow, entityTimes: JoinCase.column(entityTimes, timestamp: true),
            features: sorted,
            options: AsOfJoin.Options(
                ttl: TimeSpan(microseconds: ttl), createdNotAfterTime: guardCreated, threads: threads))
    }

    /// The streaming form: feature rows offered to the entity rows' timeline, in batches of
    /// `batch` rows (references continue across batches), by `threads` ranges of keys.
    func stream(threads: Int = 1, batch: Int) -> [Int] {
        let index = KeyIndex(keys: [JoinCase.column(entityKeys)])
        let timeline = EntityTimeline(
            entityGroups: index.groupOfRow, groupCount: index.groupCount,
            entityTimes: JoinCase.column(entityTimes, timestamp: true))
        let options = AsOfJoin.Options(
            ttl: TimeSpan(microseconds: ttl), createdNotAfterTime: guardCreated, threads: threads)
        var accumulator = AsOfAccumulator(timeline: timeline, options: options)
        var start = 0
        while start < featureKeys.count {
            let end = min(featureKeys.count, start + max(1, batch))
            let slice = start..<end
            accumulator.offer(
                groups: index.lookup([JoinCase.column(Array(featureKeys[slice]))]),
                eventTimes: JoinCase.column(Array(events[slice]), timestamp: true),
                createdTimes: created.map { JoinCase.column(Array($0[slice]), timestamp: true) }, referenceBase: start,
                timeline: timeline, threads: threads)
            start = end
        }
        return accumulator.reference
    }

    /// The rules, written plainly: scan every feature row for every entity row.
    func oracle() -> [Int] {
        entityKeys.indices.map { i in
            guard let key = entityKeys[i], let t = entityTimes[i] else { return -1 }
            var best = -1
            var bestKey: (Int64, Int64) = (0, 0)
            for j in featureKeys.indices {
                guard featureKeys[j] == key, let e = events[j] else { continue }
                let c = created?[j] ?? Int64.min
                if e > t { continue }
                if ttl > 0 && e < t - ttl { continue }
                if guardCreated && c > t { continue }
                if best < 0 || (e, c) >= bestKey {  // ">=": the later row wins a full tie
                    best = j
                    bestKey = (e, c)
                }
            }
            return best
        }
    }
}

@Suite struct AsOfJoinTests {
    @Test func greatestEventTimeNotAfterT() {
        let c = JoinCase(
            entityKeys: [1, 1, 1], entityTimes: [5, 10, 100], featureKeys: [1, 1, 1], events: [3, 10, 7],
            created: nil, ttl: 0, guardCreated: false)
        #expect(c.run() == [0, 1, 1])  // t == event is a match; the later event wins regardless of file order
    }

    @Test func tiesOnEventAreBrokenByGreatestCreatedNotFileOrder() {
        let c = JoinCase(
            entityKeys: [7], entityTimes: [50], featureKeys: [7, 7, 7], events: [40, 40, 40],
            created: [45, 49, 41], ttl: 0, guardCreated: false)
        #expect(c.run() == [1])
        let reversed = JoinCase(
            entityKeys: [7], entityTimes: [50], featureKeys: [7, 7, 7], events: [40, 40, 40],
            created: [41, 49, 45], ttl: 0, guardCreated: false)
        #expect(reversed.run() == [1])
    }

    @Test func ttlBoundIsInclusive() {
        let c = JoinCase(
            entityKeys: [1, 1, 1], entityTimes: [20, 21, 10], featureKeys: [1], events: [10], created: nil,
            ttl: 10, guardCreated: false)
        #expect(c.run() == [0, -1, 0])  // t - ttl == event is inside; one microsecond later is out
    }

    @Test func zeroTTLIsUnbounded() {
        let c = JoinCase(
            entityKeys: [1], entityTimes: [Int64(1) << 50], featureKeys: [1], events: [-5], created: nil, ttl: 0,
            guardCreated: false)
        #expect(c.run() == [0])
    }

    @Test func nullsAndUnknownKeysMatchNothing() {
        let c = JoinCase(
            entityKeys: [nil, 2, 3, 1], entityTimes: [10, 10, 10, nil], featureKeys: [nil, 2, 1],
            events: [5, nil, 5], created: nil, ttl: 0, guardCreated: false)
        #expect(c.run() == [-1, -1, -1, -1])
    }

    @Test func duplicateEntityRowsEachGetTheirMatch() {
        let c = JoinCase(
            entityKeys: [4, 4, 4], entityTimes: [9, 9, 2], featureKeys: [4, 4], events: [1, 8], created: nil,
            ttl: 0, guardCreated: false)
        #expect(c.run() == [1, 1, 0])
    }

    @Test func createdGuardSkipsBackfilledRows() {
        // Row 1 is newer by event time but was written after t: excluded with the guard.
        let c = JoinCase(
            entityKeys: [1], entityTimes: [100], featureKeys: [1, 1], events: [80, 90], created: [85, 150],
            ttl: 0, guardCreated: true)
        #expect(c.run() == [0])
        var unguarded = c
        unguarded.guardCreated = false
        #expect(unguarded.run() == [1])
    }

    @Test func emptyInputs() {
        #expect(
            JoinCase(
                entityKeys: [], entityTimes: [], featureKeys: [1], events: [1], created: nil, ttl: 0,
                guardCreated: false
            ).run() == [])
        #expect(
            JoinCase(
                entityKeys: [1, 2], entityTimes: [1, 2], featureKeys: [], events: [], created: nil, ttl: 0,
                guardCreated: false
            ).run() == [-1, -1])
    }

    @Test func compositeAndStringKeys() {
        let entityKeys: [Column] = [.string(["a", "a", "b", "a"]), .int32([1, 2, 1, 1])]
        let featureKeys: [Column] = [.string(["a", "b", "a", "a"]), .int32([1, 1, 2, 1])]
        let index = KeyIndex(keys: entityKeys)
        #expect(index.groupCount == 3)
        #expect(index.groupOfRow == [0, 1, 2, 0])
        #expect(index.lookup(featureKeys) == [0, 2, 1, 0])
        let sorted = AsOfJoin.SortedFeatures(
            featureGroups: index.lookup(featureKeys), groupCount: index.groupCount,
            eventTimes: .timestamp([1, 2, 3, 4]), createdTimes: nil)
        let matched = AsOfJoin.match(
            entityGroups: index.groupOfRow, entityTimes: .timestamp([10, 10, 10, 3]), features: sorted,
            options: AsOfJoin.Options())
        #expect(matched == [3, 2, 1, 0])
    }

    /// Thousands of small random cases with heavy ties and nulls, against the plain oracle.
    @Test func randomCasesMatchTheOracle() async {
        await propertyCheck(count: 3000, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: UInt64(seed))
            let keys = Int64(rng.below(4) + 1)
            func maybe(_ v: Int64) -> Int64? { rng.below(10) == 0 ? nil : v }
            let n = rng.below(12)
            let m = rng.below(25)
            let withCreated = rng.below(2) == 0
            let c = JoinCase(
                entityKeys: (0..<n).map { _ in maybe(Int64(rng.below(Int(keys) + 1))) },
                entityTimes: (0..<n).map { _ in maybe(Int64(rng.below(12))) },
                featureKeys: (0..<m).map { _ in maybe(Int64(rng.below(Int(keys) + 1))) },
                events: (0..<m).map { _ in maybe(Int64(rng.below(12))) },
                created: withCreated ? (0..<m).map { _ in maybe(Int64(rng.below(15))) } : nil,
                ttl: Int64([0, 0, 1, 3, 5][rng.below(5)]), guardCreated: rng.below(3) == 0)
            #expect(c.run() == c.oracle(), "case: \(c)")
            #expect(c.run(threads: 2) == c.oracle(), "case (2 threads): \(c)")
            #expect(c.stream(batch: 1 + rng.below(30)) == c.oracle(), "case (streaming): \(c)")
        }
    }

    /// The streaming accumulator against the oracle on cases of many blocks of rows (it
    /// loads each block's slot ranges before offering its rows), over 1–3 threads.
    @Test func streamingOfferMatchesTheOracle() async {
        await propertyCheck(count: 150, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: UInt64(seed))
            let keys = 1 + rng.below(60)
            func maybe(_ v: Int64) -> Int64? { rng.below(20) == 0 ? nil : v }
            let n = rng.below(300)
            let m = rng.below(900)
            let c = JoinCase(
                entityKeys: (0..<n).map { _ in maybe(Int64(rng.below(keys + 1))) },
                entityTimes: (0..<n).map { _ in maybe(Int64(rng.below(40))) },
                featureKeys: (0..<m).map { _ in maybe(Int64(rng.below(keys + 1))) },
                events: (0..<m).map { _ in maybe(Int64(rng.below(40))) },
                created: rng.below(2) == 0 ? (0..<m).map { _ in maybe(Int64(rng.below(45))) } : nil,
                ttl: Int64([0, 0, 2, 10][rng.below(4)]), guardCreated: rng.below(3) == 0)
            let oracle = c.oracle()
            #expect(c.stream(threads: 1 + rng.below(3), batch: 1 + rng.below(400)) == oracle, "seed \(seed)")
        }
    }

    @Test func largeGroupsUseTheFullSort() {
        var rng = SplitMix(seed: 99)
        let m = 500
        let c = JoinCase(
            entityKeys: (0..<200).map { _ in Int64(rng.below(2)) },
            entityTimes: (0..<200).map { _ in Int64(rng.below(1000)) },
            featureKeys: (0..<m).map { _ in Int64(rng.below(2)) },
            events: (0..<m).map { _ in Int64(rng.below(1000)) },
            created: (0..<m).map { _ in Int64(rng.below(5)) }, ttl: 100, guardCreated: false)
        #expect(c.run() == c.oracle())
        #expect(c.run(threads: 2) == c.oracle())
    }
}

/// A tiny deterministic generator for test cases.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

@Suite struct KeyIndexLayoutTests {
    /// Dense keys use a direct table, sparse ones the hash table: both must give the same matches.
    @Test func sparseAndDenseKeysGiveTheSameResult() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix(seed: UInt64(seed))
            let n = rng.below(30)
            let m = rng.below(60)
            func maybe(_ v: Int64) -> Int64? { rng.below(12) == 0 ? nil : v }
            let dense = JoinCase(
                entityKeys: (0..<n).map { _ in maybe(Int64(rng.below(9)) - 4) },
                entityTimes: (0..<n).map { _ in Int64(rng.below(20)) },
                featureKeys: (0..<m).map { _ in maybe(Int64(rng.below(12)) - 6) },
                events: (0..<m).map { _ in Int64(rng.below(20)) }, created: nil, ttl: Int64(rng.below(4)),
                guardCreated: false)
            var sparse = dense
            let spread: (Int64?) -> Int64? = { $0.map { $0 &* 1_000_000_007 &+ (1 << 40) } }
            sparse.entityKeys = dense.entityKeys.map(spread)
            sparse.featureKeys = dense.featureKeys.map(spread)
            #expect(dense.run() == sparse.run())
            #expect(dense.run() == dense.oracle())
        }
    }
}
