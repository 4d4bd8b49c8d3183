import Hummingbird
import IdentityCore

/// Works out once per request where it came from: the peer's address, or with `trustForwardedFor` the
/// first address of `X-Forwarded-For`; and the user agent.
struct RequestOriginMiddleware: RouterMiddleware {
    typealias Context = IdentityRequestContext
    let trustForwardedFor: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var ip = context.remoteAddress?.ipAddress
        if trustForwardedFor, let forwarded = request.headers[.forwardedFor], let first = forwarded.split(separator: ",").first {
            ip = first.trimmingCharacters(in: .whitespaces)
        }
        context.origin = RequestOrigin(ip: ip, userAgent: request.headers[.userAgent])
        return try await next(request, context)
    }
}
