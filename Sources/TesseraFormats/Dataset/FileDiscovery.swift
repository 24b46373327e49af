import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds a dataset's files: a file, a folder (recursively), or a glob with `*`, `?`, `[…]` and `**`.
enum FileDiscovery {
    /// The files of `source`, sorted, each with the folder partition names are read relative to.
    static func files(_ source: String, fileExtension: String, formatName: String) throws(FormatError) -> (
        base: String, files: [String]
    ) {
        let manager = FileManager.default
        if !isGlob(source) {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw FormatError(file: source, "no such file or folder")
            }
            if !isDirectory.boolValue {
                let parent = (source as NSString).deletingLastPathComponent
                return (parent, [source])
            }
            let found = walk(source).filter { $0.hasSuffix("." + fileExtension) }.sorted()
            guard !found.isEmpty else {
                throw FormatError(file: source, "folder holds no *.\(fileExtension) files")
            }
            return (source, found)
        }
        let absolute = source.hasPrefix("/")
        let parts = source.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // The folder before the first wildcard is where the walk starts (and partitions are relative to).
        let literal = parts.prefix { !isGlob($0) }
        let base = (absolute ? "/" : "") + literal.joined(separator: "/")
        let root = base.isEmpty ? "." : base
        let pattern = Array(parts.dropFirst(literal.count))
        var matches: [String] = []
        match(root, pattern[...], into: &matches)
        let found = Set(matches).sorted()
        guard !found.isEmpty else { throw FormatError(file: source, "no \(formatName) files match") }
        // `data/year=2026/*.parquet` still has a `year` partition: key=value folders written
        // out before the wildcard belong to the partition path, not to the base.
        let partitionLiteral = literal.reversed().drop { $0.contains("=") }.reversed()
        let partitionBase = (absolute ? "/" : "") + partitionLiteral.joined(separator: "/")
        return (partitionBase.isEmpty ? "." : partitionBase, found)
    }

    static func isGlob(_ text: String) -> Bool { text.contains { $0 == "*" || $0 == "?" || $0 == "[" } }

    /// Hidden and bookkeeping entries (`.x`, `_SUCCESS`, temporary files) are never data.
    static func isHidden(_ name: String) -> Bool { name.hasPrefix(".") || name.hasPrefix("_") }

    private static func entries(_ folder: String) -> [(name: String, isDirectory: Bool)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { !isHidden($0) }.sorted().map { name in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory)
            return (name, isDirectory.boolValue)
        }
    }

    private static func walk(_ folder: String, depth: Int = 0) -> [String] {
        guard depth < 64 else { return [] }
        var out: [String] = []
        for entry in entries(folder) {
            let path = folder + "/" + entry.name
            if entry.isDirectory { out += walk(path, depth: depth + 1) } else { out.append(path) }
        }
        return out
    }

    private static func match(_ folder: String, _ pattern: ArraySlice<String>, into out: inout [String], depth: Int = 0)
    {
        guard let head = pattern.first, depth < 64 else { return }
        let rest = pattern.dropFirst()
        if head == "**" {
            match(folder, rest, into: &out, depth: depth + 1)  // zero folders
            for entry in entries(folder) where entry.isDirectory {
                match(folder + "/" + entry.name, pattern, into: &out, depth: depth + 1)
            }
            return
        }
        for entry in entries(folder) where fnmatch(head, entry.name, 0) == 0 {
            let path = folder + "/" + entry.name
            if rest.isEmpty {
                if !entry.isDirectory { out.append(path) }
            } else if entry.isDirectory {
                match(path, rest, into: &out, depth: depth + 1)
            }
        }
    }
}
