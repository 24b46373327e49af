import TesseraColumnar
import TesseraCore
import TesseraDefinitions

extension FeatureLookup {
    /// Answers a request: the entity join keys first, then each requested feature, with
    /// values, statuses and event times (Feast's `get_online_features`).
    ///
    /// Ttl is applied at `configuration.now()`.
    /// - Throws: `LookupError` naming the field at fault (unknown feature with close names,
    ///   missing entity column, wrong key type, unequal column lengths, name collisions).
    /// - Complexity: one store read per requested view, of one key per entity row.
    public func onlineFeatures(_ request: LookupRequest) throws(LookupError) -> OnlineFeaturesResponse {
        let catalog = catalog()
        let plan = try catalog.plan(for: request.features, fullFeatureNames: request.fullFeatureNames)
        let rows = try FeatureLookup.rowCount(request.entities)
        // The entity columns that are join keys of the requested views, coerced to the key types.
        var keyColumns: [String: [ScalarValue]] = [:]
        var names: [String] = []
        var results: [OnlineFeaturesResponse.FeatureVector] = []
        names.reserveCapacity(request.entities.count + plan.featureNames.count)
        results.reserveCapacity(request.entities.count + plan.featureNames.count)
        for column in request.entities {
            guard let key = plan.joinKeys[column.name], keyColumns[column.name] == nil else { continue }
            let values = try FeatureLookup.coerceKeys(column.values, to: key)
            keyColumns[column.name] = values
            names.append(column.name)
            results.append(
                .init(
                    values: values, statuses: Array(repeating: .present, count: rows),
                    eventTimestamps: Array(repeating: nil, count: rows)))
        }
        let now = configuration.now()
        for read in plan.reads {
            let keys = try FeatureLookup.entityKeys(read.info, keyColumns, rows: rows, provided: request.entities)
            let records: [OnlineRecord?]
            do {
                records = try store.readRecords(view: read.info.view.name, keys: keys, features: read.features)
            } catch {
                throw LookupError(.unavailable, field: "online_store", error.description)
            }
            // Straight into the output columns, through the shared rules (`OnlineStore.read` does the same per row).
            let ttl = read.info.view.ttl
            let first = results.count
            for _ in read.features {
                var vector = OnlineFeaturesResponse.FeatureVector(values: [], statuses: [], eventTimestamps: [])
                vector.values.reserveCapacity(rows)
                vector.statuses.reserveCapacity(rows)
                vector.eventTimestamps.reserveCapacity(rows)
                results.append(vector)
            }
            for record in records {
                guard let record else {
                    for f in read.features.indices {
                        results[first + f].values.append(.null)
                        results[first + f].statuses.append(.notFound)
                        results[first + f].eventTimestamps.append(nil)
                    }
                    continue
                }
                let expired = OnlineStatusRules.isExpired(eventTime: record.eventTimestamp, ttl: ttl, now: now)
                for f in read.features.indices {
                    let (value, status) = OnlineStatusRules.serve(record.values[f], expired: expired)
                    results[first + f].values.append(value)
                    results[first + f].statuses.append(status)
                    results[first + f].eventTimestamps.append(record.eventTimestamp)
                }
            }
        }
        names += plan.featureNames
        return OnlineFeaturesResponse(featureNames: names, results: results)
    }

    /// The number of entity rows; every column must have it.
    static func rowCount(_ entities: [(name: String, values: [ScalarValue])]) throws(LookupError) -> Int {
        guard let first = entities.first else {
            throw LookupError(.invalidRequest, field: "entities", "no entity columns given", hint: "send the join keys")
        }
        for column in entities where column.values.count != first.values.count {
            throw LookupError(
                .invalidRequest, field: "entities.\(column.name)",
                "has \(column.values.count) values but '\(first.name)' has \(first.values.count)",
                hint: "every entity column needs one value per entity row")
        }
        return first.values.count
    }

    /// The encoded keys of one view for every entity row.
    static func entityKeys(
        _ info: ServingCatalog.ViewInfo, _ columns: [String: [ScalarValue]], rows: Int,
        provided: [(name: String, values: [ScalarValue])]
    ) throws(LookupError) -> [EntityKey] {
        var parts: [[ScalarValue]] = []
        for key in info.joinKeys {
            guard let values = columns[key.name] else {
                throw LookupError(
                    .invalidRequest, field: "entities",
                    "missing entity column '\(key.name)', the join key of feature view '\(info.view.name)'",
                    hint: Suggestions.hint(for: key.name, in: provided.map(\.name)))
            }
            parts.append(values)
        }
        var keys: [EntityKey] = []
        keys.reserveCapacity(rows)
        for row in 0..<rows {
            if parts.count == 1, case .int64(let v) = parts[0][row] {
                keys.append(EntityKey(int64: v))
                continue
            }
            do {
                keys.append(try EntityKey(parts.map { $0[row] }))
            } catch {
                // `coerceKeys` already refused nulls and lists; this is a safety net, never a silent skip.
                throw LookupError(.invalidRequest, field: "entities", "entity row \(row): \(error)")
            }
        }
        return keys
    }

    /// Checks and converts a join-key column to its declared type.
    static func coerceKeys(_ values: [ScalarValue], to key: JoinKey) throws(LookupError) -> [ScalarValue] {
        var out: [ScalarValue] = []
        out.reserveCapacity(values.count)
        for (row, value) in values.enumerated() {
            guard let converted = ValueCoercion.convert(value, to: key.type), !converted.isNull else {
                let got = value.isNull ? "null" : ValueCoercion.describe(value)
                throw LookupError(
                    .invalidRequest, field: "entities.\(key.name)[\(row)]",
                    "join key '\(key.name)' is \(key.type.name) but got \(got)")
            }
            out.append(converted)
        }
        return out
    }
}
