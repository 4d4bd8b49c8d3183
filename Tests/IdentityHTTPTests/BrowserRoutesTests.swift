import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IdentityCore
import IdentityHTTP
import Testing

/// The browser endpoints over HTTP in process: the pages' security headers and cookies, the two error paths
/// of authorize, CORS on the token endpoints, PAR's answer, the admin routes of consents and browser sessions.
@Suite struct BrowserRoutesTests {
    static let verifier = String(repeating: "k", count: 43)
    static let challenge = Base64URL.encode(SHA256.hash(data: Array(verifier.utf8)))

    func harness() async throws -> HTTPHarness {
        let harness = try await HTTPHarness()
        _ = try await harness.admin.createClient("acme", .init(clientID: "spa", name: "Shop <b>", type: "public",
                                                               grantTypes: ["authorization_code", "refresh_token"],
                                                               redirectURIs: ["https://shop.example:8443/cb", "com.shop.app:/cb"],
                                                               postLogoutRedirectURIs: ["https://shop.example:8443/bye"],
                                                               scopes: ["openid", "offline_access"], requireConsent: true), by: .operator)
        return harness
    }

    static func authorizePath(_ extra: String = "") -> String {
        "/t/acme/oauth/authorize?response_type=code&client_id=spa&redirect_uri=https%3A%2F%2Fshop.example%3A8443%2Fcb&scope=openid"
            + "&state=s%201&code_challenge=\(challenge)&code_challenge_method=S256" + extra
    }

    static func hiddenField(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    static func cookie(_ name: String, in response: TestResponse) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix(name + "=") }
    }

    static func expectPageHeaders(_ response: TestResponse, formTarget: String? = nil) {
        #expect(response.headers[.contentType] == "text/html; charset=utf-8")
        let csp = response.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
        #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && csp.contains("base-uri 'none'"))
        #expect(csp.contains("style-src 'sha256-") && !csp.contains("unsafe-inline") && !csp.contains("script-src"))
        if let formTarget { #expect(csp.contains("form-action 'self' \(formTarget)")) }
        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
        #expect(response.headers[.cacheControl] == "no-store")
        #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
    }

    @Test func theLoginPageCarriesEverySecurityHeaderAndTheCSRFCookie() async throws {
        try await harness().test { client in
            let page = try await client.execute(uri: Self.authorizePath(), method: .get)
            #expect(page.status == .ok)
            Self.expectPageHeaders(page, formTarget: "https://shop.example:8443")
            let html = String(buffer: page.body)
            #expect(html.contains("<title>Sign in · Acme</title>") && html.contains("Shop &lt;b&gt;"), "names escaped")
            #expect(html.contains("autocomplete=\"username\"") && html.contains("autocomplete=\"current-password\"") && html.contains("autofocus"))
            #expect(html.contains("<label for=\"username\">") && html.contains("name=\"viewport\""))
            #expect(!html.contains("<script"), "no JavaScript")
            let csrf = try #require(Self.cookie("identityd_csrf", in: page))
            #expect(csrf.contains("; Path=/t/acme") && csrf.contains("; HttpOnly") && csrf.contains("; SameSite=Strict"))
            #expect(!csrf.contains("Secure"), "the public URL is http here")
            #expect(Self.hiddenField("csrf", in: html) == csrf.split(separator: ";")[0].split(separator: "=")[1].description)
        }
    }

    @Test func anUnknownClientOrRedirectIsAnHTMLPageAndAnyOtherErrorARedirect() async throws {
        try await harness().test { client in
            for path in ["/t/acme/oauth/authorize?client_id=ghost&response_type=code",
                         "/t/acme/oauth/authorize?client_id=spa&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
                         "/t/acme/oauth/authorize", "/t/ghost/oauth/authorize?client_id=spa",
                         "/t/acme/oauth/authorize?client_id=spa&client_id=spa", "/t/acme/oauth/authorize?client_id=%00"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect([.badRequest, .notFound].contains(response.status), "\(path)")
                #expect(response.headers[.location] == nil, "\(path) redirected")
                Self.expectPageHeaders(response)
            }
            let plain = try await client.execute(uri: Self.authorizePath().replacingOccurrences(of: "S256", with: "plain"), method: .get)
            #expect(plain.status == .found)
            let location = try #require(plain.headers[.location])
            #expect(location.hasPrefix("https://shop.example:8443/cb?error=invalid_request&error_description="))
            #expect(location.hasSuffix("&state=s%201&iss=http%3A%2F%2Fid.test%2Ft%2Facme"))
            #expect(plain.headers[.cacheControl] == "no-store")
        }
    }

    @Test func theSignInEndsWithASeeOtherAndTheSSOCookie() async throws {
        try await harness().test { client in
            let page = try await client.execute(uri: Self.authorizePath(), method: .get)
            let html = String(buffer: page.body)
            let csrf = try #require(Self.hiddenField("csrf", in: html)), interaction = try #require(Self.hiddenField("interaction", in: html))
            let cookie: HTTPFields = [.cookie: "identityd_csrf=\(csrf)"]
            func post(_ fields: String, interaction: String, csrf: String) async throws -> TestResponse {
                try await client.form("/t/acme/signin", "interaction=\(AuthorizationRequest.formEncode(interaction))&csrf=\(csrf)&" + fields,
                                      headers: cookie)
            }
            let wrong = try await post("step=login&username=alice&password=nope", interaction: interaction, csrf: csrf)
            #expect(wrong.status == .badRequest && String(buffer: wrong.body).contains("The username or password is wrong."))
            Self.expectPageHeaders(wrong)
            let forged = try await post("step=login&username=alice&password=correct+horse", interaction: interaction, csrf: "AAAAAAAAAAAAAAAAAAAAAA")
            #expect(forged.status == .forbidden, "a form whose CSRF field differs from the cookie")
            let consent = try await post("step=login&username=alice&password=correct+horse", interaction: interaction, csrf: csrf)
            #expect(consent.status == .ok && String(buffer: consent.body).contains("Allow access?"))
            let next = try #require(Self.hiddenField("interaction", in: String(buffer: consent.body)))
            let done = try await post("step=consent&approve=1", interaction: next, csrf: csrf)
            #expect(done.status == .seeOther)
            #expect(done.headers[.location]?.hasPrefix("https://shop.example:8443/cb?code=") == true)
            #expect(done.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            let sso = try #require(Self.cookie("identityd_sso", in: done))
            #expect(sso.contains("; Path=/t/acme") && sso.contains("; HttpOnly") && sso.contains("; SameSite=Lax") && sso.contains("; Max-Age=86400"))
        }
    }

    @Test func aPostedAuthorizeRequestWorksLikeAGet() async throws {
        try await harness().test { client in
            let query = String(Self.authorizePath().split(separator: "?")[1])
            let page = try await client.form("/t/acme/oauth/authorize", query)
            #expect(page.status == .ok && String(buffer: page.body).contains("Sign in"))
        }
    }

    @Test func corsAnswersTheOriginsOfPublicClientsRedirectURIsOnly() async throws {
        try await harness().test { client in
            let preflight: HTTPFields = [HTTPField.Name("Origin")!: "https://shop.example:8443",
                                         HTTPField.Name("Access-Control-Request-Method")!: "POST",
                                         HTTPField.Name("Access-Control-Request-Headers")!: "content-type"]
            for path in ["/t/acme/oauth/token", "/t/acme/oauth/revoke", "/t/acme/userinfo"] {
                let allowed = try await client.execute(uri: path, method: .options, headers: preflight)
                #expect(allowed.status == .noContent, "\(path)")
                #expect(allowed.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://shop.example:8443")
                #expect(allowed.headers[HTTPField.Name("Access-Control-Allow-Methods")!]?.contains("POST") == true)
                #expect(allowed.headers[HTTPField.Name("Access-Control-Allow-Credentials")!] == nil)
            }
            var evil = preflight
            evil[HTTPField.Name("Origin")!] = "https://evil.example"
            let refused = try await client.execute(uri: "/t/acme/oauth/token", method: .options, headers: evil)
            #expect(refused.status == .forbidden && refused.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
            // The actual request: the answer (an error here) is readable by the allowed origin only.
            let fromShop = try await client.form("/t/acme/oauth/token", "grant_type=authorization_code&client_id=spa&code=x&code_verifier=\(Self.verifier)",
                                                 headers: [HTTPField.Name("Origin")!: "https://shop.example:8443"])
            #expect(fromShop.status == .badRequest && fromShop.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://shop.example:8443")
            let fromEvil = try await client.form("/t/acme/oauth/token", "grant_type=client_credentials",
                                                 headers: [HTTPField.Name("Origin")!: "https://evil.example"])
            #expect(fromEvil.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
            // Not on the endpoints a browser app has no business calling.
            let introspect = try await client.execute(uri: "/t/acme/oauth/introspect", method: .options, headers: preflight)
            #expect(introspect.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
        }
    }

    @Test func parAnswers201WithARequestURIForAnAuthenticatedClient() async throws {
        let harness = try await harness()
        _ = try await harness.admin.updateClient("acme", "web", .init(grantTypes: ["authorization_code"], redirectURIs: ["https://web.example/cb"]),
                                                 by: .operator)
        try await harness.test { client in
            let body = "response_type=code&redirect_uri=https%3A%2F%2Fweb.example%2Fcb&code_challenge=\(Self.challenge)&code_challenge_method=S256"
            let pushed = try await client.form("/t/acme/oauth/par", body, headers: [.authorization: harness.basic])
            #expect(pushed.status == .created && pushed.headers[.cacheControl] == "no-store")
            let uri = try #require(pushed["request_uri"])
            #expect(uri.hasPrefix("urn:ietf:params:oauth:request_uri:") && pushed.json["expires_in"] as? Int == 60)
            let page = try await client.execute(uri: "/t/acme/oauth/authorize?client_id=web&request_uri=\(AuthorizationRequest.formEncode(uri))", method: .get)
            #expect(page.status == .ok && String(buffer: page.body).contains("Sign in"))
            let anonymous = try await client.form("/t/acme/oauth/par", body + "&client_id=web")
            #expect(anonymous.status == .unauthorized && anonymous["error"] == "invalid_client")
            let bad = try await client.form("/t/acme/oauth/par", "response_type=token&redirect_uri=https%3A%2F%2Fweb.example%2Fcb",
                                            headers: [.authorization: harness.basic])
            #expect(bad.status == .badRequest && bad["error"] == "invalid_request")
        }
    }

    @Test func endSessionWithoutAHintAsksWithAFormAndAnUnregisteredReturnIsRefused() async throws {
        try await harness().test { client in
            let ask = try await client.execute(uri: "/t/acme/oauth/end_session?client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fshop.example%3A8443%2Fbye&state=z",
                                               method: .get)
            #expect(ask.status == .ok)
            Self.expectPageHeaders(ask, formTarget: "https://shop.example:8443")
            let html = String(buffer: ask.body)
            let csrf = try #require(Self.hiddenField("csrf", in: html))
            let confirmed = try await client.form(
                "/t/acme/oauth/end_session", "client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fshop.example%3A8443%2Fbye&state=z&csrf=\(csrf)&confirm=1",
                headers: [.cookie: "identityd_csrf=\(csrf)"])
            #expect(confirmed.status == .seeOther && confirmed.headers[.location] == "https://shop.example:8443/bye?state=z")
            #expect(Self.cookie("identityd_sso", in: confirmed)?.contains("Max-Age=0") == true)
            let unregistered = try await client.execute(uri: "/t/acme/oauth/end_session?client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fevil.example",
                                                        method: .get)
            #expect(unregistered.status == .badRequest && unregistered.headers[.location] == nil)
        }
    }

    @Test func discoveryListsTheBrowserEndpoints() async throws {
        try await harness().test { client in
            let document = try await client.execute(uri: "/t/acme/.well-known/openid-configuration", method: .get).json
            #expect(document["authorization_endpoint"] as? String == "http://id.test/t/acme/oauth/authorize")
            #expect(document["pushed_authorization_request_endpoint"] as? String == "http://id.test/t/acme/oauth/par")
            #expect(document["end_session_endpoint"] as? String == "http://id.test/t/acme/oauth/end_session")
            #expect(document["response_types_supported"] as? [String] == ["code"])
            #expect(document["code_challenge_methods_supported"] as? [String] == ["S256"])
            #expect(document["authorization_response_iss_parameter_supported"] as? Bool == true)
            #expect(document["prompt_values_supported"] as? [String] == ["none", "login", "consent"])
            #expect((document["grant_types_supported"] as? [String])?.contains("authorization_code") == true)
        }
    }

    @Test func adminListsAndRevokesConsentsAndBrowserSessions() async throws {
        let harness = try await harness()
        try await harness.test { client in
            let users = try await client.admin(.get, "/tenants/acme/users", key: harness.tenantKey).json["items"] as? [[String: Any]]
            let id = try #require(users?.first?["id"] as? String)
            let consents = try await client.admin(.get, "/tenants/acme/users/\(id)/consents", key: harness.tenantKey)
            #expect(consents.status == .ok && (consents.json["items"] as? [Any])?.isEmpty == true)
            let missing = try await client.admin(.delete, "/tenants/acme/users/\(id)/consents/spa", key: harness.tenantKey)
            #expect(missing.status == .notFound)
            let sessions = try await client.admin(.get, "/tenants/acme/users/\(id)/browser-sessions", key: harness.tenantKey)
            #expect(sessions.status == .ok)
            let none = try await client.admin(.delete, "/tenants/acme/browser-sessions/bs_nope", key: harness.tenantKey)
            #expect(none.status == .notFound)
            let badField = try await client.admin(.patch, "/tenants/acme/clients/spa", key: harness.tenantKey,
                                                  json: #"{"post_logout_redirect_uris": ["javascript:alert(1)"]}"#)
            #expect(badField.status == .badRequest && badField["field"] == "post_logout_redirect_uris")
        }
    }
}
