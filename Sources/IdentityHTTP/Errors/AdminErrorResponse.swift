import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging

/// An error of the admin API (and of the public documents) as `{"error", "message", "field"}`, `field`
/// naming the bad field. Store outages become 503 `unavailable`; anything unexpected a logged 500.
struct AdminErrorResponse: RenderedError {
    let error: AdminError?
    let status: HTTPResponse.Status

    init(_ error: AdminError, status: HTTPResponse.Status? = nil) {
        self.error = error
        self.status = status ?? .init(code: error.status)
    }

    private init(unexpected: Void) {
        error = nil
        status = .internalServerError
    }

    init(_ error: any Error, logger: Logger) {
        switch ThrownError(error, logger: logger) {
        case .admin(let error): self.init(error)
        case .oauth(let error):
            if error.status >= 500 { logger.debug("oauth error", metadata: ["error": .string(error.code), "reason": .string(error.reason)]) }
            self.init(.invalidBody(error.publicDescription ?? error.code))
        case .bodyTooLarge: self.init(.invalidBody("the body is too large"), status: .contentTooLarge)
        case .storeUnavailable, .busy: self.init(.unavailable)
        case .rejectedValue: self.init(.invalidBody("a value of the request cannot be stored"))
        case .unexpected: self.init(unexpected: ())
        }
    }

    var response: Response {
        guard let error else {
            return Responses.body(Array(#"{"error":"server_error","message":"an unexpected error occurred"}"#.utf8), status: status)
        }
        var body: [String: JSONValue] = ["error": .string(error.code), "message": .string(error.message)]
        if let field = error.field { body["field"] = .string(field) }
        var headers: HTTPFields = [:]
        if error == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"identityd-admin\"" }
        if error == .unavailable { headers[.retryAfter] = "1" }
        return Responses.body((try? Responses.jsonEncoder.encode(JSONValue.object(body))) ?? Data(), status: status, extraHeaders: headers)
    }
}
