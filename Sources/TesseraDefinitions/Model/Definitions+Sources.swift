/// How a view's rows are read: the columns that hold times, and renames.
public struct SourceColumns: Hashable, Sendable {
    /// The event-time column, as named in the source's files.
    public var timestamp: String
    /// The created-time column, if any.
    public var created: String?
    /// Source column → name used by views.
    public var mapping: [String: String]

    /// The source column that holds `name` (a feature or join key, as the view calls it).
    public func sourceColumn(for name: String) -> String {
        mapping.first { $0.value == name }?.key ?? name
    }

    /// The source columns a join reads for the keys and features `names` (as views name
    /// them): keys, event time, created time, features, each once, in that order.
    public func joinColumns(keys: [String], features: [String]) -> [String] {
        var out: [String] = []
        for name in keys.map(sourceColumn(for:)) + [timestamp] + [created].compactMap({ $0 })
            + features.map(sourceColumn(for:)) where !out.contains(name)
        {
            out.append(name)
        }
        return out
    }
}

extension Definitions {
    /// The columns a view's source is read with; a push source inherits what it does not say
    /// from its batch source.
    public func sourceColumns(of source: DataSource) -> SourceColumns {
        var columns = SourceColumns(
            timestamp: source.timestampField, created: source.createdTimestampField, mapping: source.fieldMapping)
        if case .push(let batchName?) = source.kind, let batch = self.source(batchName) {
            if columns.timestamp.isEmpty { columns.timestamp = batch.timestampField }
            if columns.created == nil { columns.created = batch.createdTimestampField }
            columns.mapping = batch.fieldMapping.merging(source.fieldMapping) { _, own in own }
        }
        return columns
    }
}
