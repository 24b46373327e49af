import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline
import TesseraRegistry

extension FeatureStore {
    /// Builds a point-in-time-correct training set from the applied definitions (see
    /// docs/semantics.md), with the offline engine `tessera.yaml` names.
    ///
    /// - Parameter progress: short phase descriptions, for a progress line.
    public func trainingSet(
        _ request: TrainingSetRequest, progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> TrainingSet {
        let definitions = try applied().definitions
        return try offline.trainingSet(request, definitions: definitions, progress: progress)
    }

    /// What the offline engine would run for `request` (`tessera training-set --explain`): a
    /// SQL engine's generated queries and where each view is computed.
    public func explainTrainingSet(_ request: TrainingSetRequest) throws -> String {
        try offline.explain(request, definitions: try applied().definitions)
    }

    /// The views, features and key columns a request resolves to against the applied
    /// definitions (to read an entity file with the key types the join needs).
    public func resolve(_ request: TrainingSetRequest) throws -> (
        views: [ViewSelection], keyColumns: [String: String], definitions: Definitions
    ) {
        let definitions = try applied().definitions
        let (views, keyColumns, _) = try FeatureResolution.selections(for: request, in: definitions)
        return (views, keyColumns, definitions)
    }
}
