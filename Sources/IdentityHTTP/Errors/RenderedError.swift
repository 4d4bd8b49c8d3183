import Hummingbird
import IdentityCore
import Logging

/// An error in the vocabulary of one route group (OAuth JSON, admin JSON, ...): built from whatever a
/// handler threw, it renders itself (Hummingbird's `HTTPResponseError`). A group's `ErrorRenderingMiddleware`
/// turns every error into its own kind, so nothing escapes as Hummingbird's bare 500.
protocol RenderedError: HTTPResponseError {
    /// The rendering of `error`, which may be of any type; unexpected ones are logged to `logger`.
    init(_ error: any Error, logger: Logger)
    /// The response.
    var response: Response { get }
}

extension RenderedError {
    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// Renders every error a route group's handlers throw as that group's `Rendered` error.
struct ErrorRenderingMiddleware<Context: RequestContext, Rendered: RenderedError>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Rendered(error, logger: context.logger).response
        }
    }
}

/// What a handler threw, sorted into what the dialects distinguish; store failures and unexpected errors
/// are logged here, once.
enum ThrownError {
    case oauth(OAuthError)
    case admin(AdminError)
    case bodyTooLarge
    /// The store cannot serve (logged).
    case storeUnavailable
    /// The password-hashing queue is full (a flood of logins or secrets): 503, retry in a moment.
    case busy
    /// The store refused a value of the request (logged): bad input that got past validation.
    case rejectedValue
    /// Anything else (logged): a 500.
    case unexpected

    init(_ error: any Error, logger: Logger) {
        switch error {
        case let error as OAuthError: self = .oauth(error)
        case let error as AdminError: self = .admin(error)
        case is BodyTooLarge: self = .bodyTooLarge
        case is HashingQueueFull: self = .busy
        case StoreError.rejected(let reason):
            logger.warning("the store refused a value of the request", metadata: ["error": .string(reason)])
            self = .rejectedValue
        case let error as StoreError:
            logger.error("store failure", metadata: ["error": .string("\(error)")])
            self = .storeUnavailable
        default:
            logger.error("unexpected error", metadata: ["error.type": .string(String(describing: type(of: error))), "error": .string("\(error)")])
            self = .unexpected
        }
    }
}
