import Foundation
import Synchronization
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraOnlineSQLite
import TesseraSQLite
import TesseraServer
import TesseraTesting
import Testing

/// What the network can send a server exposed to it: each finding of the safety review, with a
/// test that failed before the fix.
@Suite struct ServerSafetyTests {
    /// The fixture's definitions plus a view with a `timestamp` feature over the push source.
    static var withTimestampFeature: Definitions {
        var definitions = OnlineFixture.definitions
        definitions.featureViews.append(
            FeatureView(
                name: "driver_events", entities: ["driver"], source: "driver_push",
                features: [Feature("created_at", .timestamp)], ttl: .zero))
        return definitions
    }

    static func push(_ created: String, event: String = "\"2026-01-09T12:00:00Z\"") -> String {
        #"{"push_source_name":"driver_push","df":{"driver_id":[77],"event_timestamp":[\#(event)],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[1],"created_at":[\#(created)]}}"#
    }

    /// A timestamp pushed as -9223372036854 seconds used to crash the server on the next read
    /// (the seconds conversion overflowed); now the push is refused, and a stored extreme
    /// value (from a file) is served without a crash.
    @Test func extremeTimestampsAreRefusedOrServedNeverCrash() async throws {
        let fixture = try ServerFixture(label: "timestamps", definitions: Self.withTimestampFeature)
        defer { fixture.directory.remove() }
        // Rows a file could hold: the extremes of Int64 microseconds.
        try fixture.server.lookup.store.write(
            try OnlineWriteBatch(
                view: "driver_events", joinKeys: [.int64([1, 2, 3])],
                eventTimestamps: .timestamp([Int64.min, Int64.max, 253_402_300_800_000_000]),
                features: [("created_at", .timestamp([Int64.min, Int64.max, -62_135_596_800_000_001]))]))
        let get = #"{"features":["driver_events:created_at"],"entities":{"driver_id":[1,2,3,77]}}"#
        let answers = try await FeatureServerTests.answers(
            fixture,
            [
                ("/push", Self.push("-9223372036854")), ("/push", Self.push("253402300800")),
                ("/push", Self.push(#""10000-01-01T00:00:00Z""#)), ("/push", Self.push("null", event: "-62135596801")),
                ("/push", Self.push("1767225600")), ("/get-online-features", get),
            ])
        for (index, answer) in answers.prefix(4).enumerated() {
            #expect(answer.0 == 400, "push \(index): \(answer)")
        }
        #expect(answers[0].1["field"] == .string("df.created_at[0]"))
        #expect(answers[0].1["message"]?.text.contains("outside years 1–9999") == true)
        #expect(answers[3].1["field"] == .string("df.event_timestamp[0]"))
        #expect(answers[4].0 == 200)
        #expect(answers[5].0 == 200, "\(answers[5])")
        guard case .array(let results)? = answers[5].1["results"], results.count == 2 else {
            Issue.record("no results: \(answers[5])")
            return
        }
        // Seconds rounded down, whatever the value: Int64.min µs is -9223372036855 s.
        #expect(
            results[1]["values"]
                == .array([
                    .int(-9_223_372_036_855), .int(9_223_372_036_854), .int(-62_135_596_801), .int(1_767_225_600),
                ]))
        guard case .array(let times)? = results[1]["event_timestamps"] else { return }
        #expect(times.count == 4)
        #expect(times[2] == .string("+10000-01-01T00:00:00Z"))
        #expect(times[0].text.hasPrefix("-"), "a negative year keeps its sign: \(times[0])")
    }

    /// Pushed event or created times too far ahead of now (a clock or unit error) are refused.
    @Test func pushesTooFarInTheFutureAreRefused() async throws {
        let fixture = try ServerFixture(label: "future")
        defer { fixture.directory.remove() }
        // The fixture's now is 2026-01-10T00:00:00Z; the default bound is a day.
        let soon =
            #"{"push_source_name":"driver_push","df":{"driver_id":[5],"event_timestamp":["2026-01-10T23:00:00Z"],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[1]}}"#
        let late =
            #"{"push_source_name":"driver_push","df":{"driver_id":[5],"event_timestamp":["2026-01-11T01:00:00Z"],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[1]}}"#
        let created =
            #"{"push_source_name":"driver_push","df":{"driver_id":[5],"event_timestamp":["2026-01-09T01:00:00Z"],"created":[1798761600],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[1]}}"#
        let answers = try await FeatureServerTests.answers(
            fixture, [("/push", soon), ("/push", late), ("/push", created)])
        #expect(answers[0].0 == 200)
        #expect(answers[1].0 == 400)
        #expect(answers[1].1["field"] == .string("df.event_timestamp[0]"))
        #expect(answers[1].1["message"]?.text.contains("later than this server accepts") == true)
        #expect(answers[2].0 == 400)
        #expect(answers[2].1["field"] == .string("df.created[0]"))
    }

    /// A 5 MB name used to cost seconds of edit-distance work and came back whole in the error.
    @Test func longNamesAreCheapAndNotEchoed() async throws {
        let fixture = try ServerFixture(label: "long-names")
        defer { fixture.directory.remove() }
        let long = String(repeating: "a", count: 5_000_000)
        let bodies = [
            ("/get-online-features", #"{"features":["\#(long):x"],"entities":{"driver_id":[1]}}"#),
            ("/get-online-features", #"{"features":["driver_hourly_stats:\#(long)"],"entities":{"driver_id":[1]}}"#),
            ("/get-online-features", #"{"feature_service":"\#(long)","entities":{"driver_id":[1]}}"#),
            ("/push", #"{"push_source_name":"\#(long)","df":{"driver_id":[1]}}"#),
            ("/push", #"{"push_source_name":"driver_push","to":"\#(long)","df":{"driver_id":[1]}}"#),
            ("/push", #"{"push_source_name":"driver_push","df":{"\#(long)":[1]}}"#),
        ]
        let texts = try await fixture.live { client in
            var out: [(Int, String)] = []
            for (uri, body) in bodies { out.append(try await client.post(uri, body)) }
            return out
        }
        for (index, (status, text)) in texts.enumerated() {
            #expect((400..<500).contains(status), "request \(index): \(status)")
            #expect(text.utf8.count < 2_000, "request \(index) echoed \(text.utf8.count) bytes")
            #expect(text.contains("bytes)") || !text.contains("aaaa"), "request \(index): \(text.prefix(300))")
        }
    }

    /// Requests over the configured limits of entity rows and features get 413 naming the limit.
    @Test func limitsOnKeysAndFeaturesPerRequest() async throws {
        let fixture = try ServerFixture(label: "limits") { configuration in
            configuration.maxEntityRows = 100
            configuration.maxFeatures = 2
        }
        defer { fixture.directory.remove() }
        let keys = (0..<101).map(String.init).joined(separator: ",")
        let manyKeys = #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[\#(keys)]}}"#
        let fewKeys = #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[1,2]}}"#
        let manyFeatures =
            #"{"features":["driver_hourly_stats:conv_rate","driver_hourly_stats:acc_rate","driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[1]}}"#
        let service = #"{"feature_service":"everything","entities":{"driver_id":[1],"customer_id":["c"]}}"#
        let pushRows = (0..<101).map { _ in "1" }.joined(separator: ",")
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[\#(pushRows)],"event_timestamp":[\#(pushRows)],"conv_rate":[\#(pushRows)],"acc_rate":[\#(pushRows)],"avg_daily_trips":[\#(pushRows)]}}"#
        let answers = try await FeatureServerTests.answers(
            fixture,
            [
                ("/get-online-features", manyKeys), ("/get-online-features", fewKeys),
                ("/get-online-features", manyFeatures), ("/get-online-features", service), ("/push", push),
            ])
        #expect(answers[0].0 == 413)
        #expect(answers[0].1["message"]?.text.contains("at most 100") == true)
        #expect(answers[1].0 == 200)
        #expect(answers[2].0 == 413)
        #expect(answers[2].1["message"]?.text.contains("at most 2") == true)
        #expect(answers[3].0 == 413)
        #expect(answers[4].0 == 413)
        #expect(answers[4].1["field"] == .string("df"))
    }

    /// Request bodies must be valid UTF-8 (RFC 8259); they used to be repaired silently.
    @Test func invalidUTF8IsRefused() async throws {
        let fixture = try ServerFixture(label: "utf8")
        defer { fixture.directory.remove() }
        let prefix = Array(#"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[1]},"x":""#.utf8)
        let cases: [[UInt8]] = [
            prefix + [0xFF] + Array("\"}".utf8),  // not a UTF-8 byte
            prefix + [0xC3] + Array("\"}".utf8),  // truncated sequence
            prefix + [0xED, 0xA0, 0x80] + Array("\"}".utf8),  // an encoded surrogate
            prefix + [0xC0, 0xAF] + Array("\"}".utf8),  // overlong
            prefix + Array("é\\n\"}".utf8),  // valid, with an escape after it
        ]
        let answers = try await fixture.live { client in
            var out: [(Int, String)] = []
            for body in cases { out.append(try await client.post("/get-online-features", bytes: body)) }
            return out
        }
        for (status, text) in answers.prefix(4) {
            #expect(status == 400, "\(text)")
            #expect(text.contains("malformed_json") && text.contains("UTF-8"), "\(text)")
        }
        #expect(answers[4].0 == 200, "\(answers[4].1)")
    }

    /// Event loops never wait for the store: while slow lookups hold a connection each (more
    /// connections than event loops), a lookup of another key on another connection is
    /// answered at once. Before, lookups ran on the event loops, so two slow ones stalled all.
    /// The clients are raw sockets on their own threads, so nothing here needs Swift's pool.
    @Test func slowStoreReadsDoNotBlockTheEventLoops() async throws {
        let slow = SlowStoreFactory()
        let backends = Backends(
            registries: Backends.standard.registries, onlineStores: [slow],
            offlineEngines: Backends.standard.offlineEngines)
        let fixture = try ServerFixture(label: "slow", configure: { $0.readThreads = 8 }, backends: backends)
        defer { fixture.directory.remove() }
        slow.slowKey.withLock { $0 = EntityKey(int64: 666) }
        let slowBody = #"{"features":["driver_hourly_stats:conv_rate"],"entities":{"driver_id":[666]}}"#
        let fastBody = #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[1001]}}"#
        // The whole exchange on plain threads: Swift's pool is shared with other tests, which may hold it.
        let finished = try await fixture.live { client in
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Recorder, any Error>) in
                Thread {
                    let finished = Recorder()
                    let group = DispatchGroup()
                    for _ in 0..<4 {
                        group.enter()
                        Thread {
                            let text = try? PipeliningTests.exchange(
                                port: client.port, PipeliningTests.post("/get-online-features", slowBody),
                                expectedResponses: 1)
                            finished.add(text?.hasPrefix("HTTP/1.1 200") == true ? "slow" : "slow failed")
                            group.leave()
                        }.start()
                    }
                    Thread.sleep(forTimeInterval: 0.3)
                    let text = try? PipeliningTests.exchange(
                        port: client.port, PipeliningTests.post("/get-online-features", fastBody), expectedResponses: 1)
                    finished.add(text?.contains(#""values":[10]"#) == true ? "fast" : "fast failed")
                    group.wait()
                    continuation.resume(returning: finished)
                }.start()
            }
        }
        #expect(finished.items.first == "fast", "\(finished.items)")
    }

    /// A push to a source that feeds two views is one atomic write of both.
    @Test func aPushWritesEveryFedViewInOneAtomicWrite() async throws {
        var definitions = OnlineFixture.definitions
        definitions.featureViews.append(
            FeatureView(
                name: "driver_rates", entities: ["driver"], source: "driver_push",
                features: [Feature("conv_rate", .float32)], ttl: .days(2)))
        let slow = SlowStoreFactory()
        let backends = Backends(
            registries: Backends.standard.registries, onlineStores: [slow],
            offlineEngines: Backends.standard.offlineEngines)
        let fixture = try ServerFixture(label: "atomic", definitions: definitions, backends: backends)
        defer { fixture.directory.remove() }
        slow.writes.withLock { $0 = [] }
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[9],"event_timestamp":["2026-01-09T12:00:00Z"],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[1]}}"#
        let answers = try await FeatureServerTests.answers(fixture, [("/push", push)])
        #expect(answers[0].0 == 200)
        #expect(slow.writes.withLock { $0 } == [["driver_hourly_stats", "driver_rates"]])
    }
}

/// The embedded store, with reads that can be made slow and a record of write calls.
final class SlowStoreFactory: OnlineStoreFactory, Sendable {
    /// Reads of this key take 3 s.
    let slowKey = Mutex<EntityKey?>(nil)
    let writes = Mutex<[[String]]>([])
    private let base = SQLiteOnlineStoreFactory()

    var type: String { "sqlite" }
    var summary: String { "test" }
    var options: [BackendOption] { base.options }

    func makeStore(_ settings: BackendSettings) throws(OnlineStoreError) -> any OnlineStore {
        SlowStore(base: try base.makeStore(settings), factory: self)
    }

    struct SlowStore: OnlineStore {
        let base: any OnlineStore
        let factory: SlowStoreFactory

        func write(_ batches: [OnlineWriteBatch], states: [OnlineStateUpdate]) throws(OnlineStoreError)
            -> [OnlineWriteSummary]
        {
            factory.writes.withLock { $0.append(batches.map(\.view) + states.map(\.view)) }
            return try base.write(batches, states: states)
        }

        func readStates(view: String, keys: [EntityKey]) throws(OnlineStoreError) -> [[UInt8]?] {
            try base.readStates(view: view, keys: keys)
        }

        func stateCount(view: String) throws(OnlineStoreError) -> Int { try base.stateCount(view: view) }

        func readRecords(view: String, keys: [EntityKey], features: [String]) throws(OnlineStoreError)
            -> [OnlineRecord?]
        {
            if let slow = factory.slowKey.withLock({ $0 }), keys.contains(slow) { Thread.sleep(forTimeInterval: 3) }
            return try base.readRecords(view: view, keys: keys, features: features)
        }

        func dropView(_ view: String) throws(OnlineStoreError) { try base.dropView(view) }
        func rowCount(view: String) throws(OnlineStoreError) -> Int { try base.rowCount(view: view) }
        func viewNames() throws(OnlineStoreError) -> [String] { try base.viewNames() }
    }
}

/// Events in the order they happened, from many tasks.
final class Recorder: Sendable {
    private let events = Mutex<[String]>([])
    func add(_ event: String) { events.withLock { $0.append(event) } }
    var items: [String] { events.withLock { $0 } }
}

/// Another process holding the online store's write lock (a `tessera materialize` mid-batch)
/// delays pushes, never lookups.
@Suite struct WriteLockTests {
    @Test func aHeldWriteLockDelaysPushesNotLookups() async throws {
        let fixture = try ServerFixture(label: "write-lock")
        defer { fixture.directory.remove() }
        let path = fixture.directory.file(".tessera/online.db")
        let push =
            #"{"push_source_name":"driver_push","df":{"driver_id":[4242],"event_timestamp":["2026-01-09T12:00:00Z"],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[5]}}"#
        let lookup = #"{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[1001]}}"#
        let events = try await fixture.live { client in
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[String], any Error>) in
                Thread {
                    let recorder = Recorder()
                    // The other writer, on this thread only.
                    guard let other = try? SQLiteConnection(path: path, mode: .readWrite),
                        (try? other.execute("BEGIN IMMEDIATE")) != nil
                    else {
                        continuation.resume(returning: ["could not take the write lock"])
                        return
                    }
                    let group = DispatchGroup()
                    group.enter()
                    Thread {
                        // A lookup after the push on the same connection: it ends the exchange (JSON).
                        let text = try? PipeliningTests.exchange(
                            port: client.port,
                            PipeliningTests.post("/push", push) + PipeliningTests.post("/get-online-features", lookup),
                            expectedResponses: 2)
                        recorder.add(text?.hasPrefix("HTTP/1.1 200") == true ? "push" : "push failed: \(text ?? "")")
                        group.leave()
                    }.start()
                    Thread.sleep(forTimeInterval: 0.3)
                    let text = try? PipeliningTests.exchange(
                        port: client.port, PipeliningTests.post("/get-online-features", lookup), expectedResponses: 1)
                    recorder.add(text?.contains(#""values":[10]"#) == true ? "lookup" : "lookup failed")
                    Thread.sleep(forTimeInterval: 0.5)
                    recorder.add("release")
                    try? other.execute("COMMIT")
                    group.wait()
                    continuation.resume(returning: recorder.items)
                }.start()
            }
        }
        #expect(events == ["lookup", "release", "push"], "\(events)")
    }
}
