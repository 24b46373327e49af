import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraExpressions
import TesseraOffline

/// One pass over a view's source: the columns an operator needs, projected at the reader,
/// row groups outside the time filter skipped, the next batch decoded on another thread, and
/// each batch checked and typed (`TypedSourceBatch`) before an operator sees it.
struct ViewScan {
    let view: FeatureView
    let source: DataSource
    let columns: SourceColumns
    let keys: [JoinKey]
    let features: [Feature]
    let filter: TimeFilter
    /// Columns window aggregations read (as views name them), with their input types.
    let inputs: [(name: String, type: ValueType)]
    /// Source column names to read: keys, event time, created time, features, inputs (no repeats).
    let wanted: [String]
    /// The view's filter and derived features, applied to each batch first.
    let transform: ViewTransform?

    /// - Throws: `TrainingSetError` when the view's source is not defined.
    init(
        view: FeatureView, features: [Feature], definitions: Definitions, lower: Int64?, upper: Int64?,
        inputs: [(name: String, type: ValueType)] = []
    ) throws(TrainingSetError) {
        guard let source = definitions.source(view.source) else {
            throw TrainingSetError("feature view '\(view.name)' reads source '\(view.source)', which is not defined")
        }
        let columns = definitions.sourceColumns(of: source)
        let keys = definitions.joinKeys(of: view)
        let compiled: ViewTransform?
        do {
            compiled = try ViewTransform(view: view)
        } catch {
            throw TrainingSetError("feature view '\(view.name)': \(error.message)", hint: error.hint)
        }
        var wanted: [String] = []
        // Derived features are computed from the columns their expressions read.
        let read = features.filter { compiled?.derives($0.name) != true }.map(\.name)
        let names =
            keys.map { columns.sourceColumn(for: $0.name) } + [columns.timestamp] + [columns.created].compactMap { $0 }
            + read.map { columns.sourceColumn(for: $0) }
            + inputs.filter { compiled?.derives($0.name) != true }.map { columns.sourceColumn(for: $0.name) }
            + (compiled?.inputs ?? []).map { columns.sourceColumn(for: $0.name) }
        for name in names where !wanted.contains(name) { wanted.append(name) }
        self.view = view
        self.source = source
        self.columns = columns
        self.keys = keys
        self.features = features
        self.filter = TimeFilter(column: columns.timestamp, lower: lower, upper: upper)
        self.inputs = inputs
        self.wanted = wanted
        transform = compiled
    }

    /// Calls `body` with every batch of the source, typed, in source order.
    func run(
        readers: (DataSource) throws -> [any SourceReader], threads: Int,
        _ body: (TypedSourceBatch, Int) throws -> Void
    ) throws {
        for reader in try readers(source) {
            try Prefetch.scan(reader, columns: wanted, filter: filter, threads: threads) { read in
                var batch = read
                if let transform {
                    do {
                        batch = try transform.apply(
                            read, column: { read.column(named: columns.sourceColumn(for: $0)) },
                            outputName: { columns.sourceColumn(for: $0) })
                    } catch let error as ExpressionError {
                        throw TrainingSetError(
                            "feature view '\(view.name)' (source '\(source.name)'): \(error.message)", hint: error.hint)
                    }
                }
                var typed = try TypedSourceBatch(
                    batch, source: source, columns: columns, keys: keys, features: features, view: view.name,
                    inputs: inputs)
                if transform != nil { typed.sourceRows = read.rowCount }
                try body(typed, batch.rowCount)
            }
        }
    }
}
