import Foundation
import TesseraColumnar
import TesseraCore

/// The binary layout of a feature vector, as written by one batch of one view.
///
/// A stored value is `[presence bitmap][fixed slots][variable area]`:
/// - the bitmap has one bit per feature, set when the value is not null;
/// - each fixed-width feature (`bool` 1 byte, `int32`/`float32` 4, `int64`/`float64`/
///   `timestamp` 8) has a slot at an offset known from the layout, so reading one feature
///   decodes nothing else;
/// - each variable-width feature (`string`, `bytes`, lists) has a 4-byte slot holding the
///   end of its bytes in the variable area; its start is the previous variable feature's end.
///
/// Numbers are little-endian. Layouts are stored once per view (an id per row), so rows
/// written before and after a schema change both stay readable.
package struct RowLayout: Sendable, Hashable {
    struct Slot: Sendable, Hashable {
        var name: String
        var type: ValueType
        /// Offset of the fixed slot, from the start of the fixed area.
        var offset: Int
        /// For variable-width fields, the position of the previous variable field (`-1`: none);
        /// unused for fixed-width fields.
        var previousVariable: Int
        var isVariable: Bool
    }

    let slots: [Slot]
    let bitmapBytes: Int
    let fixedSize: Int
    private let index: [String: Int]

    package init(fields: [(name: String, type: ValueType)]) {
        var slots: [Slot] = []
        var offset = 0
        var previous = -1
        for (position, field) in fields.enumerated() {
            let width = RowLayout.fixedWidth(field.type)
            let isVariable = width == nil
            slots.append(
                Slot(
                    name: field.name, type: field.type, offset: offset, previousVariable: isVariable ? previous : -1,
                    isVariable: isVariable))
            offset += width ?? 4
            if isVariable { previous = position }
        }
        self.slots = slots
        self.bitmapBytes = (fields.count + 7) / 8
        self.fixedSize = offset
        var index: [String: Int] = [:]
        for (position, slot) in slots.enumerated() { index[slot.name] = position }
        self.index = index
    }

    package static func == (lhs: RowLayout, rhs: RowLayout) -> Bool { lhs.slots == rhs.slots }
    package func hash(into hasher: inout Hasher) { hasher.combine(slots) }

    /// The position of feature `name`, if this layout holds it.
    package func position(of name: String) -> Int? { index[name] }

    static func fixedWidth(_ type: ValueType) -> Int? {
        switch type {
        case .bool: 1
        case .int32, .float32: 4
        case .int64, .float64, .timestamp: 8
        case .string, .bytes, .list: nil
        }
    }

    /// The layout as stored text (a JSON array of `[name, type]`), compared to find an existing layout.
    package var spec: String {
        let pairs = slots.map { [$0.name, $0.type.name] }
        let data = (try? JSONEncoder().encode(pairs)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads a layout back from `spec`; `nil` when the text is not one.
    package init?(spec: String) {
        guard let pairs = try? JSONDecoder().decode([[String]].self, from: Data(spec.utf8)) else { return nil }
        var fields: [(name: String, type: ValueType)] = []
        for pair in pairs {
            guard pair.count == 2, let type = ValueType(parsing: pair[1]) else { return nil }
            fields.append((pair[0], type))
        }
        self.init(fields: fields)
    }
}
