import Foundation

/// An error of the OAuth endpoints. It knows its RFC 6749 §5.2 code and HTTP status; the HTTP layer renders
/// it in one place. `reason` is for the audit log and the server log only, never sent to the client.
public enum OAuthError: Error, Sendable, Equatable {
    /// The request is malformed; `description` is safe to show (it names a parameter, never a value).
    case invalidRequest(description: String)
    case invalidClient(reason: String)
    case invalidGrant(reason: String)
    case unauthorizedClient(reason: String)
    case unsupportedGrantType
    case invalidScope(description: String)
    /// RFC 9470 step-up: the session's authentication is too weak or too old for a requested scope.
    case insufficientUserAuthentication(acr: String, maxAge: Int)
    case invalidDPoPProof(reason: String)
    /// A bearer token presented to a resource endpoint (userinfo) is missing, invalid, expired or revoked.
    case invalidToken(reason: String)
    case insufficientScope(scope: String)
    /// The backing store or a dependency is down; the request may be retried.
    case temporarilyUnavailable
    /// A rate limit of the tenant's policy was reached (429); retry after `retryAfter` seconds.
    case rateLimited(retryAfter: Int, reason: String)

    /// The RFC 6749 `error` code.
    public var code: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .invalidClient: "invalid_client"
        case .invalidGrant: "invalid_grant"
        case .unauthorizedClient: "unauthorized_client"
        case .unsupportedGrantType: "unsupported_grant_type"
        case .invalidScope: "invalid_scope"
        case .insufficientUserAuthentication: "insufficient_user_authentication"
        case .invalidDPoPProof: "invalid_dpop_proof"
        case .invalidToken: "invalid_token"
        case .insufficientScope: "insufficient_scope"
        case .temporarilyUnavailable: "temporarily_unavailable"
        case .rateLimited: "rate_limited"
        }
    }

    /// The HTTP status the error is answered with.
    public var status: Int {
        switch self {
        case .invalidClient, .insufficientUserAuthentication, .invalidToken: 401
        case .insufficientScope: 403
        case .temporarilyUnavailable: 503
        case .rateLimited: 429
        default: 400
        }
    }

    /// What the client may read in `error_description`.
    public var publicDescription: String? {
        switch self {
        case .invalidRequest(let description), .invalidScope(let description): description
        case .invalidClient: "client authentication failed"
        case .invalidGrant: "the grant is invalid, expired or revoked"
        case .unauthorizedClient: "the client is not allowed to do this"
        case .unsupportedGrantType: "unsupported grant_type"
        case .insufficientUserAuthentication: "a stronger or more recent authentication is required"
        case .invalidDPoPProof: "the DPoP proof is invalid"
        case .invalidToken: "the access token is invalid, expired or revoked"
        case .insufficientScope(let scope): "the token lacks the scope \(scope)"
        case .temporarilyUnavailable: "the service is temporarily unavailable"
        case .rateLimited(let retryAfter, _): "too many requests; retry after \(retryAfter) s"
        }
    }

    /// Why it happened, for the audit and server logs; never sent to the client and never holds a secret.
    public var reason: String {
        switch self {
        case .invalidClient(let reason), .invalidGrant(let reason), .unauthorizedClient(let reason),
             .invalidDPoPProof(let reason), .invalidToken(let reason), .rateLimited(_, let reason):
            reason
        default: publicDescription ?? code
        }
    }
}

/// An error of the admin API; rendered as `{"error": …, "message": …}` with `field` naming the bad field.
public enum AdminError: Error, Sendable, Equatable {
    case invalidBody(String)
    case invalidField(String, String)
    case unauthorized
    case forbidden
    case notFound(String)
    case conflict(String)
    case unavailable

    public var status: Int {
        switch self {
        case .invalidBody, .invalidField: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .unavailable: 503
        }
    }

    public var code: String {
        switch self {
        case .invalidBody, .invalidField: "invalid_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .unavailable: "unavailable"
        }
    }

    /// The bad field, when there is one.
    public var field: String? {
        if case .invalidField(let field, _) = self { return field }
        return nil
    }

    public var message: String {
        switch self {
        case .invalidBody(let message): message
        case .invalidField(let field, let message): "\(field): \(message)"
        case .unauthorized: "missing or unknown admin key"
        case .forbidden: "this key may not manage that resource"
        case .notFound(let what): "\(what) not found"
        case .conflict(let message): message
        case .unavailable: "the store is unavailable"
        }
    }
}

/// What a store reports besides "not found" (which is `nil`).
public enum StoreError: Error, Sendable, Equatable {
    /// A unique key is already taken (tenant id, username, client id).
    case conflict(String)
    /// The backend cannot be reached or failed; nothing was written.
    case unavailable(String)
    /// The stored schema is newer than this binary knows.
    case schemaTooNew(found: Int, known: Int)
}
