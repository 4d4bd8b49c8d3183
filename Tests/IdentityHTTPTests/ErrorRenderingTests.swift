import Foundation
import HTTPTypes
import Hummingbird
import IdentityCore
@testable import IdentityHTTP
import Logging
import Testing

/// Each route group's errors render themselves: status, headers and body, whatever was thrown.
@Suite struct ErrorRenderingTests {
    let logger = Logger(label: "test")

    func body(_ response: Response) async throws -> [String: Any] {
        let writer = CollectingWriter()
        try await response.body.write(writer)
        return (try JSONSerialization.jsonObject(with: Data(writer.buffer.readableBytesView)) as? [String: Any]) ?? [:]
    }

    @Test func oauthErrorsCarryTheirStatusAndHeaders() async throws {
        let cases: [(any Error, Int, String, HTTPField.Name?, String?)] = [
            (OAuthError.invalidClient(reason: "wrong_secret"), 401, "invalid_client", .wwwAuthenticate, "Basic realm=\"identityd\""),
            (OAuthError.invalidGrant(reason: "refresh_token_reused"), 400, "invalid_grant", nil, nil),
            (OAuthError.rateLimited(retryAfter: 7, reason: "ip_rate_limit"), 429, "rate_limited", .retryAfter, "7"),
            (OAuthError.temporarilyUnavailable, 503, "temporarily_unavailable", .retryAfter, "1"),
            (OAuthError.invalidToken(reason: "x"), 401, "invalid_token", .wwwAuthenticate, "Bearer error=\"invalid_token\""),
            (StoreError.unavailable("down"), 503, "temporarily_unavailable", .retryAfter, "1"),
            (HashingQueueFull(), 503, "temporarily_unavailable", .retryAfter, "1"),
            (AdminError.invalidField("x", "y"), 400, "invalid_request", nil, nil),
            (BodyTooLarge(), 413, "invalid_request", nil, nil),
            (CancellationError(), 500, "server_error", nil, nil),
        ]
        for (error, status, code, header, value) in cases {
            let response = OAuthErrorResponse(error, logger: logger).response
            #expect(response.status.code == status, "\(error)")
            #expect(response.headers[.cacheControl] == "no-store", "\(error)")
            if let header { #expect(response.headers[header] == value, "\(error)") }
            let json = try await body(response)
            #expect(json["error"] as? String == code, "\(error)")
            #expect(json["error_description"] is String, "\(error)")
        }
    }

    @Test func stepUpNamesTheRuleInTheBodyAndTheChallenge() async throws {
        let response = OAuthErrorResponse(OAuthError.insufficientUserAuthentication(acr: "mfa", maxAge: 300), logger: logger).response
        #expect(response.status == .unauthorized)
        #expect(response.headers[.wwwAuthenticate]?.contains("acr_values=\"mfa\", max_age=300") == true)
        let json = try await body(response)
        #expect(json["acr_values"] as? String == "mfa" && json["max_age"] as? Int == 300)
    }

    @Test func adminErrorsNameTheirField() async throws {
        let field = AdminErrorResponse(AdminError.invalidField("policy.window", "must be a number"), logger: logger).response
        #expect(field.status == .badRequest)
        #expect(try await body(field)["field"] as? String == "policy.window")
        let unauthorized = AdminErrorResponse(AdminError.unauthorized, logger: logger).response
        #expect(unauthorized.status == .unauthorized && unauthorized.headers[.wwwAuthenticate] == "Bearer realm=\"identityd-admin\"")
        #expect(AdminErrorResponse(StoreError.unavailable("down"), logger: logger).response.status == .serviceUnavailable)
        #expect(AdminErrorResponse(OAuthError.invalidRequest(description: "x"), logger: logger).response.status == .badRequest)
        #expect(AdminErrorResponse(CancellationError(), logger: logger).response.status == .internalServerError)
    }
}

/// Collects a response body.
final class CollectingWriter: ResponseBodyWriter {
    var buffer = ByteBuffer()
    func write(_ buffer: ByteBuffer) async throws { self.buffer.writeImmutableBuffer(buffer) }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
