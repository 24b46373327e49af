import Foundation
import TesseraColumnar
import TesseraCore
import TesseraFormats
import TesseraTesting
import Testing

@Suite(.serialized) struct TrainingSetCommandTests {
    static func appliedRepo(_ dir: TemporaryDirectory) throws -> String {
        let repo = try CLIWorkflowTests.initRepo(dir)
        let apply = try CommandRunner.run(["apply", "--repo", repo])
        #expect(apply.status == 0, "\(apply)")
        return repo
    }

    @Test func serviceTrainingSetKeepsEveryRowInOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try TrainingSetCommandTests.appliedRepo(dir)
        let out = dir.file("train.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--service", "ride_ranking_v1",
            "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Wrote \(out): 200 rows"))
        let rides = try ParquetFile(path: repo + "/data/rides.parquet").read()
        let train = try ParquetFile(path: out).read()
        #expect(
            train.schema.names == [
                "driver_id", "customer_id", "event_timestamp", "trip_completed", "fare_estimate", "conv_rate",
                "acc_rate",
                "segment",
                "current_balance",
            ])
        for name in rides.schema.names { #expect(train.column(named: name) == rides.column(named: name)) }
        // The same as CSV, and as JSON summary.
        let csv = dir.file("train.csv")
        let json = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--features",
            "driver_hourly_stats:conv_rate,customer_profile", "--output", csv, "--json", "--full-feature-names",
        ])
        #expect(json.status == 0, "\(json)")
        let summary = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(summary?["rows"] as? Int == 200)
        #expect((summary?["columns"] as? [String])?.contains("customer_profile__segment") == true)
        let back = try CSVReader.read(path: csv)
        #expect(back.rowCount == 200)
        // Arrow IPC in and out (what the Python client's local mode uses): the same table.
        let entities = dir.file("rides.arrows")
        try Data(try ArrowIPCWriter.stream(rides, rowsPerBatch: 64)).write(to: URL(fileURLWithPath: entities))
        let arrowOut = dir.file("train.arrows")
        let arrow = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--service", "ride_ranking_v1", "--output",
            arrowOut,
        ])
        #expect(arrow.status == 0, "\(arrow)")
        let read = try ArrowIPCReader.read([UInt8](Data(contentsOf: URL(fileURLWithPath: arrowOut))))
        #expect(read.schema.names == train.schema.names)
        for name in train.schema.names {
            let (a, b) = (read.column(named: name), train.column(named: name))
            #expect(
                a.map { column in (0..<column.count).map { column.value(at: $0) } }
                    == b.map { column in (0..<column.count).map { column.value(at: $0) } }, "column \(name)")
        }
        let wrong = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--service", "ride_ranking_v1", "--output",
            dir.file("train.arrow"),
        ])
        #expect(wrong.status != 0 && wrong.stderr.contains(".arrows (Arrow IPC stream)"), "\(wrong)")
    }

    /// `--memory-limit`: the entity rows read and the training set built and written in
    /// parts; the output equals the one built at once, for plain, on-demand and aggregated
    /// features, in Parquet and CSV.
    @Test func aMemoryLimitBuildsInPartsWithTheSameOutput() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = dir.file("repo")
        // 10,000 rides: three parts of at most 4,096 rows under a tiny limit.
        let initialized = try CommandRunner.run(["init", repo, "--rows", "100000", "--data-start", "2026-01-01"])
        #expect(initialized.status == 0, "\(initialized)")
        #expect(try CommandRunner.run(["apply", "--repo", repo]).status == 0)
        for service in ["ride_ranking_v1", "driver_activity_v1"] {
            let whole = dir.file("\(service)-whole.parquet")
            let parts = dir.file("\(service)-parts.parquet")
            let base = [
                "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--service", service,
            ]
            let a = try CommandRunner.run(base + ["--output", whole])
            #expect(a.status == 0, "\(a)")
            let b = try CommandRunner.run(base + ["--output", parts, "--memory-limit", "1MB"])
            #expect(b.status == 0, "\(b)")
            #expect(b.stdout.contains("10000 rows") && b.stdout.contains("in 3 parts of up to 4096 rows"), "\(b)")
            #expect(b.stderr.contains("warning: --memory-limit 1MB is below what the smallest part needs"), "\(b)")
            let x = try ParquetFile(path: whole).read()
            let y = try ParquetFile(path: parts).read()
            #expect(x.rowCount == 10_000 && x.schema == y.schema, "\(service)")
            for name in x.schema.names {
                #expect(x.column(named: name)?.values == y.column(named: name)?.values, "\(service): column \(name)")
            }
        }
        // CSV out, and a roomy limit: one part.
        let csv = dir.file("parts.csv")
        let c = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--service", "ride_ranking_v1",
            "--output", csv, "--memory-limit", "2GB", "--json",
        ])
        #expect(c.status == 0, "\(c)")
        let summary = try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any]
        #expect(summary?["parts"] as? Int == 1 && summary?["rows"] as? Int == 10_000, "\(c.stdout)")
        #expect(try CSVReader.read(path: csv).rowCount == 10_000)
        // What it cannot do, said before any work.
        let bad = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--service", "ride_ranking_v1",
            "--output", csv, "--memory-limit", "lots",
        ])
        #expect(bad.status != 0 && bad.stderr.contains("--memory-limit lots: write a size such as 512MB"), "\(bad)")
        let range = try CommandRunner.run([
            "training-set", "--repo", repo, "--start", "2026-01-01", "--end", "2026-01-02", "--features",
            "driver_hourly_stats", "--output", csv, "--memory-limit", "512MB",
        ])
        #expect(range.status != 0 && range.stderr.contains("give --entities"), "\(range)")
        let arrows = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--service", "ride_ranking_v1",
            "--output", dir.file("x.arrows"), "--memory-limit", "512MB",
        ])
        #expect(arrows.status != 0 && arrows.stderr.contains("use a .parquet or .csv --output"), "\(arrows)")
    }

    /// The example's window aggregations through the CLI, checked against a brute force over
    /// the trips file: every row, every count and sum, the window `t − W <= event < t`.
    @Test func windowAggregationsMatchABruteForceOverTheTripsFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try TrainingSetCommandTests.appliedRepo(dir)
        let out = dir.file("activity.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/trip_labels.parquet", "--service",
            "driver_activity_v1", "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let labels = try ParquetFile(path: repo + "/data/trip_labels.parquet").read()
        let trips = try ParquetFile(path: repo + "/data/trips.parquet").read()
        let train = try ParquetFile(path: out).read()
        #expect(train.rowCount == labels.rowCount)
        #expect(
            Array(train.schema.names.prefix(6)) == [
                "driver_id", "event_timestamp", "label", "fare_sum_1h", "fare_sum_1d", "fare_sum_7d",
            ])
        #expect(train.schema.names.count == 3 + 14 + 1)
        let tripDrivers = trips.column(named: "driver_id")?.int64Values ?? []
        let tripTimes = trips.column(named: "event_timestamp")?.int64Values ?? []
        let fares = trips.column(named: "fare")
        let labelDrivers = labels.column(named: "driver_id")?.int64Values ?? []
        let labelTimes = labels.column(named: "event_timestamp")?.int64Values ?? []
        var selfLabelled = 0
        for row in 0..<labels.rowCount {
            for (window, seconds) in [("1h", Int64(3600)), ("1d", 86_400), ("7d", 7 * 86_400)] {
                let t = labelTimes[row]
                var count: Int64 = 0
                var sum = 0.0
                var anyFare = false
                for trip in tripDrivers.indices
                where tripDrivers[trip] == labelDrivers[row] && tripTimes[trip] >= t - seconds * 1_000_000
                    && tripTimes[trip] < t
                {
                    count += 1
                    if let fare = fares?.value(at: trip).asDouble {
                        sum += fare
                        anyFare = true
                    }
                }
                #expect(train.column(named: "count_\(window)")?.value(at: row) == .int64(count), "row \(row) \(window)")
                let ours = train.column(named: "fare_sum_\(window)")?.value(at: row).asDouble
                if anyFare {
                    #expect(abs((ours ?? .nan) - sum) <= 1e-9 * sum, "row \(row) fare_sum_\(window)")
                } else {
                    #expect(ours == nil, "row \(row) fare_sum_\(window): an empty window is null")
                }
            }
            if tripTimes.indices.contains(where: {
                tripTimes[$0] == labelTimes[row] && tripDrivers[$0] == labelDrivers[row]
            }) {
                selfLabelled += 1
            }
        }
        // The workload labels some trips at their own instant: those rows test the window's open end.
        #expect(selfLabelled > 10)
    }

    /// The example's `driver_last_trip` (a filter and three derived features) through the CLI,
    /// against a brute force over the trips file: the latest completed trip with a distance
    /// at or before each label time, within the 7-day ttl, and the expressions by hand.
    /// On-demand features over the rides file: each row's values equal the expressions
    /// recomputed here from the joined input columns and the request column; asked for alone,
    /// they are the same columns and their inputs are not in the output.
    @Test func onDemandFeaturesEqualTheirExpressionsOverTheJoinedRows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try TrainingSetCommandTests.appliedRepo(dir)
        let withInputs = dir.file("with_inputs.parquet")
        let alone = dir.file("alone.parquet")
        let features = ["expected_value", "is_premium_rider", "balance_covers_fare", "fare_band"]
        var result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--features",
            "driver_hourly_stats:conv_rate,customer_profile:[segment, current_balance],ride_scoring",
            "--output", withInputs,
        ])
        #expect(result.status == 0, "\(result)")
        result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--service",
            "ride_scoring_v1", "--output", alone,
        ])
        #expect(result.status == 0, "\(result)")
        let full = try ParquetFile(path: withInputs).read()
        let service = try ParquetFile(path: alone).read()
        let rides = try ParquetFile(path: repo + "/data/rides.parquet").read()
        #expect(service.schema.names == rides.schema.names + ["conv_rate"] + features)
        for name in features { #expect(service.column(named: name) == full.column(named: name), "\(name)") }
        let conv = full.column(named: "conv_rate")
        let segment = full.column(named: "segment")
        let balance = full.column(named: "current_balance")
        let fares = full.column(named: "fare_estimate")
        var nonNull = 0
        for row in 0..<full.rowCount {
            guard case .float64(let fare) = fares?.value(at: row) else {
                Issue.record("row \(row) has no fare_estimate")
                continue
            }
            var expected: ScalarValue = .null
            if case .float32(let c) = conv?.value(at: row) {
                expected = .float64(Double(c) * fare)
                nonNull += 1
            }
            #expect(full.column(named: "expected_value")?.value(at: row) == expected, "row \(row)")
            var premium: ScalarValue = .null
            if case .string(let s) = segment?.value(at: row) { premium = .bool(s == "premium" || s == "business") }
            #expect(full.column(named: "is_premium_rider")?.value(at: row) == premium, "row \(row)")
            var covers: ScalarValue = .null
            if case .float32(let b) = balance?.value(at: row) { covers = .bool(Double(b) >= fare) }
            #expect(full.column(named: "balance_covers_fare")?.value(at: row) == covers, "row \(row)")
            let band = fare < 15 ? "short" : fare < 40 ? "medium" : "long"
            #expect(full.column(named: "fare_band")?.value(at: row) == .string(band), "row \(row)")
        }
        #expect(nonNull > 0 && nonNull < full.rowCount)
    }

    /// A filtered view whose aggregations read an expression: every label's windows equal a
    /// brute force over the trips file (completed trips in `[t - W, t)`, the fare per km of
    /// each, nulls skipped), to the bit for counts and maxima and to 1e-12 for means.
    @Test func expressionInputsOfFilteredAggregationsMatchABruteForce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try TrainingSetCommandTests.appliedRepo(dir)
        let out = dir.file("completed.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/trip_labels.parquet", "--features",
            "driver_completed_trips", "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let labels = try ParquetFile(path: repo + "/data/trip_labels.parquet").read()
        let trips = try ParquetFile(path: repo + "/data/trips.parquet").read()
        let train = try ParquetFile(path: out).read()
        let drivers = trips.column(named: "driver_id")?.int64Values ?? []
        let times = trips.column(named: "event_timestamp")?.int64Values ?? []
        var byDriver: [Int64: [(time: Int64, perKm: Double?)]] = [:]
        for trip in drivers.indices where trips.column(named: "status")?.value(at: trip) == .string("completed") {
            var perKm: Double?
            if case .float64(let fare) = trips.column(named: "fare")?.value(at: trip),
                let km = trips.column(named: "distance_km")?.value(at: trip).asDouble, km != 0
            {
                perKm = fare / km
            }
            byDriver[drivers[trip], default: []].append((times[trip], perKm))
        }
        let labelDrivers = labels.column(named: "driver_id")?.int64Values ?? []
        let labelTimes = labels.column(named: "event_timestamp")?.int64Values ?? []
        let day: Int64 = 86_400_000_000
        var nonEmpty = 0
        for row in 0..<labels.rowCount {
            let t = labelTimes[row]
            for (window, suffix) in [(day, "1d"), (7 * day, "7d")] {
                let inWindow = (byDriver[labelDrivers[row]] ?? []).filter { $0.time >= t - window && $0.time < t }
                let values = inWindow.compactMap(\.perKm)
                #expect(
                    train.column(named: "completed_count_\(suffix)")?.value(at: row) == .int64(Int64(inWindow.count)),
                    "row \(row)")
                let max = values.max().map { ScalarValue.float64($0) } ?? .null
                #expect(train.column(named: "fare_per_km_max_\(suffix)")?.value(at: row) == max, "row \(row)")
                let mean = train.column(named: "fare_per_km_mean_\(suffix)")?.value(at: row).asDouble
                if values.isEmpty {
                    #expect(mean == nil, "row \(row)")
                } else {
                    nonEmpty += 1
                    let expected = values.reduce(0, +) / Double(values.count)
                    #expect(abs((mean ?? .nan) - expected) <= 1e-12 * abs(expected), "row \(row)")
                }
            }
        }
        #expect(nonEmpty > 0)
    }

    @Test func derivedFeaturesAndFiltersMatchABruteForce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try TrainingSetCommandTests.appliedRepo(dir)
        let out = dir.file("last_trip.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/trip_labels.parquet", "--features",
            "driver_last_trip:fare,driver_last_trip:fare_per_km,driver_last_trip:long_trip,driver_last_trip:pickup_hour",
            "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let labels = try ParquetFile(path: repo + "/data/trip_labels.parquet").read()
        let trips = try ParquetFile(path: repo + "/data/trips.parquet").read()
        let train = try ParquetFile(path: out).read()
        #expect(train.rowCount == labels.rowCount)
        let drivers = trips.column(named: "driver_id")?.int64Values ?? []
        let times = trips.column(named: "event_timestamp")?.int64Values ?? []
        let fares = trips.column(named: "fare")
        let distances = trips.column(named: "distance_km")
        let status = trips.column(named: "status")
        var byDriver: [Int64: [Int]] = [:]
        for trip in drivers.indices {
            guard status?.value(at: trip) == .string("completed"),
                let km = distances?.value(at: trip).asDouble, km > 0
            else { continue }
            byDriver[drivers[trip], default: []].append(trip)
        }
        let labelDrivers = labels.column(named: "driver_id")?.int64Values ?? []
        let labelTimes = labels.column(named: "event_timestamp")?.int64Values ?? []
        let ttl: Int64 = 7 * 86_400_000_000
        var matched = 0
        var filteredOut = 0
        for row in 0..<min(labels.rowCount, 20_000) {
            let t = labelTimes[row]
            let candidates = (byDriver[labelDrivers[row]] ?? []).filter { times[$0] <= t && times[$0] >= t - ttl }
            guard let newest = candidates.map({ times[$0] }).max() else {
                #expect(train.column(named: "fare")?.value(at: row) == .null, "row \(row): no completed trip")
                continue
            }
            let tied = candidates.filter { times[$0] == newest }
            guard tied.count == 1, let trip = tied.first else { continue }
            matched += 1
            let allTimes = drivers.indices.filter { drivers[$0] == labelDrivers[row] && times[$0] <= t }.map {
                times[$0]
            }
            if allTimes.max() != newest { filteredOut += 1 }
            let fare = fares?.value(at: trip).asDouble
            let km = distances?.value(at: trip).asDouble ?? 0
            #expect(train.column(named: "fare")?.value(at: row) == (fare.map(ScalarValue.float64) ?? .null))
            #expect(
                train.column(named: "fare_per_km")?.value(at: row) == (fare.map { .float64($0 / km) } ?? .null),
                "row \(row)")
            #expect(train.column(named: "long_trip")?.value(at: row) == .bool(km >= 20), "row \(row)")
            let hour = (newest / 1_000_000 % 86_400 + 86_400) % 86_400 / 3_600
            #expect(train.column(named: "pickup_hour")?.value(at: row) == .int32(Int32(hour)), "row \(row)")
        }
        #expect(matched > 100)
        // The summary counts the rows read, not only those the filter kept.
        #expect(result.stdout.contains("driver_last_trip: \(trips.rowCount) source rows read"), "\(result.stdout)")
        // The filter decides: for some rows the newest trip was cancelled, and an older one is used.
        #expect(filteredOut > 10, "\(filteredOut)")
    }

    /// Expression problems in definitions: syntax at load, names and types against the
    /// source's columns, each at its file, line and column inside the expression.
    @Test func expressionErrorsPointIntoTheDefinitionFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try CLIWorkflowTests.initRepo(dir)
        let file = repo + "/features/trips.yaml"
        let original = try String(contentsOfFile: file, encoding: .utf8)
        func plan(_ edits: [(String, String)]) throws -> String {
            var text = original
            for (from, to) in edits {
                #expect(text.contains(from), "the example has \(from)")
                text = text.replacingOccurrences(of: from, with: to)
            }
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try CommandRunner.run(["plan", "--repo", repo])
            #expect(result.status != 0)
            return result.stderr + result.stdout
        }
        let syntax = try plan([(#""hour(event_timestamp)""#, #""hour(event_timestamp""#)])
        #expect(
            syntax.contains(
                "features/trips.yaml:67:42: error: expected ')' to close the arguments of hour, found the end in the expression of feature 'pickup_hour' of feature view 'driver_last_trip'"
            ), "\(syntax)")
        let typed = try plan([
            ("nullif(distance_km, 0)", "nullif(distanc_km, 0)"),
            (#""status = 'completed' AND distance_km > 0""#, #""status = 1""#),
            (#""distance_km >= 20""#, #""distance_km + 20""#),
        ])
        for expected in [
            "features/trips.yaml:56:21: error: cannot compare string with int64 in the filter of feature view 'driver_last_trip'",
            "features/trips.yaml:61:36: error: no column named 'distanc_km' in the expression of feature 'fare_per_km' of feature view 'driver_last_trip'",
            "did you mean 'distance_km'?",
            "features/trips.yaml:64:22: error: the expression of feature 'long_trip' of feature view 'driver_last_trip' is float64, which its type bool cannot hold",
        ] {
            #expect(typed.contains(expected), "\(typed)")
        }
        // Expression inputs of aggregations and filters of aggregated views are checked alike.
        #expect(
            typed.contains(
                "no column named 'distanc_km' in the expression of aggregation 'fare_per_km_mean_1d' of feature view 'driver_completed_trips'"
            ), "\(typed)")
        let aggregated = try plan([(#""status = 'completed'""#, #""status""#)])
        #expect(
            aggregated.contains("the filter of feature view 'driver_completed_trips' is string, not bool"),
            "\(aggregated)")
    }

    @Test func rangeModeAndErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try TrainingSetCommandTests.appliedRepo(dir)
        let out = dir.file("day.parquet")
        let range = try CommandRunner.run([
            "training-set", "--repo", repo, "--start", "2026-01-10", "--end", "2026-01-11", "--features",
            "driver_hourly_stats", "--output", out,
        ])
        #expect(range.status == 0, "\(range)")
        let day = try ParquetFile(path: out).read()
        #expect(day.schema.names == ["driver_id", "event_timestamp", "conv_rate", "acc_rate", "avg_daily_trips"])
        #expect(day.rowCount > 0)
        // Every row comes from the source itself within the range, so every row has its features.
        #expect(day.column(named: "conv_rate")?.nullCount == 0)

        let unknown = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", repo + "/data/rides.parquet", "--features",
            "driver_hourly_stats:conv_rat", "--output", out,
        ])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("feature view 'driver_hourly_stats' has no feature 'conv_rat'"))
        #expect(unknown.stderr.contains("did you mean 'conv_rate'?"))
        let missing = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", dir.file("nope.parquet"), "--service", "driver_quality",
            "--output", out,
        ])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.parquet"))
        let both = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", "x.parquet", "--service", "a", "--features", "b",
            "--output", out,
        ])
        #expect(both.status != 0)
        #expect(both.stderr.contains("give exactly one of --features and --service"))
    }

    @Test func bracketListsAndJoinKeyMapsFromTheCommandLine() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try TrainingSetCommandTests.appliedRepo(dir)
        // A CSV entity file whose driver column is named 'driver' (its type comes from the join key).
        let entities = dir.file("labels.csv")
        try "driver,event_timestamp,label\n0005,2026-01-20T00:00:00Z,1\n7,2026-01-21T00:00:00Z,0\n"
            .write(toFile: entities, atomically: true, encoding: .utf8)
        let out = dir.file("out.parquet")
        let result = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--features",
            "driver_hourly_stats:[conv_rate, avg_daily_trips]", "--join-key-map", "driver=driver_id", "--output", out,
        ])
        #expect(result.status == 0, "\(result)")
        let batch = try ParquetFile(path: out).read()
        #expect(batch.schema.names == ["driver", "event_timestamp", "label", "conv_rate", "avg_daily_trips"])
        #expect(batch.column(named: "driver")?.type == .int64)
        #expect(batch.column(named: "driver")?.values == [.int64(5), .int64(7)])
        let wrong = try CommandRunner.run([
            "training-set", "--repo", repo, "--entities", entities, "--features", "driver_hourly_stats",
            "--join-key-map", "driver_id=driver", "--output", out,
        ])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("maps column 'driver_id' to 'driver', which is not a join key"))
    }

    @Test func inspectAndHeadShowTheExampleData() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let repo = try CLIWorkflowTests.initRepo(dir)
        let inspect = try CommandRunner.run(["inspect", repo + "/data/driver_stats.parquet"])
        #expect(inspect.status == 0, "\(inspect)")
        #expect(inspect.stdout.contains("rows: 2000 in 1 row group"))
        #expect(inspect.stdout.contains("driver_id: int64"))
        #expect(inspect.stdout.contains("SNAPPY"))
        #expect(!inspect.stdout.contains("(0.0 KiB"), "sizes must be real")
        let head = try CommandRunner.run(["head", repo + "/data/driver_stats.parquet", "-n", "3", "--json"])
        let lines = head.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect((first?["event_timestamp"] as? String).flatMap(Timestamp.init(parsing:)) != nil)
        #expect(
            first?.keys.sorted() == [
                "acc_rate", "avg_daily_trips", "conv_rate", "created", "driver_id", "event_timestamp",
            ])
    }
}
