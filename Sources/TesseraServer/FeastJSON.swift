import TesseraApp
import TesseraColumnar
import TesseraCore
import TesseraOnline

/// Feast's feature-server JSON: requests in, responses out, with the same shapes as
/// `feast serve` (`sdk/python/feast/feature_server.py`, `feature_server_utils.py`).
public enum FeastJSON {
    /// Reads a `/get-online-features` body:
    /// `{"features": ["view:feature", …] | "feature_service": "name", "entities": {"key": [values…]},
    ///   "full_feature_names": false, "request_context": {"field": [values…]}}`. Request data for
    ///   on-demand features may also sit in `entities` beside the join keys, as Feast sends it.
    ///   Unknown members are ignored, as Feast does.
    public static func lookupRequest(_ body: JSONValue) throws(APIError) -> LookupRequest {
        guard case .object = body else {
            throw APIError.invalid("body", "expected a JSON object, got \(body.kindName)")
        }
        var features: LookupRequest.Features
        switch body["feature_service"] {
        case .string(let name)? where !name.isEmpty:
            features = .service(name)
        case nil, .null?, .string?:
            guard let list = body["features"] else {
                throw APIError.invalid("features", "missing", hint: "send 'features' or 'feature_service'")
            }
            features = .references(try strings(list, field: "features"))
        case let other?:
            throw APIError.invalid("feature_service", "expected a string, got \(other.kindName)")
        }
        guard let entities = body["entities"] else {
            throw APIError.invalid("entities", "missing", hint: "send join keys as {\"driver_id\": [1001, 1002]}")
        }
        var context: [(name: String, values: [ScalarValue])] = []
        if let given = body["request_context"], given != .null {
            context = try columns(given, field: "request_context")
        }
        return LookupRequest(
            features: features, entities: try columns(entities, field: "entities"),
            fullFeatureNames: try flag(body["full_feature_names"], field: "full_feature_names"),
            requestContext: context)
    }

    /// Reads a `/push` body: `{"push_source_name": "name", "df": {"column": [values…]}, "to": "online"}`.
    public static func pushRequest(_ body: JSONValue) throws(APIError) -> (PushRequest, PushTarget) {
        guard case .object = body else {
            throw APIError.invalid("body", "expected a JSON object, got \(body.kindName)")
        }
        guard case .string(let source)? = body["push_source_name"] else {
            throw APIError.invalid(
                "push_source_name", body["push_source_name"] == nil ? "missing" : "expected a string")
        }
        var target = PushTarget.online
        if let to = body["to"] {
            guard case .string(let text) = to else {
                throw APIError.invalid("to", "expected a string, got \(to.kindName)")
            }
            guard let parsed = PushTarget(rawValue: text) else {
                throw APIError.invalid(
                    "to", "'\(Echo.clip(text, limit: 40))' is not 'online', 'offline' or 'online_and_offline'",
                    hint: Suggestions.hint(for: text, in: ["online", "offline", "online_and_offline"]))
            }
            target = parsed
        }
        guard let df = body["df"] else {
            throw APIError.invalid("df", "missing", hint: "send columns as {\"column\": [values…]}")
        }
        return (PushRequest(source: source, columns: try columns(df, field: "df")), target)
    }

    /// Reads a `/write-to-online-store` body (Feast's `WriteToFeatureStoreRequest`):
    /// `{"feature_view_name": "name", "df": {"column": [values…]}, "allow_registry_cache": true}`.
    public static func writeRequest(_ body: JSONValue) throws(APIError) -> (
        view: String, columns: [(name: String, values: [ScalarValue])]
    ) {
        guard case .object = body else {
            throw APIError.invalid("body", "expected a JSON object, got \(body.kindName)")
        }
        guard case .string(let view)? = body["feature_view_name"] else {
            throw APIError.invalid(
                "feature_view_name", body["feature_view_name"] == nil ? "missing" : "expected a string")
        }
        guard let df = body["df"] else {
            throw APIError.invalid("df", "missing", hint: "send columns as {\"column\": [values…]}")
        }
        return (view, try columns(df, field: "df"))
    }

    /// Reads a `/materialize` body (`{"start_ts", "end_ts", "feature_views",
    /// "disable_event_timestamp"}`) or a `/materialize-incremental` one (`{"end_ts",
    /// "feature_views"}`), as Feast's SDK sends them. Times are ISO 8601 (`now` also works).
    ///
    /// With `disable_event_timestamp` and no times, every row is loaded, whatever its event time.
    public static func materializeRequest(_ body: JSONValue, incremental: Bool, now: Timestamp) throws(APIError)
        -> MaterializeRequest
    {
        guard case .object = body else {
            throw APIError.invalid("body", "expected a JSON object, got \(body.kindName)")
        }
        func time(_ field: String) throws(APIError) -> Timestamp? {
            switch body[field] {
            case nil, .null?: return nil
            case .string(let text)?:
                guard let time = Timestamp(argument: text, now: now), time.isSupported else {
                    throw APIError.invalid(
                        field, "'\(Echo.clip(text, limit: 40))' is not a time",
                        hint: "send ISO 8601, e.g. 2026-01-10T08:00:00Z")
                }
                return time
            case let other?:
                throw APIError.invalid(field, "expected an ISO 8601 string, got \(other.kindName)")
            }
        }
        var views: [String]?
        if let list = body["feature_views"], list != .null { views = try strings(list, field: "feature_views") }
        if let version = body["version"], version != .null {
            throw APIError.invalid("version", "versioned feature views are not supported by this server")
        }
        if incremental {
            guard let end = try time("end_ts") else {
                throw APIError.invalid("end_ts", "missing", hint: "send the last event time to load")
            }
            return MaterializeRequest(.incremental(end: end, lateness: .zero), views: views)
        }
        let start = try time("start_ts")
        let end = try time("end_ts")
        if try flag(body["disable_event_timestamp"], field: "disable_event_timestamp"), start == nil || end == nil {
            // Feast: load everything, whatever its event time.
            return MaterializeRequest(
                .range(start: Timestamp.earliestSupported, end: Timestamp.latestSupported), views: views)
        }
        guard let start else { throw APIError.invalid("start_ts", "missing", hint: "send start_ts and end_ts") }
        guard let end else { throw APIError.invalid("end_ts", "missing", hint: "send start_ts and end_ts") }
        guard start <= end else {
            throw APIError.invalid("start_ts", "start_ts \(start) is after end_ts \(end)")
        }
        return MaterializeRequest(.range(start: start, end: end), views: views)
    }

    static func flag(_ value: JSONValue?, field: String) throws(APIError) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let v)?: return v
        case let other?: throw APIError.invalid(field, "expected true or false, got \(other.kindName)")
        }
    }

    static func strings(_ value: JSONValue, field: String) throws(APIError) -> [String] {
        guard case .array(let items) = value else { throw APIError.invalid(field, "expected an array of strings") }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let text) = item else {
                throw APIError.invalid("\(field)[\(i)]", "expected a string, got \(item.kindName)")
            }
            out.append(text)
        }
        return out
    }

    /// `{"name": [values…], …}` in document order.
    static func columns(_ value: JSONValue, field: String) throws(APIError) -> [(name: String, values: [ScalarValue])] {
        guard case .object(let members) = value else {
            throw APIError.invalid(field, "expected an object of columns, got \(value.kindName)")
        }
        var out: [(name: String, values: [ScalarValue])] = []
        out.reserveCapacity(members.count)
        for member in members {
            guard case .array(let items) = member.value else {
                throw APIError.invalid(
                    "\(field).\(Echo.clip(member.key))", "expected an array of values, got \(member.value.kindName)")
            }
            var values: [ScalarValue] = []
            values.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                guard let scalar = scalar(item) else {
                    throw APIError.invalid(
                        "\(field).\(Echo.clip(member.key))[\(i)]", "objects are not feature or key values")
                }
                values.append(scalar)
            }
            out.append((member.key, values))
        }
        return out
    }

    static func scalar(_ value: JSONValue) -> ScalarValue? {
        switch value {
        case .null: return .null
        case .bool(let v): return .bool(v)
        case .int(let v): return .int64(v)
        case .double(let v): return .float64(v)
        case .string(let v): return .string(v)
        case .array(let items):
            var out: [ScalarValue] = []
            for item in items {
                guard let converted = scalar(item) else { return nil }
                out.append(converted)
            }
            return .list(out)
        case .object: return nil
        }
    }
}
