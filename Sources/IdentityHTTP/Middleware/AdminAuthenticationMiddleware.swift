import Hummingbird
import IdentityCore

/// Authenticates the admin API's bearer key once per request and puts the principal in the context; an
/// unknown or missing key is `unauthorized` before any handler runs.
struct AdminAuthenticationMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let admin: Administration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.principal = try await admin.principal(bearer: request.headers.bearerToken)
        return try await next(request, context)
    }
}
