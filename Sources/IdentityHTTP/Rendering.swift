import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
import Logging

/// Turns results and errors into HTTP responses, in one place: JSON bodies, `Cache-Control: no-store`,
/// RFC 6749 error objects on the OAuth endpoints and `{error, message, field}` on the admin API.
enum Rendering {
    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    static let adminEncoder = AdminView.encoder()

    static func body(_ bytes: some Sequence<UInt8>, status: HTTPResponse.Status = .ok, extraHeaders: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store", HTTPField.Name.pragma: "no-cache"]
        headers.append(contentsOf: extraHeaders)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, encoder: JSONEncoder = jsonEncoder) throws -> Response {
        body(try encoder.encode(value), status: status)
    }

    static func empty(status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.cacheControl: "no-store", HTTPField.Name.pragma: "no-cache"])
    }

    static func oauthError(_ error: OAuthError) -> Response {
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
        default:
            break
        }
        let bytes = (try? jsonEncoder.encode(JSONValue.object(body))) ?? Data()
        return Self.body(bytes, status: .init(code: error.status), extraHeaders: headers)
    }

    static func adminError(_ error: AdminError) -> Response {
        var body: [String: JSONValue] = ["error": .string(error.code), "message": .string(error.message)]
        if let field = error.field { body["field"] = .string(field) }
        var headers: HTTPFields = [:]
        if error == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"identityd-admin\"" }
        if error == .unavailable { headers[.retryAfter] = "1" }
        return Self.body((try? jsonEncoder.encode(JSONValue.object(body))) ?? Data(), status: .init(code: error.status), extraHeaders: headers)
    }

    /// Which error vocabulary a route speaks.
    enum Dialect { case oauth, admin }

    /// Runs `body`, rendering any error it throws in `dialect`. Nothing escapes as an unhandled error (which
    /// Hummingbird would answer with a bare 500): store outages become 503, and anything unexpected a logged
    /// `server_error`.
    static func guarded(_ dialect: Dialect, logger: Logger, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as OAuthError {
            if error.status >= 500 || dialect == .oauth {
                logger.debug("oauth error", metadata: ["error": .string(error.code), "reason": .string(error.reason)])
            }
            return dialect == .oauth ? oauthError(error) : adminError(.invalidBody(error.publicDescription ?? error.code))
        } catch let error as AdminError {
            return dialect == .admin ? adminError(error) : oauthError(.invalidRequest(description: error.message))
        } catch is BodyTooLarge {
            let error = OAuthError.invalidRequest(description: "the body is too large")
            var response = dialect == .oauth ? oauthError(error) : adminError(.invalidBody("the body is too large"))
            response.status = .contentTooLarge
            return response
        } catch let error as StoreError {
            logger.error("store failure", metadata: ["error": .string("\(error)")])
            return dialect == .oauth ? oauthError(.temporarilyUnavailable) : adminError(.unavailable)
        } catch {
            logger.error("unexpected error", metadata: ["error.type": .string(String(describing: type(of: error))), "error": .string("\(error)")])
            let body = #"{"error":"server_error","error_description":"an unexpected error occurred"}"#
            return Self.body(Array(body.utf8), status: .internalServerError)
        }
    }
}

extension HTTPField.Name {
    static let pragma = HTTPField.Name("Pragma")!
}
