import Foundation
import Hummingbird
import TesseraApp
import TesseraCore
import TesseraDefinitions
import TesseraOnline

extension Handlers {
    /// The object kinds `/registry/{kind}` serves, with their JSON member names.
    static let registryKinds = [
        "entities", "feature-views", "feature-services", "sources", "request-sources", "on-demand-feature-views",
    ]

    /// `GET /registry/{kind}`: every applied object of a kind.
    func registryList(_ request: Request, _ kind: String) -> Response {
        if let denied = server.authenticator.check(request.headers[.authorization], needs: .reader) {
            return Handlers.errorResponse(denied)
        }
        let catalog = server.lookup.catalog()
        let definitions = catalog.definitions
        let encoded: Data?
        switch kind {
        case "entities": encoded = Handlers.encode(definitions.entities)
        case "feature-views": encoded = Handlers.encode(definitions.featureViews)
        case "feature-services": encoded = Handlers.encode(definitions.featureServices)
        case "sources": encoded = Handlers.encode(definitions.sources)
        case "request-sources": encoded = Handlers.encode(definitions.requestSources)
        case "on-demand-feature-views": encoded = Handlers.encode(definitions.onDemandViews)
        default: return Handlers.unknownKind(kind)
        }
        var writer = JSONWriter()
        writer.raw("{\"project\":")
        if let project = catalog.project { writer.string(project) } else { writer.null() }
        writer.raw(",\"registry_version\":")
        if let version = catalog.version { writer.int(Int64(version)) } else { writer.null() }
        writer.raw(",\"items\":")
        var bytes = writer.bytes
        bytes += encoded.map { Array($0) } ?? Array("[]".utf8)
        bytes.append(0x7D)
        return .json(bytes)
    }

    /// `GET /registry/{kind}/{name}`: one applied object.
    func registryObject(_ request: Request, _ kind: String, _ name: String) -> Response {
        if let denied = server.authenticator.check(request.headers[.authorization], needs: .reader) {
            return Handlers.errorResponse(denied)
        }
        let definitions = server.lookup.catalog().definitions
        let names: [String]
        let encoded: Data?
        switch kind {
        case "entities":
            names = definitions.entities.map(\.name)
            encoded = definitions.entity(name).flatMap(Handlers.encode)
        case "feature-views":
            names = definitions.featureViews.map(\.name)
            encoded = definitions.featureView(name).flatMap(Handlers.encode)
        case "feature-services":
            names = definitions.featureServices.map(\.name)
            encoded = definitions.featureService(name).flatMap(Handlers.encode)
        case "sources":
            names = definitions.sources.map(\.name)
            encoded = definitions.source(name).flatMap(Handlers.encode)
        case "request-sources":
            names = definitions.requestSources.map(\.name)
            encoded = definitions.requestSource(name).flatMap(Handlers.encode)
        case "on-demand-feature-views":
            names = definitions.onDemandViews.map(\.name)
            encoded = definitions.onDemandView(name).flatMap(Handlers.encode)
        default: return Handlers.unknownKind(kind)
        }
        guard let encoded else {
            let error = APIError(
                status: 404, code: "not_found", field: "name", "no \(kind.dropLast()) named '\(Echo.clip(name))'",
                hint: Suggestions.hint(for: name, in: names))
            return .json(error.json, status: .notFound)
        }
        return .json(Array(encoded))
    }

    static func unknownKind(_ kind: String) -> Response {
        let error = APIError(
            status: 404, code: "not_found", field: "kind", "no registry listing '\(Echo.clip(kind))'",
            hint: Suggestions.hint(for: kind, in: registryKinds)
                ?? "use one of \(registryKinds.joined(separator: ", "))")
        return .json(error.json, status: .notFound)
    }

    static func encode<T: Encodable>(_ value: T) -> Data? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try? encoder.encode(value)
    }
}
