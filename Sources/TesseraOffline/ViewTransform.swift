import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraExpressions

/// A view's row filter and derived features, compiled once, applied to batches of source
/// rows before any operator sees them: training sets, materialization and pushes run the
/// same code, so a derived value is the same bits everywhere.
public struct ViewTransform: Sendable {
    let filter: CompiledExpression?
    let derived: [(name: String, expression: CompiledExpression)]

    /// The source columns the expressions read, as the view names them, with their types.
    public let inputs: [(name: String, type: ValueType)]

    /// The view's transforms, or `nil` when it has none.
    /// - Throws: `ExpressionError` when an expression does not check against the view's
    ///   resolved inputs (definitions that skipped `ExpressionInputs.resolve`).
    public init?(view: FeatureView) throws(ExpressionError) {
        guard view.hasTransforms else { return nil }
        let scope = (view.expressionInputs ?? [:]).map { (name: $0.key, type: $0.value) }.sorted { $0.name < $1.name }
        filter = try view.filter.map { (text) throws(ExpressionError) in
            try CompiledExpression.compile(text, scope: scope, as: .bool)
        }
        var derived: [(name: String, expression: CompiledExpression)] = []
        for feature in view.features {
            guard let text = feature.expression else { continue }
            derived.append((feature.name, try CompiledExpression.compile(text, scope: scope, as: feature.type)))
        }
        // Aggregation inputs computed from each row: one column per distinct expression.
        for feature in view.aggregatedFeatures {
            guard let aggregation = feature.aggregation, let text = aggregation.expression,
                let column = aggregation.column, !derived.contains(where: { $0.name == column })
            else { continue }
            derived.append((column, try CompiledExpression.compile(text, scope: scope, as: aggregation.inputType)))
        }
        self.derived = derived
        inputs = scope
    }

    /// Whether `feature` is computed by an expression (so not read from the source).
    public func derives(_ feature: String) -> Bool { derived.contains { $0.name == feature } }

    /// The rows of `batch` that pass the filter, with each derived feature's column added
    /// (replacing a column of that name). `column(name)` finds an input by the view's name
    /// (the caller maps names to its batch's).
    ///
    /// - Throws: `ExpressionError` when an input column is missing or of a type that does not
    ///   convert to the one the expressions were checked against.
    public func apply(_ batch: RecordBatch, column: (String) -> Column?, outputName: (String) -> String)
        throws(ExpressionError) -> RecordBatch
    {
        let rows = batch.rowCount
        func inputs(of expression: CompiledExpression) throws(ExpressionError) -> [Column] {
            try expression.columns.map { (input) throws(ExpressionError) in
                guard let found = column(input.name) else {
                    throw ExpressionError("the rows have no column '\(input.name)', which an expression reads", at: 0)
                }
                guard let typed = found.type == input.type ? found : found.cast(to: input.type) else {
                    throw ExpressionError(
                        "column '\(input.name)' is \(found.type.name), but the expressions read it as \(input.type.name)",
                        at: 0, hint: "apply the definitions again after changing the source")
                }
                return typed
            }
        }
        var keep: [Int]?
        if let filter {
            let passed = filter.evaluate(try inputs(of: filter), rows: rows)
            if case .bool(let values) = passed.data {
                keep = (0..<rows).filter { values[$0] && passed.isValid($0) }
            }
        }
        var fields = batch.schema.fields
        var columns = batch.columns
        for (name, expression) in derived {
            let value = expression.evaluate(try inputs(of: expression), rows: rows)
            let target = outputName(name)
            let field = Field(target, value.type)
            if let at = fields.firstIndex(where: { $0.name == target }) {
                fields[at] = field
                columns[at] = value
            } else {
                fields.append(field)
                columns.append(value)
            }
        }
        let out: RecordBatch
        do {
            out = try RecordBatch(schema: Schema(fields), columns: columns)
        } catch {
            throw ExpressionError("derived columns do not fit the rows: \(error)", at: 0)
        }
        guard let keep, keep.count != rows else { return out }
        return out.take(keep)
    }
}
