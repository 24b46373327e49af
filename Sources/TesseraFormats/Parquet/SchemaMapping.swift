import TesseraColumnar
import TesseraCore

/// How a leaf's stored values become Tessera values.
enum ValueConversion: Sendable, Equatable {
    case none
    /// INT64 timestamps in milliseconds (×1000) or nanoseconds (÷1000, rounding down).
    case timestampMillis, timestampNanos
    /// INT32 days since the epoch, to midnight UTC in microseconds.
    case date
    /// INT96 (nanoseconds of day, Julian day) to microseconds.
    case int96
    /// UINT32 stored in INT32, widened to int64.
    case uint32
    /// UINT64 stored in INT64; values over Int64.max are an error.
    case uint64
    /// DECIMAL (INT32, INT64, BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY unscaled integers) to float64.
    case decimal(scale: Int32)
}

/// One leaf column of the file (a primitive at the end of a schema path).
struct LeafColumn: Sendable {
    /// The position of this leaf among the row group's column chunks.
    var index: Int
    var path: [String]
    var physical: PhysicalType
    var typeLength: Int
    var maxDefinition: Int
    var maxRepetition: Int
    /// The Tessera type of one value (the element type for lists).
    var valueType: ValueType
    var conversion: ValueConversion
    /// For lists: the definition level at which the list is present (not null).
    var listDefinition: Int
    /// For lists: the definition level at which an element slot exists.
    var elementDefinition: Int
    /// Whether this leaf is a list's element (so the Tessera column is `list<valueType>`).
    var isList: Bool
    var isUTF8: Bool

    /// The bytes one stored value takes in the fixed-width decoders (0 for byte arrays).
    var storedWidth: Int {
        switch physical {
        case .boolean: 1
        case .int32, .float: 4
        case .int64, .double: 8
        case .int96: 12
        case .fixedLenByteArray: typeLength
        case .byteArray: 0
        }
    }
}

/// A top-level column of the file as Tessera sees it.
struct MappedField: Sendable {
    var field: Field
    var leaf: Int
}

/// The file's schema mapped to Tessera: supported top-level columns, and the ones skipped with why.
struct SchemaMapping: Sendable {
    var leaves: [LeafColumn] = []
    var fields: [MappedField] = []
    var unsupported: [(name: String, reason: String)] = []

    init(_ elements: [SchemaElement]) throws(DecodeError) {
        guard let root = elements.first else { throw DecodeError("the schema is empty") }
        let rootChildren = Int(root.numChildren ?? 0)
        guard rootChildren >= 0, rootChildren < elements.count else {
            throw DecodeError(
                "the schema root claims \(rootChildren) children but \(elements.count - 1) elements follow")
        }
        var position = 1
        for _ in 0..<rootChildren {
            let node = try SchemaNode.parse(elements, &position, depth: 1)
            try add(node)
        }
        guard position == elements.count else {
            throw DecodeError("the schema has \(elements.count - position) elements outside the root's children")
        }
    }

    private mutating func add(_ node: SchemaNode) throws(DecodeError) {
        let firstLeaf = leaves.count
        let leafCount = node.leafCount
        defer {
            // Keep leaf indices aligned with column chunks even for skipped fields.
            while leaves.count < firstLeaf + leafCount {
                leaves.append(LeafColumn.placeholder(index: leaves.count))
            }
        }
        let element = node.element
        let optional = element.repetition == .optional
        if node.children.isEmpty {
            guard let physical = element.type else {
                unsupported.append((element.name, "a primitive without a physical type"))
                return
            }
            if element.repetition == .repeated {
                // A bare repeated primitive is a list of required elements that is never null.
                guard var leaf = LeafColumn.make(element, physical, index: firstLeaf, path: [element.name]) else {
                    unsupported.append((element.name, "type \(physical.name) with its annotation is not supported"))
                    return
                }
                leaf.maxDefinition = 1
                leaf.maxRepetition = 1
                leaf.isList = true
                leaf.listDefinition = 0
                leaf.elementDefinition = 1
                leaves.append(leaf)
                fields.append(
                    MappedField(field: Field(element.name, .list(leaf.valueType), nullable: false), leaf: firstLeaf))
                return
            }
            guard var leaf = LeafColumn.make(element, physical, index: firstLeaf, path: [element.name]) else {
                unsupported.append((element.name, "type \(physical.name) with its annotation is not supported"))
                return
            }
            leaf.maxDefinition = optional ? 1 : 0
            leaves.append(leaf)
            fields.append(MappedField(field: Field(element.name, leaf.valueType, nullable: optional), leaf: firstLeaf))
            return
        }
        let isListAnnotated = annotated(element.logicalType, .list) || element.convertedType == .list
        guard isListAnnotated, element.repetition != .repeated, node.children.count == 1 else {
            unsupported.append((element.name, "nested groups (structs, maps, nested lists) are not supported"))
            return
        }
        let repeated = node.children[0]
        guard repeated.element.repetition == .repeated else {
            unsupported.append((element.name, "a LIST whose child is not repeated"))
            return
        }
        let listDefinition = optional ? 1 : 0
        let elementNode: SchemaNode
        var elementOptional = false
        var path = [element.name, repeated.element.name]
        if repeated.children.isEmpty {
            elementNode = repeated  // legacy 2-level list: the repeated primitive is the element
        } else if repeated.children.count == 1, repeated.element.name != "array",
            repeated.element.name != element.name + "_tuple", repeated.children[0].children.isEmpty
        {
            elementNode = repeated.children[0]
            elementOptional = elementNode.element.repetition == .optional
            path.append(elementNode.element.name)
        } else {
            unsupported.append((element.name, "lists of structs or nested lists are not supported"))
            return
        }
        guard let physical = elementNode.element.type,
            var leaf = LeafColumn.make(elementNode.element, physical, index: firstLeaf, path: path)
        else {
            unsupported.append((element.name, "the list element's type is not supported"))
            return
        }
        leaf.isList = true
        leaf.maxRepetition = 1
        leaf.listDefinition = listDefinition
        leaf.elementDefinition = listDefinition + 1
        leaf.maxDefinition = listDefinition + 1 + (elementOptional ? 1 : 0)
        leaves.append(leaf)
        fields.append(
            MappedField(field: Field(element.name, .list(leaf.valueType), nullable: optional), leaf: firstLeaf))
    }
}

/// A node of the schema tree rebuilt from the flattened element list.
struct SchemaNode {
    var element: SchemaElement
    var children: [SchemaNode]

    var leafCount: Int { children.isEmpty ? (element.type == nil ? 0 : 1) : children.reduce(0) { $0 + $1.leafCount } }

    static func parse(_ elements: [SchemaElement], _ position: inout Int, depth: Int) throws(DecodeError) -> SchemaNode
    {
        guard depth < 64 else { throw DecodeError("the schema nests deeper than 64 levels") }
        guard position < elements.count else { throw DecodeError("the schema ends before all children are listed") }
        let element = elements[position]
        position += 1
        let childCount = Int(element.numChildren ?? 0)
        guard childCount >= 0, childCount <= elements.count - position else {
            throw DecodeError("schema element '\(element.name)' claims \(childCount) children, more than remain")
        }
        if element.numChildren != nil, element.type == nil, childCount == 0 {
            return SchemaNode(element: element, children: [])
        }
        var children: [SchemaNode] = []
        for _ in 0..<childCount { children.append(try parse(elements, &position, depth: depth + 1)) }
        return SchemaNode(element: element, children: children)
    }
}

extension LeafColumn {
    static func placeholder(index: Int) -> LeafColumn {
        LeafColumn(
            index: index, path: [], physical: .boolean, typeLength: 0, maxDefinition: 0, maxRepetition: 0,
            valueType: .bool, conversion: .none, listDefinition: 0, elementDefinition: 0, isList: false, isUTF8: false)
    }

    /// The Tessera type and conversion for a primitive; nil when it has no Tessera mapping.
    static func make(_ e: SchemaElement, _ physical: PhysicalType, index: Int, path: [String]) -> LeafColumn? {
        var leaf = placeholder(index: index)
        leaf.path = path
        leaf.physical = physical
        leaf.typeLength = Int(e.typeLength ?? 0)
        let logical = e.logicalType
        let converted = e.convertedType
        var decimalScale: Int32?
        if case .decimal(let scale, _)? = logical { decimalScale = scale }
        if decimalScale == nil, converted == .decimal { decimalScale = e.scale ?? 0 }
        switch physical {
        case .boolean:
            leaf.valueType = .bool
        case .int32:
            if let decimalScale {
                (leaf.valueType, leaf.conversion) = (.float64, .decimal(scale: decimalScale))
            } else if annotated(logical, .date) || converted == .date {
                (leaf.valueType, leaf.conversion) = (.timestamp, .date)
            } else if annotated(logical, .integer(bitWidth: 32, signed: false)) || converted == .uint32 {
                (leaf.valueType, leaf.conversion) = (.int64, .uint32)
            } else {
                leaf.valueType = .int32
            }
        case .int64:
            if let decimalScale {
                (leaf.valueType, leaf.conversion) = (.float64, .decimal(scale: decimalScale))
            } else if case .timestamp(_, let unit)? = logical {
                leaf.valueType = .timestamp
                leaf.conversion = unit == .millis ? .timestampMillis : (unit == .nanos ? .timestampNanos : .none)
            } else if converted == .timestampMillis {
                (leaf.valueType, leaf.conversion) = (.timestamp, .timestampMillis)
            } else if converted == .timestampMicros {
                leaf.valueType = .timestamp
            } else if annotated(logical, .integer(bitWidth: 64, signed: false)) || converted == .uint64 {
                (leaf.valueType, leaf.conversion) = (.int64, .uint64)
            } else {
                leaf.valueType = .int64
            }
        case .int96:
            (leaf.valueType, leaf.conversion) = (.timestamp, .int96)
        case .float:
            leaf.valueType = .float32
        case .double:
            leaf.valueType = .float64
        case .byteArray, .fixedLenByteArray:
            // Widths past 1 MiB are not real data; refusing them bounds every buffer sized by the width.
            if physical == .fixedLenByteArray, leaf.typeLength <= 0 || leaf.typeLength > 1 << 20 { return nil }
            if let decimalScale {
                (leaf.valueType, leaf.conversion) = (.float64, .decimal(scale: decimalScale))
            } else if physical == .byteArray,
                [.string, .enumeration, .json].contains(logical) || [.utf8, .enumeration, .json].contains(converted)
            {
                leaf.valueType = .string
                leaf.isUTF8 = true
            } else {
                leaf.valueType = .bytes
            }
        }
        return leaf
    }
}

private func annotated(_ logical: LogicalType?, _ expected: LogicalType) -> Bool {
    guard let logical else { return false }
    return logical == expected
}
