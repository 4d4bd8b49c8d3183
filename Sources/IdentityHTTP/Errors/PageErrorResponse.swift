import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging

/// An error of the browser endpoints (authorize, sign-in pages, end session) as an HTML error page: a browser
/// is reading, and neither the client nor its redirect URI may be trusted yet, so never a redirect. Store
/// outages are a 503 page; anything unexpected a logged 500 page.
struct PageErrorResponse: RenderedError {
    let status: HTTPResponse.Status
    let message: String
    let retryAfter: Int?

    init(_ error: any Error, logger: Logger) {
        switch ThrownError(error, logger: logger) {
        case .oauth(.rateLimited(let retryAfter, _)):
            self.init(.tooManyRequests, "Too many attempts. Try again in \(retryAfter) seconds.", retryAfter: retryAfter)
        case .oauth(.temporarilyUnavailable), .storeUnavailable, .busy:
            self.init(.serviceUnavailable, "The service is busy or unavailable. Try again in a moment.", retryAfter: 1)
        case .oauth(let error):
            logger.debug("browser request refused", metadata: ["error": .string(error.code), "reason": .string(error.reason)])
            self.init(.badRequest, "The sign-in request is malformed. Go back to the application and try again.")
        case .admin, .rejectedValue:
            self.init(.badRequest, "The sign-in request is malformed. Go back to the application and try again.")
        case .bodyTooLarge:
            self.init(.contentTooLarge, "The form is too large.")
        case .unexpected:
            self.init(.internalServerError, "Something went wrong on our side. Try again later.")
        }
    }

    init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    var response: Response {
        var response = Pages.standard.error(message, status: status)
        if let retryAfter { response.headers[.retryAfter] = "\(retryAfter)" }
        return response
    }
}
