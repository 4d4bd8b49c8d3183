import HTTPTypes
import Hummingbird
import IdentityCore

/// CORS (Fetch standard) for the endpoints a public client in a browser calls cross-origin: token,
/// revocation, userinfo. An `Origin` is allowed when it is the origin of a redirect URI of one of the
/// tenant's public clients; a preflight (`OPTIONS` with `Access-Control-Request-Method`) from it is answered
/// here, from anywhere else it is 403 with no CORS headers. Other origins' requests are served as before but
/// carry no `Access-Control-Allow-Origin`, so their scripts cannot read the answer. No credentials (cookies)
/// are allowed: these endpoints do not use them.
struct CrossOriginMiddleware: RouterMiddleware {
    typealias Context = IdentityRequestContext
    let directory: TenantDirectory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let tenantID = context.parameters.get("tenant") ?? ""
        let allowed = (try? await directory.corsOrigins(tenantID: tenantID))?.contains(origin.lowercased()) ?? false
        if request.method == .options {
            guard allowed, request.headers[.accessControlRequestMethod] != nil else {
                return Response(status: .forbidden, headers: [.vary: "Origin", .cacheControl: "no-store"])
            }
            return Response(status: .noContent, headers: [
                .accessControlAllowOrigin: origin, .accessControlAllowMethods: "GET, POST",
                .accessControlAllowHeaders: "Authorization, Content-Type, DPoP", .accessControlMaxAge: "600", .vary: "Origin",
            ])
        }
        var response = try await next(request, context)
        response.headers[.vary] = "Origin"
        if allowed {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlExposeHeaders] = "WWW-Authenticate, DPoP-Nonce, Retry-After"
        }
        return response
    }
}

extension HTTPField.Name {
    static let origin = HTTPField.Name("Origin")!
    static let accessControlRequestMethod = HTTPField.Name("Access-Control-Request-Method")!
    static let accessControlAllowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let accessControlAllowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let accessControlAllowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let accessControlExposeHeaders = HTTPField.Name("Access-Control-Expose-Headers")!
    static let accessControlMaxAge = HTTPField.Name("Access-Control-Max-Age")!
    static let vary = HTTPField.Name("Vary")!
}
