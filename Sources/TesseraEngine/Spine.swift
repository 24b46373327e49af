import TesseraColumnar
import TesseraCore
import TesseraDefinitions
import TesseraOffline

/// Entity rows made from the sources themselves, for training sets without an entity file.
enum Spine {
    /// The distinct (join keys, event time) pairs of the views' sources with time in `start ... end`,
    /// sorted by time then keys. Every view must share the same join keys.
    static func build(
        selections: [ViewSelection], definitions: Definitions,
        readers: (DataSource) throws -> [any SourceReader], start: Timestamp, end: Timestamp,
        timestampColumn: String, threads: Int
    ) throws -> RecordBatch {
        guard start <= end else {
            throw TrainingSetError("the range is empty: --start \(start) is after --end \(end)")
        }
        guard let first = selections.first else { throw TrainingSetError("no features requested") }
        let keys = definitions.joinKeys(of: first.view)
        for selection in selections.dropFirst() where definitions.joinKeys(of: selection.view) != keys {
            throw TrainingSetError(
                "without an entity file every view must have the same join keys, but '\(first.view.name)' has [\(keys.map(\.name).joined(separator: ", "))] and '\(selection.view.name)' has [\(definitions.joinKeys(of: selection.view).map(\.name).joined(separator: ", "))]",
                hint: "request those views separately, or pass --entities FILE")
        }
        var keyParts: [[Column]] = Array(repeating: [], count: keys.count)
        var timeParts: [Column] = []
        var seenSources = Set<String>()
        for selection in selections where seenSources.insert(selection.view.source).inserted {
            guard let source = definitions.source(selection.view.source) else { continue }
            let columns = definitions.sourceColumns(of: source)
            let keyNames = keys.map { columns.sourceColumn(for: $0.name) }
            let filter = TimeFilter(column: columns.timestamp, lower: start.microseconds, upper: end.microseconds)
            for reader in try readers(source) {
                try reader.scan(columns: keyNames + [columns.timestamp], filter: filter, threads: threads) { batch in
                    let typed = try TypedSourceBatch(
                        batch, source: source, columns: columns, keys: keys, features: [], view: selection.view.name,
                        readCreated: false)
                    let events = typed.events
                    let values = events.int64Values ?? []
                    var keep: [Int] = []
                    for row in 0..<batch.rowCount where events.isValid(row) {
                        if values[row] >= start.microseconds && values[row] <= end.microseconds { keep.append(row) }
                    }
                    timeParts.append(events.take(keep))
                    for (k, column) in typed.keys.enumerated() {
                        keyParts[k].append(column.take(keep))
                    }
                }
            }
        }
        let time = timeParts.isEmpty ? Column(empty: .timestamp) : try Column.concatenate(timeParts)
        let keyColumns = try keys.indices.map { k in
            keyParts[k].isEmpty ? Column(empty: keys[k].type.joinKeyType) : try Column.concatenate(keyParts[k])
        }
        // Distinct (keys, time): group by keys+time through a key index over all of them.
        let all = keyColumns + [time]
        let index = KeyIndex(keys: all)
        var firstRow = [Int](repeating: -1, count: index.groupCount)
        for (row, group) in index.groupOfRow.enumerated() where group >= 0 && firstRow[Int(group)] < 0 {
            firstRow[Int(group)] = row
        }
        let distinct = firstRow.filter { $0 >= 0 }
        let unique = all.map { $0.take(distinct) }
        let order = Sorting.indices(by: [SortKey(unique[unique.count - 1])] + unique.dropLast().map { SortKey($0) })
        // Keys come out in their declared type when every value fits it (widened int64 otherwise).
        var columns = unique.map { $0.take(order) }
        for k in keys.indices { columns[k] = columns[k].cast(to: keys[k].type) ?? columns[k] }
        let fields = zip(keys, columns).map { Field($0.name, $1.type) } + [Field(timestampColumn, .timestamp)]
        return try RecordBatch(schema: Schema(fields), columns: columns)
    }
}
