import TesseraColumnar
import TesseraCore

extension ParquetWriter {
    static func physicalType(_ type: ValueType) -> PhysicalType {
        switch type {
        case .bool: .boolean
        case .int32: .int32
        case .int64, .timestamp: .int64
        case .float32: .float
        case .float64: .double
        case .string, .bytes: .byteArray
        case .list(let element): physicalType(element)
        }
    }

    static func leafPath(_ field: Field) -> [String] {
        field.type.isList ? [field.name, "list", "element"] : [field.name]
    }

    /// The schema elements of one field and its leaf's maximum levels.
    static func elements(for field: Field, path: String) throws(FormatError) -> ([SchemaElement], (Int, Int)) {
        let repetition: Repetition = field.nullable ? .optional : .required
        guard case .list(let element) = field.type else {
            var leaf = primitive(field.type, name: field.name)
            leaf.repetition = repetition
            return ([leaf], (field.nullable ? 1 : 0, 0))
        }
        guard !element.isList else {
            throw FormatError(file: path, "column '\(field.name)': nested lists cannot be written")
        }
        var group = SchemaElement(name: field.name, numChildren: 1, convertedType: .list, logicalType: .list)
        group.repetition = repetition
        var repeated = SchemaElement(name: "list", numChildren: 1)
        repeated.repetition = .repeated
        var leaf = primitive(element, name: "element")
        leaf.repetition = .optional
        return ([group, repeated, leaf], ((field.nullable ? 1 : 0) + 2, 1))
    }

    private static func primitive(_ type: ValueType, name: String) -> SchemaElement {
        var e = SchemaElement(name: name)
        e.type = physicalType(type)
        switch type {
        case .string:
            e.convertedType = .utf8
            e.logicalType = .string
        case .timestamp:
            e.convertedType = .timestampMicros
            e.logicalType = .timestamp(utc: true, unit: .micros)
        default:
            break
        }
        return e
    }
}
