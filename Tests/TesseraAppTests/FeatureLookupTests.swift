import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOnline
import TesseraRegistry
import TesseraTesting
import Testing

@Suite struct FeatureLookupTests {
    /// 2026-01-10T00:00:00Z, the injected "now".
    static let now = Timestamp(seconds: 1_768_003_200)

    /// A fixture repository with drivers 1001 (fresh) and 1002 (3 days old) written.
    static func makeLookup(
        _ dir: TemporaryDirectory, interval: Duration = .seconds(1), config: String = "project: fixture\n"
    ) throws -> FeatureLookup {
        let root = try OnlineFixture.repository(in: dir, config: config)
        var configuration = FeatureLookup.Configuration()
        configuration.now = { FeatureLookupTests.now }
        configuration.registryCheckInterval = interval
        let lookup = try FeatureLookup.open(repository: root, configuration: configuration)
        let day: Int64 = 86_400_000_000
        try lookup.store.write(
            try OnlineWriteBatch(
                view: "driver_hourly_stats", joinKeys: [.int64([1001, 1002])],
                eventTimestamps: .timestamp([now.microseconds - day, now.microseconds - 3 * day]),
                features: [
                    ("conv_rate", .float32([0.5, 0.25])), ("acc_rate", .float32([0.75, 0.125])),
                    ("avg_daily_trips", .int32([10, 20])),
                ]))
        try lookup.store.write(
            try OnlineWriteBatch(
                view: "customer_profile", joinKeys: [.string(["c1"])], eventTimestamps: .timestamp([0]),
                features: [
                    ("current_balance", .float64([12.5])), ("name", .string(["Ana"])),
                    (
                        "tags",
                        Column(type: .list(.string), scalars: [.list([.string("vip")])])
                            ?? Column(empty: .list(.string))
                    ),
                    ("avg_daily_trips", .int64([3])),
                ]))
        return lookup
    }

    static func error(_ body: () throws(LookupError) -> Void) -> LookupError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    /// A store that calls back (Redis) answers without blocking exactly what the blocking
    /// path answers: values, statuses, event times, errors; aggregated views stay on the
    /// blocking path.
    @Test func callbackReadsAnswerAsBlockingReadsDo() async throws {
        let server = try RedisServerProcess()
        defer { server.stop() }
        let dir = try TemporaryDirectory("lookup-callback")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(
            dir,
            config:
                "project: fixture\nonline_store: {type: redis, url: \"redis://127.0.0.1:\(server.port)/0\", expire_keys: false}\n"
        )
        let requests = [
            LookupRequest(
                features: .references(["driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"]),
                entities: [("driver_id", [.int64(1001), .int64(1002), .int64(9)])]),
            LookupRequest(
                features: .references([
                    "driver_hourly_stats:acc_rate", "customer_profile:name", "customer_profile:tags",
                ]),
                entities: [("driver_id", [.int64(1002)]), ("customer_id", [.string("c1")])], fullFeatureNames: true),
            LookupRequest(features: .references(["driver_hourly_stats:nope"]), entities: [("driver_id", [.int64(1)])]),
        ]
        for request in requests {
            let blocking = Result { () throws(LookupError) in try lookup.onlineFeatures(request) }
            let called: Result<OnlineFeaturesResponse, LookupError>? = await withCheckedContinuation { continuation in
                let blockingNeeded = lookup.onlineFeatures(request) { continuation.resume(returning: $0) }
                if blockingNeeded != nil { continuation.resume(returning: nil) }
            }
            switch (blocking, called) {
            case (.success(let a), .success(let b)?): #expect(a == b)
            case (.failure(let a), .failure(let b)?): #expect(a.description == b.description)
            default: Issue.record("blocking \(blocking), callback \(String(describing: called))")
            }
        }
    }

    @Test func joinKeysComeFirstThenFeaturesWithStatusesAndTtl() throws {
        let dir = try TemporaryDirectory("lookup")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(dir)
        let response = try lookup.onlineFeatures(
            LookupRequest(
                features: .references(["driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"]),
                entities: [
                    ("driver_id", [.int64(1001), .int64(1002), .int64(5)]), ("unrelated", [.null, .null, .null]),
                ]))
        #expect(response.featureNames == ["driver_id", "conv_rate", "avg_daily_trips"])
        #expect(response.results[0].values == [.int64(1001), .int64(1002), .int64(5)])
        #expect(response.results[0].statuses == [.present, .present, .present])
        #expect(response.results[0].eventTimestamps == [nil, nil, nil])
        #expect(response.results[1].values == [.float32(0.5), .null, .null])
        #expect(response.results[1].statuses == [.present, .outsideMaxAge, .notFound])
        #expect(response.results[2].values == [.int32(10), .null, .null])
        #expect(response.results[1].eventTimestamps[0] == Self.now - .days(1))
        #expect(response.results[1].eventTimestamps[2] == nil)
    }

    @Test func featureServicesAndFullFeatureNames() throws {
        let dir = try TemporaryDirectory("lookup-service")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(dir)
        let quality = try lookup.onlineFeatures(
            LookupRequest(features: .service("driver_quality"), entities: [("driver_id", [.int64(1001)])]))
        #expect(quality.featureNames == ["driver_id", "conv_rate", "acc_rate"])
        let full = try lookup.onlineFeatures(
            LookupRequest(
                features: .service("driver_quality"), entities: [("driver_id", [.int64(1001)])], fullFeatureNames: true)
        )
        #expect(full.featureNames == ["driver_id", "driver_hourly_stats__conv_rate", "driver_hourly_stats__acc_rate"])
        // The service itself asks for full names; entities of two views, string keys.
        let everything = try lookup.onlineFeatures(
            LookupRequest(
                features: .service("everything"),
                entities: [("customer_id", [.string("c1")]), ("driver_id", [.int64(1001)])]))
        #expect(
            everything.featureNames == [
                "customer_id", "driver_id", "driver_hourly_stats__conv_rate", "driver_hourly_stats__acc_rate",
                "driver_hourly_stats__avg_daily_trips", "customer_profile__current_balance", "customer_profile__name",
                "customer_profile__tags", "customer_profile__avg_daily_trips",
            ])
        #expect(everything.vector(named: "customer_profile__tags")?.values == [.list([.string("vip")])])
    }

    @Test func featuresAreGroupedByViewInFirstAppearanceOrder() throws {
        let dir = try TemporaryDirectory("lookup-order")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(dir)
        let response = try lookup.onlineFeatures(
            LookupRequest(
                features: .references([
                    "customer_profile:name", "driver_hourly_stats:acc_rate", "customer_profile:current_balance",
                ]),
                entities: [("driver_id", [.int64(1001)]), ("customer_id", [.string("c1")])]))
        #expect(response.featureNames == ["driver_id", "customer_id", "name", "current_balance", "acc_rate"])
        #expect(response.vector(named: "name")?.values == [.string("Ana")])
    }

    @Test func badRequestsNameTheFieldAndTheReason() throws {
        let dir = try TemporaryDirectory("lookup-errors")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(dir)
        func attempt(
            _ features: LookupRequest.Features, _ entities: [(name: String, values: [ScalarValue])], full: Bool = false
        )
            -> LookupError?
        {
            Self.error { () throws(LookupError) in
                _ = try lookup.onlineFeatures(
                    LookupRequest(features: features, entities: entities, fullFeatureNames: full))
            }
        }
        let drivers: [(name: String, values: [ScalarValue])] = [("driver_id", [.int64(1)])]
        let unknownFeature = attempt(.references(["driver_hourly_stats:conv_rat"]), drivers)
        #expect(unknownFeature?.kind == .notFound)
        #expect(unknownFeature?.field == "features[0]")
        #expect(unknownFeature?.hint == "did you mean 'conv_rate'?")
        let unknownView = attempt(.references(["driver_hourly_stat:conv_rate"]), drivers)
        #expect(unknownView?.hint == "did you mean 'driver_hourly_stats'?")
        #expect(attempt(.references(["conv_rate"]), drivers)?.field == "features[0]")
        #expect(attempt(.service("driver_qualty"), drivers)?.hint == "did you mean 'driver_quality'?")
        let missing = attempt(.references(["driver_hourly_stats:conv_rate"]), [("driverid", [.int64(1)])])
        #expect(missing?.field == "entities")
        #expect(missing?.message.contains("driver_id") == true)
        #expect(missing?.hint == "did you mean 'driverid'?")
        let wrongType = attempt(
            .references(["driver_hourly_stats:conv_rate"]), [("driver_id", [.int64(1), .string("x")])])
        #expect(wrongType?.field == "entities.driver_id[1]")
        #expect(wrongType?.message.contains("int64") == true)
        let unequal = attempt(
            .references(["driver_customer:trips_together"]),
            [("driver_id", [.int64(1), .int64(2)]), ("customer_id", [.string("c")])])
        #expect(unequal?.field == "entities.customer_id")
        let collision = attempt(
            .references(["driver_hourly_stats:avg_daily_trips", "customer_profile:avg_daily_trips"]),
            [("driver_id", [.int64(1)]), ("customer_id", [.string("c")])])
        #expect(collision?.kind == .nameCollision)
        #expect(
            attempt(
                .references(["driver_hourly_stats:avg_daily_trips", "customer_profile:avg_daily_trips"]),
                [("driver_id", [.int64(1)]), ("customer_id", [.string("c")])], full: true) == nil)
        #expect(attempt(.references([]), drivers)?.field == "features")
        #expect(attempt(.references(["driver_hourly_stats:conv_rate"]), [])?.field == "entities")
    }

    @Test func aNewApplyIsPickedUpWithoutReopening() throws {
        let dir = try TemporaryDirectory("lookup-apply")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(dir, interval: .zero)
        #expect(lookup.catalog().version == 1)
        var next = OnlineFixture.definitions
        next.featureViews[0].features.append(Feature("rating", .float64))
        next.featureViews[0].ttl = .zero
        try OnlineFixture.apply(next, root: dir.path)
        let response = try lookup.onlineFeatures(
            LookupRequest(
                features: .references(["driver_hourly_stats:rating", "driver_hourly_stats:conv_rate"]),
                entities: [("driver_id", [.int64(1002)])]))
        #expect(lookup.catalog().version == 2)
        // The old row predates the feature; the ttl change makes the 3-day-old row servable.
        #expect(response.results[1].statuses == [.notFound])
        #expect(response.results[2].statuses == [.present])
    }

    @Test func pushesAreTypedCheckedAndWrittenNewestFirst() throws {
        let dir = try TemporaryDirectory("lookup-push")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(dir)
        let push = try lookup.preparePush(
            PushRequest(
                source: "driver_push",
                columns: [
                    ("driver_id", [.int64(1001), .int64(7)]),
                    ("event_timestamp", [.string("2026-01-09T12:00:00Z"), .int64(1_767_225_600)]),
                    ("conv_rate", [.float64(0.9), .int64(1)]), ("acc_rate", [.null, .float64(0.5)]),
                    ("avg_daily_trips", [.int64(5), .int64(6)]), ("ignored", [.bool(true), .bool(false)]),
                ]))
        #expect(push.views == ["driver_hourly_stats"])
        #expect(
            push.batch.schema.names == ["driver_id", "event_timestamp", "conv_rate", "acc_rate", "avg_daily_trips"])
        let summaries = try lookup.writeOnline(push)
        #expect(summaries["driver_hourly_stats"]?.written == 2)
        let response = try lookup.onlineFeatures(
            LookupRequest(
                features: .references(["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate"]),
                entities: [("driver_id", [.int64(1001), .int64(7)])]))
        #expect(response.results[1].values == [.float32(0.9), .null])
        #expect(response.results[2].statuses == [.nullValue, .outsideMaxAge])
        // An older push for 1001 changes nothing.
        let older = try lookup.preparePush(
            PushRequest(
                source: "driver_push",
                columns: [
                    ("driver_id", [.int64(1001)]), ("event_timestamp", [.string("2026-01-01T00:00:00Z")]),
                    ("conv_rate", [.float64(0.1)]), ("acc_rate", [.float64(0.1)]), ("avg_daily_trips", [.int64(1)]),
                ]))
        #expect(try lookup.writeOnline(older)["driver_hourly_stats"]?.skipped == 1)
        let errors: [LookupError?] = [
            Self.error { () throws(LookupError) in
                _ = try lookup.preparePush(PushRequest(source: "driver_psh", columns: [("driver_id", [.int64(1)])]))
            },
            Self.error { () throws(LookupError) in
                _ = try lookup.preparePush(PushRequest(source: "driver_stats", columns: [("driver_id", [.int64(1)])]))
            },
            Self.error { () throws(LookupError) in
                _ = try lookup.preparePush(
                    PushRequest(
                        source: "driver_push",
                        columns: [("driver_id", [.int64(1)]), ("event_timestamp", [.string("2026-01-01")])]))
            },
            Self.error { () throws(LookupError) in
                _ = try lookup.preparePush(
                    PushRequest(
                        source: "driver_push",
                        columns: [
                            ("driver_id", [.int64(1)]), ("event_timestamp", [.string("yesterday")]),
                            ("conv_rate", [.float64(0.1)]), ("acc_rate", [.float64(0.1)]),
                            ("avg_daily_trips", [.int64(1)]),
                        ]))
            },
        ]
        #expect(errors[0]?.hint == "did you mean 'driver_push'?")
        #expect(errors[1]?.message.contains("only push sources") == true)
        #expect(errors[2]?.message.contains("missing column 'conv_rate'") == true)
        #expect(errors[3]?.field == "df.event_timestamp[0]")
    }

    /// On-demand features: computed per request from looked-up features (expired and missing
    /// ones are null inputs, as in training sets) and request data; the inputs that were not
    /// requested are not in the answer; names collide like any other.
    @Test func onDemandFeaturesComputedFromLookedUpFeaturesAndRequestData() throws {
        let dir = try TemporaryDirectory("lookup-on-demand")
        defer { dir.remove() }
        let lookup = try Self.makeLookup(dir)
        var definitions = OnlineFixture.definitions
        definitions.requestSources = [RequestSource(name: "offer", schema: [.init("boost", .float64)])]
        definitions.onDemandViews = [
            OnDemandFeatureView(
                name: "scores", sources: ["driver_hourly_stats", "customer_profile", "offer"],
                features: [
                    Feature("boosted", .float64, expression: "conv_rate * boost"),
                    Feature("busy", .bool, expression: "driver_hourly_stats__avg_daily_trips >= 15"),
                    Feature("greeting", .string, expression: "'hi ' || name"),
                    Feature("first_tag", .string, expression: "list_element(tags, 1)"),
                ])
        ]
        definitions.featureServices.append(
            FeatureService(
                name: "scoring",
                features: [
                    FeatureReference(view: "driver_hourly_stats", features: ["acc_rate"]),
                    FeatureReference(view: "scores"),
                ]))
        try OnlineFixture.apply(definitions, root: dir.path)
        lookup.refresh()
        let entities: [(name: String, values: [ScalarValue])] = [
            ("driver_id", [.int64(1001), .int64(1002), .int64(5)]),
            ("customer_id", [.string("c1"), .string("c2"), .string("c1")]),
        ]
        let response = try lookup.onlineFeatures(
            LookupRequest(
                features: .service("scoring"), entities: entities,
                requestContext: [("boost", [.int64(2), .float64(3), .null])]))
        #expect(
            response.featureNames == [
                "driver_id", "customer_id", "acc_rate", "boosted", "busy", "greeting", "first_tag",
            ])
        #expect(response.vector(named: "first_tag")?.values == [.string("vip"), .null, .string("vip")])
        #expect(response.vector(named: "acc_rate")?.values == [.float32(0.75), .null, .null])
        #expect(response.vector(named: "boosted")?.values == [.float64(Double(Float(0.5)) * 2), .null, .null])
        #expect(response.vector(named: "boosted")?.statuses == [.present, .nullValue, .nullValue])
        // 1002's row is older than the ttl: its inputs are null, as a training set has them.
        #expect(response.vector(named: "busy")?.values == [.bool(false), .null, .null])
        #expect(response.vector(named: "greeting")?.values == [.string("hi Ana"), .null, .string("hi Ana")])
        #expect(response.results.count == response.featureNames.count)

        // Request data beside the join keys works too; full names qualify on-demand features.
        let full = try lookup.onlineFeatures(
            LookupRequest(
                features: .references(["scores:boosted", "driver_hourly_stats:conv_rate"]),
                entities: [("driver_id", [.int64(1001)]), ("boost", [.float64(0.5)])], fullFeatureNames: true))
        #expect(full.featureNames == ["driver_id", "driver_hourly_stats__conv_rate", "scores__boosted"])
        #expect(full.vector(named: "scores__boosted")?.values == [.float64(Double(Float(0.5)) * 0.5)])

        // More rows than the row-by-row limit: the vector path, the same values.
        let many = (0..<40).map { Double($0) / 4 }
        let wide = try lookup.onlineFeatures(
            LookupRequest(
                features: .references(["scores:boosted", "scores:busy"]),
                entities: [("driver_id", many.map { _ in .int64(1001) }), ("boost", many.map { .float64($0) })]))
        #expect(wide.vector(named: "boosted")?.values == many.map { .float64(Double(Float(0.5)) * $0) })
        #expect(wide.vector(named: "busy")?.values == many.map { _ in .bool(false) })

        let missing = Self.error { () throws(LookupError) in
            _ = try lookup.onlineFeatures(
                LookupRequest(features: .references(["scores:boosted"]), entities: [("driver_id", [.int64(1)])]))
        }
        #expect(missing?.field == "entities.boost")
        #expect(missing?.message.contains("missing request field 'boost' of request source 'offer'") == true)
        let mistyped = Self.error { () throws(LookupError) in
            _ = try lookup.onlineFeatures(
                LookupRequest(
                    features: .references(["scores:boosted"]),
                    entities: [("driver_id", [.int64(1), .int64(2)]), ("boost", [.float64(1), .string("x")])]))
        }
        #expect(mistyped?.field == "entities.boost[1]")
        let collision = Self.error { () throws(LookupError) in
            _ = try lookup.onlineFeatures(
                LookupRequest(
                    features: .references(["scores:busy", "scores:boosted", "customer_profile:name", "scores:greeting"]
                    ),
                    entities: [("driver_id", [.int64(1)]), ("customer_id", [.string("c1")]), ("boost", [.null])]))
        }
        #expect(collision == nil)
        let unknown = Self.error { () throws(LookupError) in
            _ = try lookup.onlineFeatures(
                LookupRequest(features: .references(["scores:nope"]), entities: [("driver_id", [.int64(1)])]))
        }
        #expect(unknown?.message.contains("on-demand feature view 'scores' has no feature 'nope'") == true)
    }
}
