// The application layer in one program: the example of docs/application.md.
//
//   swift run feature-store-tour quickstart      # a repository made by `tessera quickstart` or `tessera init`
import Foundation
import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline
import TesseraOnline
import TesseraRegistry

let path = CommandLine.arguments.dropFirst().first ?? "quickstart"
do {
    // Open the repository with the backends its tessera.yaml names (every option checked).
    let store = try FeatureStore.open(path)

    // Plan and apply the definition files, as `tessera plan` and `tessera apply` do.
    let repository = try store.repository()
    let plan = try store.plan(repository)
    print("plan: \(plan.plan.changes.count) change(s) against version \(plan.baseVersion.map(String.init) ?? "none")")
    let applied = try store.apply(repository, allowBreaking: false)
    print("apply: \(applied.outcome)")

    // A point-in-time-correct training set for three labelled rides.
    let now = Timestamp.now
    let labels = try RecordBatch([
        "driver_id": .int64([1, 2, 3]), "customer_id": .int64([5, 6, 7]),
        "event_timestamp": .timestamp([now.microseconds, now.microseconds, now.microseconds]),
    ])
    let training = try store.trainingSet(
        TrainingSetRequest(spine: .entities(labels, name: "labels"), selection: .service("ride_ranking_v1")))
    print("training set: \(training.rows) rows, columns \(training.batch.schema.names)")

    // Load the latest values into the online store from each view's watermark.
    let materialized = try store.materialize(MaterializeRequest(.incremental(end: now, lateness: .hours(1))))
    for view in materialized.views { print("materialized \(view.view): \(view.entitiesWritten) entities") }

    // Push a fresh value, then read it back online.
    let push = PushRequest(
        source: "driver_stats_push",
        columns: [
            ("driver_id", [.int64(1)]), ("event_timestamp", [.timestamp(now)]), ("conv_rate", [.float64(0.9)]),
            ("acc_rate", [.float64(0.8)]), ("avg_daily_trips", [.int64(12)]),
        ])
    _ = try store.push(push, to: .online)
    let online = try store.onlineFeatures(
        LookupRequest(
            features: .references(["driver_hourly_stats:avg_daily_trips"]), entities: [("driver_id", [.int64(1)])]))
    let vector = online.vector(named: "avg_daily_trips")
    print("online: avg_daily_trips = \(vector?.values ?? []), status \(vector?.statuses ?? [])")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
