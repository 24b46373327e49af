import TesseraColumnar
import TesseraCore
import TesseraDefinitions

/// The distinct input columns a list of aggregated features reads, and the longest window:
/// shared by the training-set operator and the online state, so both read the same columns.
public struct AggregationInputsLayout: Sendable {
    /// The distinct (column, type) pairs, in order of first use.
    public let inputs: [(name: String, type: ValueType)]
    /// Per feature, its input's position in `inputs` (`nil` for a bare `count` or a plain feature).
    public let inputOf: [Int?]
    /// The longest window in microseconds; `nil` when a window is `lifetime`.
    public let longest: Int64?

    public init(_ features: [Feature]) {
        var inputs: [(name: String, type: ValueType)] = []
        var inputOf: [Int?] = []
        var longest: Int64? = 0
        for feature in features {
            guard let aggregation = feature.aggregation else {
                inputOf.append(nil)
                continue
            }
            switch aggregation.window {
            case .lifetime: longest = nil
            case .length(let span): longest = longest.map { max($0, span.microseconds) }
            }
            guard let column = aggregation.column else {
                inputOf.append(nil)
                continue
            }
            let type = aggregation.inputType ?? .float64
            if let at = inputs.firstIndex(where: { $0.name == column && $0.type == type }) {
                inputOf.append(at)
            } else {
                inputOf.append(inputs.count)
                inputs.append((column, type))
            }
        }
        self.inputs = inputs
        self.inputOf = inputOf
        self.longest = longest
    }
}

/// The shape of `OfflineEngine.aggregationRows` batches: join keys, `__event_timestamp`,
/// `__created_timestamp` (null when the source has none), then the aggregations' inputs.
public enum AggregationRows {
    public static func schema(of view: FeatureView, definitions: Definitions) -> Schema {
        var fields = definitions.joinKeys(of: view).map { Field($0.name, $0.type.joinKeyType, nullable: false) }
        fields.append(Field(LatestRows.eventColumn, .timestamp, nullable: false))
        fields.append(Field(LatestRows.createdColumn, .timestamp))
        fields += AggregationInputsLayout(view.aggregatedFeatures).inputs.map { Field($0.name, $0.type) }
        return Schema(fields)
    }
}
