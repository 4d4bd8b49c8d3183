import Foundation
import HTTPTypes
import HummingbirdTesting
import IdentityCore
@testable import IdentityHTTP
import Testing

/// The audit findings that the HTTP layer answers, in process.
@Suite struct SecurityHTTPTests {
    /// Finding 1 (first depth): control characters, NUL first, are refused by the form decoder.
    @Test(arguments: ["client_id=%00", "client_id=web%0D%0AX-Injected:1", "username=al%00ice", "scope=api%7F", "a%01=b"])
    func controlCharactersInAFormAreRefused(form: String) {
        #expect(throws: OAuthError.self) { try FormBody.parse(Array(form.utf8)) }
    }

    @Test func aBasicHeaderWithANULIsAMalformedClientAuthentication() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            let encoded = Data("web\u{0}:\(h.secret)".utf8).base64EncodedString()
            let response = try await client.form("/t/acme/oauth/token", "grant_type=client_credentials", headers: [.authorization: "Basic \(encoded)"])
            #expect(response.status == .unauthorized && response["error"] == "invalid_client")
        }
    }

    /// Finding 4: the client address is the right-most `X-Forwarded-For` entry not among the trusted proxies,
    /// and the header is ignored unless the peer itself is a trusted proxy.
    @Test func theClientAddressIsTheRightMostUntrustedHop() throws {
        let middleware = RequestOriginMiddleware(trustedProxies: [try #require(IPRange("10.0.0.0/8")), try #require(IPRange("::1"))])
        let proxy = IPAddress("10.1.2.3"), outsider = IPAddress("203.0.113.5")
        #expect(middleware.clientAddress(peer: proxy, forwardedFor: ["6.6.6.6, 198.51.100.9"])?.description == "198.51.100.9")
        #expect(middleware.clientAddress(peer: proxy, forwardedFor: ["6.6.6.6, 198.51.100.9, 10.0.0.7"])?.description == "198.51.100.9")
        #expect(middleware.clientAddress(peer: proxy, forwardedFor: ["198.51.100.9", "10.0.0.7"])?.description == "198.51.100.9")
        #expect(middleware.clientAddress(peer: outsider, forwardedFor: ["198.51.100.9"])?.description == "203.0.113.5")
        #expect(middleware.clientAddress(peer: proxy, forwardedFor: ["not-an-address, 10.0.0.8"])?.description == "10.0.0.8")
        #expect(middleware.clientAddress(peer: proxy, forwardedFor: [])?.description == "10.1.2.3")
        #expect(middleware.clientAddress(peer: IPAddress("::1"), forwardedFor: ["[2001:DB8::1]"])?.description == "2001:db8::1")
        let none = RequestOriginMiddleware(trustedProxies: [])
        #expect(none.clientAddress(peer: proxy, forwardedFor: ["198.51.100.9"])?.description == "10.1.2.3")
    }

    @Test func addressesAreCanonicalAndIPv6IsLimitedPerSlash64() throws {
        #expect(IPAddress("2001:0DB8:0000:0000:0000:0000:0000:0001")?.description == "2001:db8::1")
        #expect(IPAddress("::ffff:192.0.2.1")?.description == "192.0.2.1")
        #expect(IPAddress("010.1.1.1") == nil && IPAddress("1.2.3") == nil && IPAddress("1::2::3") == nil && IPAddress("") == nil)
        #expect(RequestOrigin(ip: "2001:db8:1:2:3:4:5:6").limitKey == "2001:db8:1:2::/64")
        #expect(RequestOrigin(ip: "2001:db8:1:2:ffff::9").limitKey == "2001:db8:1:2::/64")
        #expect(RequestOrigin(ip: "x; drop").ip == nil)
    }

    /// Finding 10: a tenant id from a URL is validated before the store is asked.
    @Test func aWildcardTenantIsUnknownEverywhere() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            let token = try await client.form("/t/*/oauth/token", "grant_type=client_credentials", headers: [.authorization: h.basic])
            #expect(token.status == .unauthorized && token["error"] == "invalid_client")
            #expect(try await client.admin(.get, "/tenants/*", key: h.operatorKey).status == .notFound)
            #expect(try await client.execute(uri: "/t/*/jwks", method: .get).status == .notFound)
        }
    }

    /// Finding 21: a NUL in an admin body is a 400 naming the field, before any store.
    @Test func aNULInAnAdminBodyNamesTheField() async throws {
        let h = try await HTTPHarness()
        try await h.test { client in
            let response = try await client.admin(.post, "/tenants/acme/users", key: h.operatorKey,
                                                  json: #"{"username": "eve", "password": "long enough", "email": "eve\u0000@example.com"}"#)
            #expect(response.status == .badRequest && response["field"] == "email")
            let redirect = try await client.admin(.post, "/tenants/acme/clients", key: h.operatorKey,
                                                  json: #"{"name": "x", "type": "public", "grant_types": ["authorization_code"], "redirect_uris": ["https://a.test/\u0001"]}"#)
            #expect(redirect.status == .badRequest && redirect["field"] == "redirect_uris")
        }
    }
}
