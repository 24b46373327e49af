import TesseraCore

/// How one column of a PostgreSQL source is read: the expression selected for it (a cast
/// where the server's type has no binary form of ours) and what its binary values decode to.
///
/// Every type is readable: those without a Tessera counterpart (`uuid`, `json`, enums,
/// `interval`, …) are read as their text form, as `psql` prints them.
public struct PostgresColumnType: Sendable, Equatable {
    /// What the binary values of the selected expression are.
    public indirect enum Wire: Sendable, Equatable {
        case bool, int32, int64, float32, float64, text, bytes
        /// Microseconds since 2000-01-01 00:00 (UTC for `timestamptz`; as UTC for `timestamp`).
        case timestamp
        /// A one-dimensional array of elements.
        case array(Wire)
    }

    /// The server's type name (`format_type`), for messages.
    public var serverType: String
    /// `::type` appended to the column in the select list, or `""`.
    public var cast: String
    public var wire: Wire
    public var type: ValueType
    /// The type a time filter's literals are cast to, for a column the server can filter
    /// on (`timestamptz`: instants; `timestamp` and `date`: UTC wall times); else `nil`.
    public var filterCast: String?

    /// The reading of a column whose type has OID `oid`, named `serverType` by the server.
    public init(oid: Int64, serverType: String) {
        self.serverType = serverType
        filterCast = oid == 1184 ? "timestamptz" : (oid == 1114 || oid == 1082 ? "timestamp" : nil)
        func scalar(_ oid: Int64) -> (cast: String, wire: Wire, type: ValueType)? {
            switch oid {
            case 16: ("", .bool, .bool)
            case 21: ("int4", .int32, .int32)  // int2, widened by the server
            case 23: ("", .int32, .int32)
            case 20: ("", .int64, .int64)
            case 700: ("", .float32, .float32)
            case 701: ("", .float64, .float64)
            case 1700: ("float8", .float64, .float64)  // numeric
            case 25: ("", .text, .string)
            case 17: ("", .bytes, .bytes)
            case 1114, 1184: ("", .timestamp, .timestamp)
            case 1082: ("timestamp", .timestamp, .timestamp)  // date: its midnight
            default: nil
            }
        }
        // Array types and their element types.
        let arrays: [Int64: Int64] = [
            1000: 16, 1005: 21, 1007: 23, 1016: 20, 1021: 700, 1022: 701, 1231: 1700, 1009: 25, 1015: 25, 1001: 17,
            1115: 1114, 1185: 1184, 1182: 1082,
        ]
        if let (cast, wire, type) = scalar(oid) {
            self.cast = cast
            self.wire = wire
            self.type = type
        } else if let elementOID = arrays[oid], let (cast, wire, type) = scalar(elementOID) {
            // varchar[] (1015) reads as text[]; other element casts carry over to the array.
            self.cast = oid == 1015 ? "text[]" : (cast.isEmpty ? "" : cast + "[]")
            self.wire = .array(wire)
            self.type = .list(type)
        } else {
            // varchar, char, name, uuid, json, enums, …: their text form.
            self.cast = "text"
            self.wire = .text
            self.type = .string
        }
    }

    /// The select-list entry reading `column` (already quoted).
    public func select(_ column: String) -> String {
        cast.isEmpty ? column : "\(column)::\(cast)"
    }
}
