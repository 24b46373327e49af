import TesseraColumnar
import TesseraCore

/// Hive-style partition folders (`year=2026/month=01/…`) turned into columns.
struct Partitions {
    var fields: [Field] = []
    /// Per file, one value per field (nil for null).
    var values: [[String?]] = []

    static let nullMarker = "__HIVE_DEFAULT_PARTITION__"

    init(paths: [String], base: String) throws(FormatError) {
        var keys: [String]?
        var raw: [[String?]] = []
        for path in paths {
            var relative = path
            if base == "." {
                relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
            } else if path.hasPrefix(base) {
                relative = String(path.dropFirst(base.count))
            }
            let folders = relative.split(separator: "/").dropLast()
            var fileKeys: [String] = []
            var fileValues: [String?] = []
            for folder in folders {
                guard let equals = folder.firstIndex(of: "=") else { continue }
                let key = String(folder[..<equals])
                let value = Partitions.unescape(String(folder[folder.index(after: equals)...]))
                guard !key.isEmpty else { continue }
                fileKeys.append(key)
                fileValues.append(value == Partitions.nullMarker ? nil : value)
            }
            if let keys, keys != fileKeys {
                throw FormatError(
                    file: path,
                    "partition folders \(fileKeys.isEmpty ? "(none)" : fileKeys.joined(separator: ", ")) differ from the other files' (\(keys.joined(separator: ", ")))"
                )
            }
            keys = fileKeys
            raw.append(fileValues)
        }
        for (index, key) in (keys ?? []).enumerated() {
            let allIntegers = raw.allSatisfy { $0[index].map { Int64($0) != nil } ?? true }
            fields.append(Field(key, allIntegers ? .int64 : .string))
        }
        values = raw
    }

    /// Undoes hive's %XX escaping of special characters in folder names.
    static func unescape(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == 37, i + 2 < utf8.count,
                let hex = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(hex)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A column repeating one partition value.
    static func constant(_ value: String?, type: ValueType, count: Int) -> Column {
        guard let value else { return Column(nulls: type, count: count) }
        if type == .int64, let number = Int64(value) {
            return .int64([Int64](repeating: number, count: count))
        }
        var data = BinaryData()
        let bytes = Array(value.utf8)
        data.bytes.reserveCapacity(bytes.count * count)
        data.offsets.reserveCapacity(count + 1)
        for _ in 0..<count { data.append(bytes: bytes) }
        return Column(type: .string, data: .binary(data))
    }
}
