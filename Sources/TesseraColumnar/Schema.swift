import TesseraCore

/// A named, typed column slot.
public struct Field: Hashable, Sendable {
    public var name: String
    public var type: ValueType
    public var nullable: Bool

    public init(_ name: String, _ type: ValueType, nullable: Bool = true) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// The ordered fields of a batch or a file.
public struct Schema: Hashable, Sendable {
    public var fields: [Field]

    public init(_ fields: [Field]) {
        self.fields = fields
    }

    public var names: [String] { fields.map(\.name) }

    /// The position of the first field called `name`.
    public func index(of name: String) -> Int? {
        fields.firstIndex { $0.name == name }
    }

    public subscript(name: String) -> Field? {
        index(of: name).map { fields[$0] }
    }
}

/// Columns of equal length under a schema: the unit readers yield and kernels consume.
public struct RecordBatch: Sendable, Equatable {
    public private(set) var schema: Schema
    public private(set) var columns: [Column]
    public let rowCount: Int

    /// A batch; throws when the columns' types or lengths disagree with the schema.
    public init(schema: Schema, columns: [Column]) throws(ColumnarError) {
        guard schema.fields.count == columns.count else {
            throw .shape("schema has \(schema.fields.count) fields but \(columns.count) columns were given")
        }
        let rows = columns.first?.count ?? 0
        for (field, column) in zip(schema.fields, columns) {
            guard field.type == column.type else {
                throw .shape("column '\(field.name)' is \(column.type) but the schema says \(field.type)")
            }
            guard column.count == rows else {
                throw .shape("column '\(field.name)' has \(column.count) rows, expected \(rows)")
            }
        }
        self.schema = schema
        self.columns = columns
        self.rowCount = rows
    }

    /// A batch with the given named columns, nullable fields.
    public init(_ named: KeyValuePairs<String, Column>) throws(ColumnarError) {
        try self.init(
            schema: Schema(named.map { Field($0.key, $0.value.type) }), columns: named.map(\.value))
    }

    /// An empty batch of `schema`.
    public init(empty schema: Schema) {
        self.schema = schema
        self.columns = schema.fields.map { Column(empty: $0.type) }
        self.rowCount = 0
    }

    public func column(named name: String) -> Column? {
        schema.index(of: name).map { columns[$0] }
    }

    /// A batch of the named columns, in that order; throws naming a missing column.
    public func project(_ names: [String]) throws(ColumnarError) -> RecordBatch {
        var fields: [Field] = []
        var picked: [Column] = []
        for name in names {
            guard let index = schema.index(of: name) else {
                throw .missingColumn(name, available: schema.names)
            }
            fields.append(schema.fields[index])
            picked.append(columns[index])
        }
        return try RecordBatch(schema: Schema(fields), columns: picked)
    }

    /// The batch with one more column at the end.
    public func appending(_ field: Field, _ column: Column) throws(ColumnarError) -> RecordBatch {
        try RecordBatch(schema: Schema(schema.fields + [field]), columns: columns + [column])
    }

    /// Row `index` as scalar values (slow path).
    public func row(_ index: Int) -> [ScalarValue] {
        columns.map { $0.value(at: index) }
    }
}

/// Errors of the columnar layer: shapes that do not fit, columns that are missing.
public enum ColumnarError: Error, Sendable, Equatable, CustomStringConvertible {
    case shape(String)
    case missingColumn(String, available: [String])
    case typeMismatch(String)

    public var description: String {
        switch self {
        case .shape(let message): return message
        case .missingColumn(let name, let available):
            var text = "no column named '\(name)'"
            if let hint = Suggestions.hint(for: name, in: available) { text += "; \(hint)" }
            return text + " (columns: \(available.joined(separator: ", ")))"
        case .typeMismatch(let message): return message
        }
    }
}
