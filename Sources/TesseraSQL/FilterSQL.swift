import TesseraCore
import TesseraDefinitions
import TesseraEngine
import TesseraExpressions

/// A view's `filter` as a SQL condition, for the part of the expression language whose SQL
/// means exactly what the language does in both dialects: comparisons of numbers, of strings
/// (by their bytes) and of bools, `AND`/`OR`/`NOT`, `IS [NOT] NULL`, `IN` and `BETWEEN`, over
/// columns and literals. Three-valued logic is SQL's, and a row whose condition is null is
/// dropped, as natively; NaN equals itself and sorts above every number, and `-0 = 0`, in
/// PostgreSQL, Spark and the language alike. Anything else (arithmetic, whose overflow and
/// division rules differ between engines, functions, casts) gives `nil`: the view then runs
/// natively.
public enum FilterSQL {
    /// A column the condition may read: the select-list expression that reads it (already
    /// quoted, with the engine's cast) and its type.
    public typealias Input = (sql: String, type: ValueType)

    /// `text` as a condition over `columns` (by the view's names), or `nil`.
    public static func condition(_ text: String, columns: [String: Input], dialect: SQLDialect) -> String? {
        guard let expression = try? ExpressionParser.parse(text) else { return nil }
        return Translation(columns: columns, dialect: dialect).condition(expression)
    }

    struct Translation {
        let columns: [String: Input]
        let dialect: SQLDialect

        enum Family {
            case number, string, bool, null
        }

        func family(_ type: ValueType) -> Family? {
            switch type {
            case .int32, .int64, .float32, .float64: .number
            case .string: .string
            case .bool: .bool
            default: nil
            }
        }

        /// A value (column or literal) and its family.
        func value(_ e: Expression) -> (String, Family)? {
            switch e.kind {
            case .null: return ("NULL", .null)
            case .bool(let b): return (b ? "TRUE" : "FALSE", .bool)
            case .integer(let v): return (String(v), .number)
            case .float(let d):
                guard d.isFinite else { return nil }
                return ("CAST('\(d)' AS \(dialect == .postgres ? "float8" : "DOUBLE"))", .number)
            case .string(let s): return (literal(s), .string)
            case .negate(let inner):
                switch inner.kind {
                case .integer(let v) where v != Int64.min: return (String(-v), .number)
                case .float(let d) where d.isFinite:
                    return ("CAST('\(-d)' AS \(dialect == .postgres ? "float8" : "DOUBLE"))", .number)
                default: return nil
                }
            case .column(let name):
                guard let input = columns[name], let family = family(input.type) else { return nil }
                return (input.sql, family)
            default: return nil
            }
        }

        func literal(_ s: String) -> String {
            switch dialect {
            case .postgres: return "'" + s.replacingAll("'", with: "''") + "'"
            case .spark: return "'" + s.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'") + "'"
            }
        }

        /// Operands of one comparison, in one family (null literals go with any).
        func operands(_ items: [Expression]) -> ([String], Family)? {
            var out: [String] = []
            var family: Family = .null
            for item in items {
                guard let (sql, f) = value(item) else { return nil }
                if f != .null {
                    if family != .null && family != f { return nil }
                    family = f
                }
                out.append(sql)
            }
            // Strings compare by their bytes, whatever the database's collation.
            if family == .string, dialect == .postgres { out = out.map { "(\($0)) COLLATE \"C\"" } }
            return (out, family)
        }

        func condition(_ e: Expression) -> String? {
            switch e.kind {
            case .bool, .null: return value(e)?.0
            case .column:
                guard let (sql, family) = value(e), family == .bool else { return nil }
                return sql
            case .not(let inner): return condition(inner).map { "(NOT \($0))" }
            case .binary(let op, let a, let b):
                switch op {
                case .and, .or:
                    guard let x = condition(a), let y = condition(b) else { return nil }
                    return "(\(x) \(op.rawValue) \(y))"
                case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
                    guard let (sides, _) = operands([a, b]) else { return nil }
                    return "(\(sides[0]) \(op.rawValue) \(sides[1]))"
                default: return nil
                }
            case .isNull(let inner, let negated):
                guard let (sql, _) = value(inner) else { return nil }
                return "(\(sql) IS \(negated ? "NOT " : "")NULL)"
            case .inList(let inner, let items, let negated):
                guard !items.isEmpty, let (sides, _) = operands([inner] + items) else { return nil }
                return "(\(sides[0]) \(negated ? "NOT " : "")IN (\(sides.dropFirst().joined(separator: ", "))))"
            case .between(let inner, let low, let high, let negated):
                guard let (sides, _) = operands([inner, low, high]) else { return nil }
                return "(\(sides[0]) \(negated ? "NOT " : "")BETWEEN \(sides[1]) AND \(sides[2]))"
            default: return nil
            }
        }
    }
}

extension FilterSQL {
    /// The condition of `view`'s filter (`nil` without one), or why the SQL cannot apply the
    /// view's transforms: derived features, or a filter outside the translated subset.
    /// `column` reads a source column (by its source name), or `nil` when it cannot.
    public static func transforms(
        of view: FeatureView, columns: SourceColumns, dialect: SQLDialect, _ column: (String) -> Input?
    ) -> Result<String?, NativeReason> {
        if view.features.contains(where: { $0.expression != nil || $0.aggregation?.expression != nil }) {
            return .failure(NativeReason("it has derived features, which the SQL does not express yet"))
        }
        guard let filter = view.filter else { return .success(nil) }
        var inputs: [String: Input] = [:]
        for name in (view.expressionInputs ?? [:]).keys {
            if let found = column(columns.sourceColumn(for: name)) { inputs[name] = found }
        }
        guard let condition = condition(filter, columns: inputs, dialect: dialect) else {
            return .failure(
                NativeReason(
                    "its filter uses what the SQL does not express yet (only comparisons, AND/OR/NOT, IS NULL, IN and BETWEEN of columns and literals are)"
                ))
        }
        return .success(condition)
    }
}
