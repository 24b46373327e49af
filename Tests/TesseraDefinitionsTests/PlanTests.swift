import TesseraCore
import TesseraDefinitions
import TesseraTesting
import Testing

@Suite struct PlanTests {
    static func base() throws -> Definitions {
        let fixture = try RepositoryFixture()
        defer { fixture.directory.remove() }
        return try fixture.load().definitions
    }

    @Test func everythingIsAddedAgainstAnEmptyRegistry() throws {
        let plan = Plan(from: Definitions(), to: try PlanTests.base())
        #expect(
            plan.changes.map(\.id.description) == [
                "entity 'driver'", "source 'driver_stats'", "feature view 'driver_hourly_stats'",
                "feature service 'ranking'",
            ])
        #expect(plan.changes.allSatisfy { $0.action == .add })
        #expect(!plan.isBreaking)
        let view = plan.changes[2]
        #expect(view.fields.contains(FieldChange(path: "schema.conv_rate", old: nil, new: "float32")))
        #expect(view.fields.contains(FieldChange(path: "ttl", old: nil, new: "2d")))
    }

    @Test func identicalDefinitionsGiveAnEmptyPlanAndEqualDigests() throws {
        let a = try PlanTests.base()
        var b = a
        b.entities.reverse()  // order does not matter
        #expect(Plan(from: a, to: b).isEmpty)
        #expect(CanonicalFields.digest(a) == CanonicalFields.digest(b.normalized))
        var c = a
        c.featureViews[0].ttl = .days(3)
        #expect(CanonicalFields.digest(a) != CanonicalFields.digest(c))
    }

    @Test func fieldByFieldChanges() throws {
        let old = try PlanTests.base()
        var new = old
        new.featureViews[0].ttl = .hours(1)
        new.featureViews[0].features.append(Feature("trips_today", .int64))
        new.featureViews[0].features.removeAll { $0.name == "acc_rate" }  // unused by the service
        new.featureViews[0].tags = ["tier": "gold"]
        let plan = Plan(from: old, to: new)
        #expect(plan.changes.count == 1)
        let change = plan.changes[0]
        #expect(change.action == .change)
        #expect(
            change.fields == [
                FieldChange(path: "ttl", old: "2d", new: "1h"),
                FieldChange(path: "schema.acc_rate", old: "float32", new: nil),
                FieldChange(path: "schema.trips_today", old: nil, new: "int64"),
                FieldChange(path: "tags.tier", old: nil, new: "gold"),
            ])
        #expect(!plan.isBreaking, "acc_rate is used by no service")
        #expect(plan.rendered().contains("~ ttl: 2d -> 1h"))
        #expect(plan.rendered().contains("Plan: 0 to add, 1 to change, 0 to remove."))
    }

    @Test func retypingOrRemovingAUsedFeatureIsBreaking() throws {
        let old = try PlanTests.base()
        var retyped = old
        retyped.featureViews[0].features[2].type = .int64
        let plan = Plan(from: old, to: retyped)
        #expect(
            plan.breakingReasons == [
                "retypes feature 'driver_hourly_stats:avg_daily_trips' from int32 to int64; feature service 'ranking' uses it"
            ])
        var removed = old
        removed.featureViews[0].features.removeAll { $0.name == "conv_rate" }
        removed.featureServices = []
        let plan2 = Plan(from: old, to: removed)
        #expect(
            plan2.breakingReasons == [
                "removes feature 'driver_hourly_stats:conv_rate', used by feature service 'ranking'"
            ])
        var viewGone = old
        viewGone.featureViews = []
        viewGone.featureServices = []
        #expect(
            Plan(from: old, to: viewGone).breakingReasons == [
                "removes feature view 'driver_hourly_stats', used by feature service 'ranking'"
            ])
    }

    /// A service's on-demand features: a changed expression, a retype, a removal, are breaking;
    /// an unused on-demand view changes freely.
    @Test func changingAUsedOnDemandFeatureIsBreaking() throws {
        var old = try PlanTests.base()
        old.requestSources = [RequestSource(name: "offer", schema: [.init("boost", .float64)])]
        old.onDemandViews = [
            OnDemandFeatureView(
                name: "scores", sources: ["driver_hourly_stats", "offer"],
                features: [
                    Feature("boosted", .float64, expression: "conv_rate * boost"),
                    Feature("unused", .bool, expression: "boost > 1"),
                ])
        ]
        old.featureServices.append(
            FeatureService(name: "scoring", features: [FeatureReference(view: "scores", features: ["boosted"])]))
        var changed = old
        changed.onDemandViews[0].features[0].expression = "conv_rate * boost * 2"
        changed.onDemandViews[0].features[1].expression = "boost > 2"
        #expect(
            Plan(from: old, to: changed).breakingReasons == [
                "changes the expression of 'scores:boosted' from conv_rate * boost to conv_rate * boost * 2; feature service 'scoring' uses it"
            ])
        var retyped = old
        retyped.onDemandViews[0].features[0].type = .float32
        #expect(
            Plan(from: old, to: retyped).breakingReasons == [
                "retypes feature 'scores:boosted' from float64 to float32; feature service 'scoring' uses it"
            ])
        var gone = old
        gone.onDemandViews = []
        gone.featureServices.removeLast()
        #expect(
            Plan(from: old, to: gone).breakingReasons == [
                "removes on-demand feature view 'scores', used by feature service 'scoring'"
            ])
        var unused = old
        unused.onDemandViews[0].features.removeLast()
        #expect(Plan(from: old, to: unused).breakingReasons.isEmpty)
    }

    @Test func everyReferenceOfAServiceIsCheckedEvenAfterARemovedView() throws {
        var old = try PlanTests.base()
        old.featureViews.append(
            FeatureView(name: "other", entities: ["driver"], source: "driver_stats", features: [Feature("x", .int64)]))
        old.featureServices[0].features.insert(FeatureReference(view: "other"), at: 0)
        var new = old
        new.featureViews.removeAll { $0.name == "other" }
        new.featureViews[0].features[0].type = .float64  // conv_rate, used by the same service
        let reasons = Plan(from: old, to: new).breakingReasons
        #expect(reasons.contains("removes feature view 'other', used by feature service 'ranking'"))
        #expect(
            reasons.contains {
                $0.hasPrefix("retypes feature 'driver_hourly_stats:conv_rate' from float32 to float64")
            })
    }

    @Test func joinKeyAndEntityChangesAreBreaking() throws {
        let old = try PlanTests.base()
        var keys = old
        keys.entities[0].joinKeys = [JoinKey("driver_id", .string)]
        #expect(
            Plan(from: old, to: keys).breakingReasons == [
                "changes the join keys of entity 'driver' from [driver_id:int64] to [driver_id:string]; stored keys no longer match"
            ])
        var entities = old
        entities.entities.append(Entity(name: "city", joinKeys: [JoinKey("city_id", .int64)]))
        entities.featureViews[0].entities = ["driver", "city"]
        let plan = Plan(from: old, to: entities)
        #expect(
            plan.breakingReasons == [
                "changes the entities of feature view 'driver_hourly_stats' from [driver] to [driver, city]"
            ])
        #expect(plan.changes.first { $0.id.kind == .entity }?.action == .add)
        #expect(plan.rendered().contains("[BREAKING]"))
    }

    @Test func descriptionsAndOwnersAreNotBreaking() throws {
        let old = try PlanTests.base()
        var new = old
        new.entities[0].description = "Changed."
        new.featureViews[0].owner = "someone"
        let plan = Plan(from: old, to: new)
        #expect(plan.changes.count == 2)
        #expect(!plan.isBreaking)
    }
}
