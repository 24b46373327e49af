import Foundation
import TesseraCore
import Yams

/// A feature repository on disk: its `tessera.yaml` and every definition file, loaded and validated.
public struct FeatureRepository: Sendable {
    /// The repository's folder, as an absolute path.
    public let root: String
    public let config: ProjectConfig
    public let definitions: Definitions
    /// Where each object was declared (`file:line:column`, file relative to the root).
    public let locations: [ObjectID: SourceLocation]
    /// Where each field of each object was written (`schema`, `entities`, `path`, …).
    public let fieldLocations: [ObjectID: [String: SourceLocation]]
    /// Definition files read, relative to the root, sorted.
    public let files: [String]
    /// Warnings found while loading (errors make `load` throw instead).
    public let warnings: [Diagnostic]

    public static let configFile = "tessera.yaml"

    /// The same repository with other definitions (aggregation input types filled in, say).
    public func replacing(definitions: Definitions) -> FeatureRepository {
        FeatureRepository(
            root: root, config: config, definitions: definitions, locations: locations, fieldLocations: fieldLocations,
            files: files, warnings: warnings)
    }

    /// Reads only `tessera.yaml` of the repository at `path`.
    ///
    /// - Returns: the repository's absolute folder and its settings.
    public static func loadConfig(at path: String) throws(DiagnosticsError) -> (root: String, config: ProjectConfig) {
        let (root, config, problems) = try readConfig(at: path)
        guard let config, problems.allSatisfy({ $0.severity != .error }) else { throw DiagnosticsError(problems) }
        return (root, config)
    }

    /// Reads `tessera.yaml`, keeping what parsed beside the problems found (so a caller can
    /// check the stores too and report everything at once).
    ///
    /// - Throws: only when there is no `tessera.yaml` to read.
    public static func readConfig(at path: String) throws(DiagnosticsError) -> (
        root: String, config: ProjectConfig?, problems: [Diagnostic]
    ) {
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        let configPath = root + "/" + configFile
        if FileManager.default.fileExists(atPath: configPath),
            (try? String(contentsOfFile: configPath, encoding: .utf8)) == nil
        {
            throw DiagnosticsError([
                Diagnostic(
                    .error, at: SourceLocation(file: configFile), "cannot read \(configFile) as UTF-8 text",
                    hint: "check the file's permissions and encoding")
            ])
        }
        guard let configText = try? String(contentsOfFile: configPath, encoding: .utf8) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory)
            let message =
                !exists
                ? "no such folder: \(path)"
                : (isDirectory.boolValue
                    ? "\(path) is not a feature repository: it has no \(configFile)" : "\(path) is not a folder")
            throw DiagnosticsError([
                Diagnostic(
                    .error, at: SourceLocation(file: path), message,
                    hint: "create one with `tessera init \(path)`, or point --repo at the repository's folder")
            ])
        }
        let configReader = YAMLReader(file: configFile)
        var config: ProjectConfig?
        do {
            if let node = try Yams.compose(yaml: configText) {
                config = ConfigParser(reader: configReader, root: root).parse(node)
            } else {
                configReader.error(nil, "\(configFile) is empty", hint: "it needs at least 'project: NAME'")
            }
        } catch {
            configReader.syntaxError(error)
        }
        return (root, config, configReader.diagnostics)
    }

    /// Loads and validates the repository at `path`.
    ///
    /// - Throws: `DiagnosticsError` listing every problem found, each with its file, line and column.
    public static func load(at path: String) throws(DiagnosticsError) -> FeatureRepository {
        let (root, config) = try loadConfig(at: path)
        let files = definitionFiles(root: root, globs: config.definitionGlobs)
        // Files are independent: parse them on every core (a 500-view repository has many).
        let parsed = parseFiles(files, root: root)
        var diagnostics: [Diagnostic] = []
        var merged = Definitions()
        var locations: [ObjectID: SourceLocation] = [:]
        var referenceLocations: [String: [SourceLocation]] = [:]
        var fieldLocations: [ObjectID: [String: SourceLocation]] = [:]
        for (file, result) in zip(files, parsed) {
            diagnostics += result.diagnostics
            let definitions = result.parsed.definitions
            func add<T>(_ items: [T], _ kind: ObjectKind, name: (T) -> String, into list: inout [T]) {
                for item in items {
                    let id = ObjectID(kind, name(item))
                    let here = result.parsed.locations[id] ?? SourceLocation(file: file)
                    if let first = locations[id] {
                        diagnostics.append(
                            Diagnostic(
                                .error, at: here,
                                "duplicate \(kind.label) name '\(id.name)'", hint: "first declared at \(first)"))
                        continue
                    }
                    locations[id] = here
                    list.append(item)
                }
            }
            add(definitions.entities, .entity, name: \.name, into: &merged.entities)
            add(definitions.sources, .source, name: \.name, into: &merged.sources)
            add(definitions.featureViews, .featureView, name: \.name, into: &merged.featureViews)
            add(definitions.featureServices, .featureService, name: \.name, into: &merged.featureServices)
            add(definitions.requestSources, .requestSource, name: \.name, into: &merged.requestSources)
            add(definitions.onDemandViews, .onDemandFeatureView, name: \.name, into: &merged.onDemandViews)
            referenceLocations.merge(result.parsed.referenceLocations) { first, _ in first }
            fieldLocations.merge(result.parsed.fieldLocations) { first, _ in first }
        }
        var validator = Validator(
            definitions: merged, locations: locations, referenceLocations: referenceLocations,
            fieldLocations: fieldLocations, root: root)
        diagnostics += validator.validate()
        diagnostics.sort { $0.location < $1.location }
        if diagnostics.contains(where: { $0.severity == .error }) {
            throw DiagnosticsError(diagnostics)
        }
        return FeatureRepository(
            root: root, config: config, definitions: merged.normalized, locations: locations,
            fieldLocations: fieldLocations, files: files,
            warnings: diagnostics)
    }

    struct FileResult: Sendable {
        var parsed = ParsedFile()
        var diagnostics: [Diagnostic] = []
    }

    private static func parseFiles(_ files: [String], root: String) -> [FileResult] {
        let results = ResultSlots<FileResult>(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            results.set(index, parseFile(files[index], root: root))
        }
        return results.values.map { $0 ?? FileResult() }
    }

    static func parseFile(_ file: String, root: String) -> FileResult {
        let reader = YAMLReader(file: file)
        var result = FileResult()
        guard let text = try? String(contentsOfFile: root + "/" + file, encoding: .utf8) else {
            reader.error(nil, "cannot read the file as UTF-8 text")
            result.diagnostics = reader.diagnostics
            return result
        }
        do {
            let parser = DefinitionParser(reader: reader)
            var documents = try Yams.compose_all(yaml: text)
            while let node = documents.next() {
                // An API-key file (`tessera api-key create --file`, often kept beside the
                // definitions) holds only `api_keys`: it is configuration, not definitions.
                if case .mapping(let mapping) = node, !mapping.isEmpty,
                    mapping.keys.allSatisfy({ $0.string == "api_keys" })
                {
                    continue
                }
                parser.parse(root: node, into: &result.parsed)
            }
            // The sequence stops at a syntax error and keeps it rather than throwing.
            if let error = documents.error { throw error }
        } catch {
            reader.syntaxError(error)
        }
        result.diagnostics = reader.diagnostics
        result.parsed.fieldLocations = reader.fieldLocations
        return result
    }

    /// Definition files under `root`: every `*.yaml`/`*.yml` outside hidden folders
    /// (so `.tessera/` and `.git/` are skipped), except `tessera.yaml`; or those matching `globs`.
    static func definitionFiles(root: String, globs: [String]?) -> [String] {
        let patterns = globs?.map(Glob.init)
        var files: [String] = []
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            guard name.hasSuffix(".yaml") || name.hasSuffix(".yml"), relative != configFile else { continue }
            if let patterns, !patterns.contains(where: { $0.matches(relative) }) { continue }
            files.append(relative)
        }
        return files.sorted()
    }
}
