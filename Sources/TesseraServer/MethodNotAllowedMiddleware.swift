import Hummingbird

/// Answers a known path asked with another method 405, naming the method it takes in
/// `Allow` (RFC 9110), where the router alone would say 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    /// Each path's segments (`:name` matches any one) and its method.
    static let routes: [([String], HTTPRequest.Method)] = [
        (["get-online-features"], .post), (["push"], .post), (["write-to-online-store"], .post),
        (["get-historical-features"], .post),
        (["materialize"], .post), (["materialize-incremental"], .post), (["health"], .get), (["metrics"], .get),
        (["openapi.json"], .get), (["registry", ":kind"], .get), (["registry", ":kind", ":name"], .get),
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = request.uri.path.split(separator: "/").map(String.init)
            guard
                let (_, method) = MethodNotAllowedMiddleware.routes.first(where: { route in
                    route.0.count == segments.count
                        && zip(route.0, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
                }), method != request.method
            else { throw error }
            return Handlers.methodNotAllowed(request.method, allowed: method)
        }
    }
}
