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
    /// RFC 9449 §8: the proof lacks the server's current nonce; `nonce` is the one to use (`DPoP-Nonce`).
    case useDPoPNonce(nonce: String)
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
        case .useDPoPNonce: "use_dpop_nonce"
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
        case .useDPoPNonce: "a DPoP proof with the server's nonce is required"
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
