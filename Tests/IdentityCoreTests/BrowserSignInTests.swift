import Crypto
import Foundation
import IdentityCore
import IdentityTestSupport
import MemoryStore
import Testing

/// The browser sign-in through the core (`AuthorizeEndpoint`, `AuthorizationCodeGrant`), on the memory store
/// with the clock under the test's control: the pages' order, CSRF, the sealed interaction, single sign-on,
/// and the code's binding and single use.
@Suite struct BrowserSignInTests {
    let clock = ManualClock()
    let runtime: IdentityRuntime
    let admin: Administration
    var userID = ""
    var webSecret = ""
    static let verifier = String(repeating: "v", count: 43)
    static let challenge = Base64URL.encode(SHA256.hash(data: Array(verifier.utf8)))

    init() async throws {
        runtime = try .forTests(store: MemoryStore(), clock: clock, publicURL: "https://id.test", keyByte: 7, tenantCacheTTL: 300)
        admin = Administration(runtime: runtime, operatorKey: "operator")
        for tenant in ["acme", "umbrella"] {
            _ = try await admin.createTenant(.init(id: tenant, name: tenant.capitalized, policy: try JSONValue.parse(Array(#"""
                {"step_up": [{"scope": "payments", "acr": "mfa", "max_age": 300}], "login_session_ttl": 3600}
                """#.utf8))), by: .operator)
            _ = try await admin.createClient(tenant, .init(clientID: "spa", name: "Shop", type: "public",
                                                            grantTypes: ["authorization_code", "refresh_token"],
                                                            redirectURIs: ["https://shop.example/cb"],
                                                            scopes: ["openid", "profile", "offline_access", "payments"], requireConsent: true),
                                              by: .operator)
        }
        webSecret = try await admin.createClient("acme", .init(clientID: "web", name: "Web", type: "confidential",
                                                               grantTypes: ["authorization_code"], redirectURIs: ["https://web.example/cb"],
                                                               scopes: ["openid"]), by: .operator).clientSecretForTests
        userID = try await admin.createUser("acme", .init(username: "alice", password: "correct horse"), by: .operator).idForTests
    }

    /// A browser: its cookies, kept between requests as the HTTP layer would set them.
    final class Browser: @unchecked Sendable {
        var sso: String?
        var csrf: String?
        func context() -> AuthorizeEndpoint.Browser { .init(sessionCookie: sso, csrfCookie: csrf, origin: .init(ip: "192.0.2.1", userAgent: "test")) }
        func take(_ outcome: AuthorizeEndpoint.Outcome) {
            if case .page(let page) = outcome { csrf = page.csrf }
            if case .redirect(_, let cookie?) = outcome { sso = cookie.value }
        }
    }

    func authorize(_ browser: Browser, client: String = "spa", tenant: String = "acme", _ extra: [String: String] = [:]) async throws
        -> AuthorizeEndpoint.Outcome
    {
        var parameters = ["response_type": "code", "client_id": client, "scope": "openid offline_access", "state": "st", "nonce": "n1",
                          "code_challenge": Self.challenge, "code_challenge_method": "S256"]
        parameters.merge(extra) { $1 }
        let outcome = try await runtime.authorize.start(tenantID: tenant, parameters: parameters, browser: browser.context())
        browser.take(outcome)
        return outcome
    }

    func submit(_ browser: Browser, _ outcome: AuthorizeEndpoint.Outcome, tenant: String = "acme", _ fields: [String: String]) async throws
        -> AuthorizeEndpoint.Outcome
    {
        guard case .page(let page) = outcome else { throw Unexpected(outcome) }
        let next = try await runtime.authorize.submit(tenantID: tenant, form: fields.merging(["interaction": page.interaction]) { $1 },
                                                      browser: browser.context())
        browser.take(next)
        return next
    }

    struct Unexpected: Error { let outcome: AuthorizeEndpoint.Outcome; init(_ outcome: AuthorizeEndpoint.Outcome) { self.outcome = outcome } }

    func login(_ browser: Browser, _ outcome: AuthorizeEndpoint.Outcome, password: String = "correct horse") async throws -> AuthorizeEndpoint.Outcome {
        try await submit(browser, outcome, ["step": "login", "username": "alice", "password": password])
    }

    /// The query parameters of a redirect.
    func query(_ outcome: AuthorizeEndpoint.Outcome) throws -> [String: String] {
        guard case .redirect(let location, _) = outcome, let items = URLComponents(string: location)?.queryItems else { throw Unexpected(outcome) }
        return Dictionary(items.map { ($0.name, $0.value ?? "") }) { $1 }
    }

    func kind(_ outcome: AuthorizeEndpoint.Outcome) -> String {
        switch outcome {
        case .page(let page):
            switch page.kind {
            case .login: "login"
            case .otp: "otp"
            case .consent: "consent"
            }
        case .redirect: "redirect"
        case .errorPage(let status, _): "error \(status)"
        }
    }

    func exchange(_ code: String, client: String = "spa", secret: String? = nil, redirect: String? = "https://shop.example/cb",
                  verifier: String = verifier) async throws -> TokenResponse {
        var parameters = ["grant_type": "authorization_code", "code": code, "code_verifier": verifier]
        parameters["redirect_uri"] = redirect
        return try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
            parameters: parameters, client: ClientCredentials(clientID: client, secret: secret, method: secret == nil ? .none : .post),
            origin: .init()))
    }

    /// Login, and consent unless it is remembered, ending in a code.
    func signIn(_ browser: Browser, _ extra: [String: String] = [:]) async throws -> String {
        var outcome = try await login(browser, try await authorize(browser, extra))
        if kind(outcome) == "consent" { outcome = try await submit(browser, outcome, ["step": "consent", "approve": "1"]) }
        return try query(outcome)["code"] ?? ""
    }

    // MARK: the pages

    @Test func passwordThenConsentEndsInACodeWithStateAndIssuer() async throws {
        let browser = Browser()
        let first = try await authorize(browser)
        #expect(kind(first) == "login")
        let consent = try await login(browser, first)
        guard case .page(let page) = consent, case .consent(let scopes) = page.kind else { throw Unexpected(consent) }
        #expect(scopes.map(\.scope) == ["openid", "offline_access"] && page.clientName == "Shop" && page.tenantName == "Acme")
        #expect(browser.sso == nil, "no browser session before the sign-in ends")
        let done = try await submit(browser, consent, ["step": "consent", "approve": "1"])
        let query = try query(done)
        #expect(query["state"] == "st" && query["iss"] == "https://id.test/t/acme" && query["code"]?.utf8.count == 43)
        guard case .redirect(let location, let cookie?) = done else { throw Unexpected(done) }
        #expect(location.hasPrefix("https://shop.example/cb?code="))
        #expect(cookie.expiresAt == clock.now() + 3600, "login_session_ttl")
    }

    @Test func aStepUpScopeAsksForTOTPAfterThePassword() async throws {
        let enrollment = try await admin.enrollTOTP("acme", userID, by: .operator).secretForTests
        let browser = Browser()
        let otpPage = try await login(browser, try await authorize(browser, ["scope": "openid payments"]))
        #expect(kind(otpPage) == "otp")
        let wrong = try await submit(browser, otpPage, ["step": "otp", "otp": "000000"])
        guard case .page(let again) = wrong, again.error != nil, again.kind == .otp else { throw Unexpected(wrong) }
        let code = TOTP(secret: try #require(base32Decode(enrollment))).code(at: clock.now())
        let consent = try await submit(browser, wrong, ["step": "otp", "otp": code])
        #expect(kind(consent) == "consent")
        let tokens = try await exchange(try query(try await submit(browser, consent, ["step": "consent", "approve": "1"]))["code"] ?? "")
        #expect(try claims(tokens.accessToken)["acr"] as? String == "mfa")
        // The code just accepted cannot be replayed on the TOTP page of another sign-in.
        let other = Browser()
        let second = try await login(other, try await authorize(other, ["scope": "openid payments"]))
        let replayed = try await submit(other, second, ["step": "otp", "otp": code])
        guard case .page(let refused) = replayed, refused.kind == .otp, refused.error != nil else { throw Unexpected(replayed) }
    }

    @Test func aWrongPasswordAndAnUnknownUserReadTheSame() async throws {
        let browser = Browser()
        let first = try await authorize(browser)
        let wrong = try await login(browser, first, password: "wrong")
        let unknown = try await submit(browser, first, ["step": "login", "username": "mallory", "password": "wrong"])
        guard case .page(let a) = wrong, case .page(let b) = unknown else { throw Unexpected(wrong) }
        #expect(a.error == b.error && a.error == "The username or password is wrong." && a.status == 400 && b.status == 400)
    }

    @Test func cancellingOrDenyingRedirectsAccessDenied() async throws {
        let browser = Browser()
        #expect(try query(try await submit(browser, try await authorize(browser), ["cancel": "1"]))["error"] == "access_denied")
        let consent = try await login(browser, try await authorize(browser))
        #expect(try query(try await submit(browser, consent, ["step": "consent", "deny": "1"]))["error"] == "access_denied")
    }

    // MARK: CSRF and the sealed interaction

    @Test func aFormWithoutItsCSRFCookieIsRefused() async throws {
        let browser = Browser()
        let first = try await authorize(browser)
        browser.csrf = nil
        #expect(kind(try await login(browser, first)) == "error 403")
        browser.csrf = "AAAAAAAAAAAAAAAAAAAAAA"
        #expect(kind(try await login(browser, first)) == "error 403")
    }

    @Test func aTamperedExpiredOrForeignInteractionIsRefused() async throws {
        let browser = Browser()
        let first = try await authorize(browser)
        guard case .page(let page) = first else { throw Unexpected(first) }
        var tampered = Array(page.interaction)
        tampered[tampered.count - 5] = tampered[tampered.count - 5] == "A" ? "B" : "A"
        let forged = try await runtime.authorize.submit(tenantID: "acme", form: ["interaction": String(tampered), "step": "login",
                                                                                "username": "alice", "password": "correct horse"],
                                                        browser: browser.context())
        #expect(kind(forged) == "error 400")
        // Sealed for acme: umbrella's pages do not take it.
        #expect(kind(try await submit(browser, first, tenant: "umbrella", ["step": "login", "username": "alice", "password": "correct horse"]))
            == "error 400")
        clock.advance(Interaction.lifetime + 1)
        #expect(kind(try await login(browser, first)) == "error 400")
    }

    // MARK: single sign-on

    @Test func aSecondAuthorizeInTheBrowserSessionSkipsThePassword() async throws {
        let browser = Browser()
        _ = try await exchange(try await signIn(browser))
        let second = try await authorize(browser)
        #expect(try query(second)["code"] != nil, "consent remembered, password skipped")
        #expect(try query(try await authorize(browser, ["prompt": "none"]))["code"] != nil)
        #expect(kind(try await authorize(browser, ["prompt": "login"])) == "login")
        clock.advance(120)
        #expect(kind(try await authorize(browser, ["max_age": "60"])) == "login")
        #expect(try query(try await authorize(browser, ["prompt": "none", "acr_values": "mfa"]))["error"] == "interaction_required")
        #expect(try query(try await authorize(Browser(), ["prompt": "none"]))["error"] == "login_required")
        // The browser session is the tenant's: umbrella does not know it.
        #expect(try query(try await authorize(browser, tenant: "umbrella", ["prompt": "none"]))["error"] == "login_required")
        // A forged cookie (right id, wrong secret) signs nobody in.
        let forged = Browser()
        forged.sso = (browser.sso ?? "").split(separator: ".")[0] + ".forged"
        #expect(try query(try await authorize(forged, ["prompt": "none"]))["error"] == "login_required")
    }

    @Test func theBrowserSessionEndsAtItsOwnLifetime() async throws {
        let browser = Browser()
        _ = try await signIn(browser)
        clock.advance(3601)
        #expect(try query(try await authorize(browser, ["prompt": "none"]))["error"] == "login_required")
    }

    @Test func aPasswordChangeEndsTheBrowserSessions() async throws {
        let browser = Browser()
        _ = try await signIn(browser)
        _ = try await admin.updateUser("acme", userID, .init(password: "a new horse battery"), by: .operator)
        #expect(try query(try await authorize(browser, ["prompt": "none"]))["error"] == "login_required")
    }

    @Test func aRevokedConsentIsAskedAgainAndEndsTheClientsSessions() async throws {
        let browser = Browser()
        let tokens = try await exchange(try await signIn(browser))
        _ = try await admin.revokeConsents("acme", user: userID, client: "spa", by: .operator)
        let introspected = try await runtime.introspection.introspect(
            tenantID: "acme", token: tokens.accessToken, client: ClientCredentials(clientID: "web", secret: webSecret, method: .post), origin: .init())
        #expect(!introspected.active)
        await #expect(throws: AdminError.self) { try await admin.revokeConsents("acme", user: userID, client: "spa", by: .operator) }
        #expect(try query(try await authorize(browser, ["prompt": "none"]))["error"] == "consent_required")
        #expect(kind(try await authorize(browser)) == "consent")
    }

    // MARK: the code

    @Test func theCodeIsExchangedOnceForTokensWithNonceAndAtHash() async throws {
        let tokens = try await exchange(try await signIn(Browser()))
        let id = try claims(try #require(tokens.idToken))
        #expect(id["nonce"] as? String == "n1" && id["aud"] as? String == "spa" && id["acr"] as? String == "pwd")
        #expect(id["sid"] as? String != nil && id["auth_time"] as? Int != nil && id["amr"] as? [String] == ["pwd"])
        let digest = Array(SHA256.hash(data: Array(tokens.accessToken.utf8)))
        #expect(id["at_hash"] as? String == Base64URL.encode(digest.prefix(16)))
        #expect(tokens.refreshToken != nil, "offline_access granted to a client that may refresh")
        #expect(tokens.scope == "openid offline_access")
    }

    @Test func withoutOfflineAccessThereIsNoRefreshToken() async throws {
        let tokens = try await exchange(try await signIn(Browser(), ["scope": "openid"]))
        #expect(tokens.refreshToken == nil)
    }

    @Test func aReplayedCodeIsRefusedAndEndsTheSessionItStarted() async throws {
        let code = try await signIn(Browser())
        let tokens = try await exchange(code)
        await #expect(throws: OAuthError.invalidGrant(reason: "code_reused")) { try await exchange(code) }
        let introspected = try await runtime.introspection.introspect(
            tenantID: "acme", token: tokens.accessToken, client: ClientCredentials(clientID: "web", secret: webSecret, method: .post), origin: .init())
        #expect(!introspected.active, "the access token of the session the code started")
        await #expect(throws: OAuthError.self) {
            try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
                parameters: ["grant_type": "refresh_token", "refresh_token": tokens.refreshToken ?? ""],
                client: ClientCredentials(clientID: "spa", secret: nil, method: .none), origin: .init()))
        }
        await runtime.audit.flush()
        #expect(try await runtime.audit.events(tenantID: "acme", kind: .codeReused, after: 0, limit: 10).count == 1)
    }

    @Test func theCodeIsBoundToClientRedirectURIAndVerifier() async throws {
        await #expect(throws: OAuthError.invalidGrant(reason: "pkce_verifier_mismatch")) {
            try await exchange(try await signIn(Browser()), verifier: String(repeating: "w", count: 43))
        }
        await #expect(throws: OAuthError.invalidGrant(reason: "redirect_uri_mismatch")) {
            try await exchange(try await signIn(Browser()), redirect: "https://shop.example/other")
        }
        await #expect(throws: OAuthError.invalidGrant(reason: "wrong_client")) {
            try await exchange(try await signIn(Browser()), client: "web", secret: webSecret, redirect: "https://shop.example/cb")
        }
        // A failed exchange used the code up: the right one after it is a replay.
        let code = try await signIn(Browser())
        await #expect(throws: OAuthError.self) { try await exchange(code, verifier: String(repeating: "w", count: 43)) }
        await #expect(throws: OAuthError.invalidGrant(reason: "code_reused")) { try await exchange(code) }
    }

    @Test func aCodeExpiresAfterSixtySeconds() async throws {
        let code = try await signIn(Browser())
        clock.advance(61)
        await #expect(throws: OAuthError.invalidGrant(reason: "unknown_or_expired_code")) { try await exchange(code) }
    }

    @Test func aPublicClientsRefreshTokensRotateWhateverThePolicy() async throws {
        _ = try await admin.replacePolicy("acme", try JSONValue.parse(Array(#"{"refresh_token_rotation": false}"#.utf8)), by: .operator)
        let tokens = try await exchange(try await signIn(Browser()))
        let refreshed = try await runtime.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
            parameters: ["grant_type": "refresh_token", "refresh_token": tokens.refreshToken ?? ""],
            client: ClientCredentials(clientID: "spa", secret: nil, method: .none), origin: .init()))
        #expect(refreshed.refreshToken != nil && refreshed.refreshToken != tokens.refreshToken)
    }

    // MARK: PAR and logout

    @Test func aPushedRequestIsTakenBackOnceValidAndOnlyForItsClient() async throws {
        let pushed = try await runtime.pushedAuthorization.push(
            tenantID: "acme", parameters: ["response_type": "code", "redirect_uri": "https://web.example/cb", "scope": "openid",
                                           "code_challenge": Self.challenge, "code_challenge_method": "S256", "state": "par"],
            client: ClientCredentials(clientID: "web", secret: webSecret, method: .post), origin: .init())
        #expect(pushed.requestURI.hasPrefix("urn:ietf:params:oauth:request_uri:") && pushed.expiresIn == 60)
        let browser = Browser()
        #expect(kind(try await authorize(browser, client: "web", ["request_uri": pushed.requestURI])) == "login")
        #expect(kind(try await authorize(browser, client: "spa", ["request_uri": pushed.requestURI])) == "error 400", "another client")
        clock.advance(61)
        #expect(kind(try await authorize(browser, client: "web", ["request_uri": pushed.requestURI])) == "error 400", "expired")
    }

    @Test func aTenantRequiringPARRefusesPlainRequests() async throws {
        _ = try await admin.replacePolicy("acme", try JSONValue.parse(Array(#"{"require_par": true}"#.utf8)), by: .operator)
        #expect(try query(try await authorize(Browser()))["error"] == "invalid_request")
    }

    @Test func logoutWithAnIDTokenHintEndsTheBrowserSessionAndItsFamilies() async throws {
        let browser = Browser()
        let tokens = try await exchange(try await signIn(browser))
        _ = try await admin.updateClient("acme", "spa", .init(postLogoutRedirectURIs: ["https://shop.example/bye"]), by: .operator)
        let outcome = try await runtime.endSession.endSession(
            tenantID: "acme", parameters: ["id_token_hint": tokens.idToken ?? "", "post_logout_redirect_uri": "https://shop.example/bye",
                                           "state": "x"], confirmed: false, browser: browser.context())
        #expect(outcome == .redirect(location: "https://shop.example/bye?state=x"))
        #expect(try query(try await authorize(browser, ["prompt": "none"]))["error"] == "login_required")
        let introspected = try await runtime.introspection.introspect(
            tenantID: "acme", token: tokens.accessToken, client: ClientCredentials(clientID: "web", secret: webSecret, method: .post), origin: .init())
        #expect(!introspected.active)
    }

    @Test func logoutWithoutAHintAsksFirstAndAnUnregisteredReturnIsAPage() async throws {
        let browser = Browser()
        _ = try await signIn(browser)
        let asked = try await runtime.endSession.endSession(tenantID: "acme", parameters: [:], confirmed: false, browser: browser.context())
        guard case .confirm(_, let fields, let csrf) = asked else { Issue.record("\(asked)"); return }
        // Confirmed without the cookie's CSRF value: asked again, still signed in.
        let forged = try await runtime.endSession.endSession(tenantID: "acme", parameters: ["csrf": "forged"], confirmed: true,
                                                             browser: .init(sessionCookie: browser.sso, csrfCookie: csrf, origin: .init()))
        guard case .confirm = forged else { Issue.record("\(forged)"); return }
        #expect(try query(try await authorize(browser, ["prompt": "none"]))["code"] != nil)
        let done = try await runtime.endSession.endSession(tenantID: "acme", parameters: fields, confirmed: true,
                                                           browser: .init(sessionCookie: browser.sso, csrfCookie: csrf, origin: .init()))
        #expect(done == .signedOut(tenantName: "Acme"))
        #expect(try query(try await authorize(browser, ["prompt": "none"]))["error"] == "login_required")
        let unregistered = try await runtime.endSession.endSession(
            tenantID: "acme", parameters: ["client_id": "spa", "post_logout_redirect_uri": "https://evil.example/"], confirmed: false,
            browser: browser.context())
        guard case .errorPage(400, _) = unregistered else { Issue.record("\(unregistered)"); return }
    }

    func claims(_ jwt: String) throws -> [String: Any] {
        let payload = try #require(Base64URL.decode(jwt.split(separator: ".")[1]))
        return try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
    }
}
