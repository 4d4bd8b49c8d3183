import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging

/// An error of the OAuth endpoints as RFC 6749 §5.2 JSON, with the status, `WWW-Authenticate` and
/// `Retry-After` each kind calls for. Store outages become 503 `temporarily_unavailable`; anything
/// unexpected a logged 500 `server_error`.
struct OAuthErrorResponse: RenderedError {
    /// The algorithms a DPoP proof may use, as `WWW-Authenticate: DPoP algs=` names them.
    static let dpopAlgorithms = SigningAlgorithm.allCases.map(\.rawValue).joined(separator: " ")

    let error: OAuthError?
    let status: HTTPResponse.Status

    init(_ error: OAuthError, status: HTTPResponse.Status? = nil) {
        self.error = error
        self.status = status ?? .init(code: error.status)
    }

    private init(unexpected: Void) {
        error = nil
        status = .internalServerError
    }

    init(_ error: any Error, logger: Logger) {
        switch ThrownError(error, logger: logger) {
        case .oauth(let error):
            logger.debug("oauth error", metadata: ["error": .string(error.code), "reason": .string(error.reason)])
            self.init(error)
        case .admin(let error): self.init(.invalidRequest(description: error.message))
        case .bodyTooLarge: self.init(.invalidRequest(description: "the body is too large"), status: .contentTooLarge)
        case .storeUnavailable, .busy: self.init(.temporarilyUnavailable)
        case .rejectedValue: self.init(.invalidRequest(description: "a value of the request cannot be stored"))
        case .unexpected: self.init(unexpected: ())
        }
    }

    var response: Response {
        guard let error else {
            return Responses.body(Array(#"{"error":"server_error","error_description":"an unexpected error occurred"}"#.utf8), status: status)
        }
        var body: [String: JSONValue] = ["error": .string(error.code)]
        if let description = error.publicDescription { body["error_description"] = .string(description) }
        var headers: HTTPFields = [:]
        switch error {
        case .insufficientUserAuthentication(let acr, let maxAge):
            body["acr_values"] = .string(acr)
            body["max_age"] = .number(Double(maxAge))
            headers[.wwwAuthenticate] = "Bearer error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\", acr_values=\"\(acr)\", max_age=\(maxAge)"
        case .invalidClient:
            headers[.wwwAuthenticate] = "Basic realm=\"identityd\""
        case .invalidToken:
            headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
        case .insufficientScope(let scope):
            headers[.wwwAuthenticate] = "Bearer error=\"insufficient_scope\", scope=\"\(scope)\""
        case .temporarilyUnavailable:
            headers[.retryAfter] = "1"
        case .rateLimited(let retryAfter, _):
            headers[.retryAfter] = "\(retryAfter)"
        case .useDPoPNonce(let nonce):
            headers[.dpopNonce] = nonce
        default:
            break
        }
        let bytes = (try? Responses.jsonEncoder.encode(JSONValue.object(body))) ?? Data()
        return Responses.body(bytes, status: status, extraHeaders: headers)
    }
}
