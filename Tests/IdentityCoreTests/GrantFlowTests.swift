import Foundation
import IdentityCore
import IdentityTestSupport
import MemoryStore
import Testing

/// The grants end to end through the core, on the memory store, with the clock under the test's control.
@Suite struct GrantFlowTests {
    let clock = ManualClock()
    let runtime: IdentityRuntime
    let admin: Administration
    var secret = ""
    var userID = ""

    init() async throws {
        runtime = try .forTests(store: MemoryStore(), clock: clock, tenantCacheTTL: 300)
        admin = Administration(runtime: runtime, operatorKey: "operator")
        _ = try await admin.createTenant(.init(id: "acme", name: "Acme", policy: json(#"""
            {"session_idle_ttl": 100, "session_max_ttl": 250, "refresh_reuse_grace": 5,
             "step_up": [{"scope": "payments", "acr": "mfa", "max_age": 60}]}
            """#)), by: .operator)
        secret = try await admin.createClient("acme", .init(clientID: "web", name: "Web", type: "confidential",
                                                            grantTypes: ["password", "refresh_token"], scopes: ["openid", "api", "payments"]),
                                              by: .operator).clientSecretForTests
        userID = try await admin.createUser("acme", .init(username: "alice", password: "correct horse"), by: .operator).idForTests
    }

    func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func request(_ parameters: [String: String], tenant: String = "acme") async throws -> TokenResponse {
        try await runtime.tokenEndpoint.respond(tenantID: tenant, request: TokenRequest(
            parameters: parameters, client: ClientCredentials(clientID: "web", secret: secret, method: .basic), origin: .init()))
    }

    func login(_ extra: [String: String] = [:]) async throws -> TokenResponse {
        try await request(["grant_type": "password", "username": "alice", "password": "correct horse"].merging(extra) { $1 })
    }

    func refresh(_ token: String?) async throws -> TokenResponse {
        try await request(["grant_type": "refresh_token", "refresh_token": token ?? ""])
    }

    func isActive(_ accessToken: String) async throws -> Bool {
        try await runtime.introspection.introspect(tenantID: "acme", token: accessToken,
                                     client: ClientCredentials(clientID: "web", secret: secret, method: .post), origin: .init()).active
    }

    func idTokenUsername(_ response: TokenResponse) throws -> String? {
        let idToken = try #require(response.idToken)
        let payload = try #require(Base64URL.decode(idToken.split(separator: ".")[1]))
        return try JSONDecoder().decode(IDTokenClaims.self, from: Data(payload)).preferredUsername
    }

    /// Nodes cache users for the claims of ID tokens and introspection answers (the suite's tenant cache
    /// lives 300 s): a renamed user is named anew in the very next token and introspection answer.
    @Test func aUserChangeReachesTheNextTokensClaimsDespiteTheCache() async throws {
        let first = try await login(["scope": "openid api"])
        let second = try await refresh(first.refreshToken)
        #expect(try idTokenUsername(second) == "alice")
        let before = try await runtime.introspection.introspect(tenantID: "acme", token: second.accessToken,
                                                  client: ClientCredentials(clientID: "web", secret: secret, method: .post), origin: .init())
        #expect(before.username == "alice")
        _ = try await admin.updateUser("acme", userID, .init(username: "alicia"), by: .operator)
        let third = try await refresh(second.refreshToken)
        #expect(try idTokenUsername(third) == "alicia")
        let after = try await runtime.introspection.introspect(tenantID: "acme", token: third.accessToken,
                                                 client: ClientCredentials(clientID: "web", secret: secret, method: .post), origin: .init())
        #expect(after.username == "alicia")
    }

    @Test func slidingKeepsAnActiveSessionAliveUntilTheAbsoluteCap() async throws {
        var tokens = try await login()
        for _ in 0..<3 {  // 3 × 80 s: each refresh lands inside the 100 s idle window
            clock.advance(80)
            tokens = try await refresh(tokens.refreshToken)
        }
        clock.advance(11)  // 251 s after login: past the 250 s cap although idle would allow it
        await #expect(throws: OAuthError.invalidGrant(reason: "absolute_expired")) { try await refresh(tokens.refreshToken) }
    }

    @Test func anIdleSessionExpires() async throws {
        let tokens = try await login()
        clock.advance(100)
        await #expect(throws: OAuthError.invalidGrant(reason: "idle_expired")) { try await refresh(tokens.refreshToken) }
    }

    @Test func reuseAfterGraceRevokesTheFamilyAndItsAccessTokens() async throws {
        let first = try await login()
        let second = try await refresh(first.refreshToken)
        #expect(try await isActive(second.accessToken))
        clock.advance(6)
        await #expect(throws: OAuthError.invalidGrant(reason: "refresh_token_reused")) { try await refresh(first.refreshToken) }
        #expect(!(try await isActive(second.accessToken)))
        #expect(!(try await isActive(first.accessToken)))
        await #expect(throws: OAuthError.self) { try await refresh(second.refreshToken) }
        let reused = try await runtime.audit.events(tenantID: "acme", kind: .refreshTokenReused, after: 0, limit: 10)
        #expect(reused.count == 1 && reused[0].tokenHashPrefix == TokenDigest.prefix(first.refreshToken!))
    }

    /// A node remembers the refresh tokens it issued and skips the store's lookup when one comes back. When
    /// another node has rotated that token meanwhile, or the session was revoked, the store still decides.
    @Test func aTokenRotatedOnAnotherNodeIsReuseHereToo() async throws {
        let other = try IdentityRuntime.forTests(store: runtime.store, clock: clock, tenantCacheTTL: 300)
        func refreshOnOther(_ token: String?) async throws -> TokenResponse {
            try await other.tokenEndpoint.respond(tenantID: "acme", request: TokenRequest(
                parameters: ["grant_type": "refresh_token", "refresh_token": token ?? ""],
                client: ClientCredentials(clientID: "web", secret: secret, method: .basic), origin: .init()))
        }
        let first = try await login()
        let second = try await refresh(first.refreshToken)  // this node now remembers `second`
        let third = try await refreshOnOther(second.refreshToken)
        clock.advance(6)  // past the 5 s grace
        await #expect(throws: OAuthError.invalidGrant(reason: "refresh_token_reused")) { try await refresh(second.refreshToken) }
        await #expect(throws: OAuthError.self) { try await refreshOnOther(third.refreshToken) }

        let fourth = try await refresh(try await login().refreshToken)  // remembered here
        _ = try await admin.updateUser("acme", userID, .init(password: "another horse"), by: .operator)
        await #expect(throws: OAuthError.invalidGrant(reason: "session_revoked")) { try await refresh(fourth.refreshToken) }
    }

    /// Every parameter of a refresh is validated before the store is written: a refused request rotates
    /// nothing, so with grace 0 the same token still refreshes afterwards (before, a malformed `resource`
    /// was checked after the compare-and-set and the family's next refresh was taken for reuse).
    @Test func aRefusedRefreshRotatesNothing() async throws {
        _ = try await admin.replacePolicy("acme", json(#"{"refresh_reuse_grace": 0, "session_idle_ttl": 100, "session_max_ttl": 250}"#), by: .operator)
        let tokens = try await login()
        let token = try #require(tokens.refreshToken)
        await #expect(throws: OAuthError.invalidRequest(description: "resource must be an absolute URI without a fragment")) {
            try await request(["grant_type": "refresh_token", "refresh_token": token, "resource": "/relative"])
        }
        await #expect(throws: OAuthError.invalidScope(description: "scope is malformed")) {
            try await request(["grant_type": "refresh_token", "refresh_token": token, "scope": "bad\\scope"])
        }
        await #expect(throws: OAuthError.invalidScope(description: "scope not allowed")) {
            try await request(["grant_type": "refresh_token", "refresh_token": token, "scope": "never-granted"])
        }
        let next = try await refresh(token)
        #expect(next.refreshToken != token)
        #expect(try await isActive(next.accessToken))
    }

    @Test func aRetryWithinGraceKeepsTheFamilyValid() async throws {
        let first = try await login()
        let second = try await refresh(first.refreshToken)
        clock.advance(3)
        let retry = try await refresh(first.refreshToken)
        #expect(retry.refreshToken != second.refreshToken)
        #expect(try await isActive(second.accessToken))
        _ = try await refresh(retry.refreshToken)
        _ = try await refresh(second.refreshToken)
    }

    @Test func aSensitiveScopeNeedsMFA() async throws {
        await #expect(throws: OAuthError.insufficientUserAuthentication(acr: "mfa", maxAge: 60)) {
            try await login(["scope": "api payments"])
        }
        let quiet = try await login()
        #expect(!quiet.scope.contains("payments"))

        let enrollment = try await admin.enrollTOTP("acme", userID, by: .operator).secretForTests
        let otp = TOTP(secret: try #require(base32Decode(enrollment))).code(at: clock.now())
        let strong = try await login(["scope": "api payments", "otp": otp])
        #expect(strong.scope == "api payments")
        clock.advance(61)  // max_age passed: a refresh naming no scopes drops the stale sensitive scope
        let later = try await refresh(strong.refreshToken)
        #expect(later.scope == "api")
        await #expect(throws: OAuthError.self) { try await login(["otp": "000000"]) }
    }

    @Test func withRotationOffTheSameRefreshTokenKeepsWorking() async throws {
        _ = try await admin.replacePolicy("acme", json(#"{"refresh_token_rotation": false, "session_idle_ttl": 100, "session_max_ttl": 250}"#), by: .operator)
        let tokens = try await login()
        clock.advance(50)
        #expect(try await refresh(tokens.refreshToken).refreshToken == tokens.refreshToken)
        clock.advance(90)  // would be idle-expired had the first refresh not slid the session
        #expect(try await refresh(tokens.refreshToken).refreshToken == tokens.refreshToken)
    }

    @Test func jwtRefreshTokensAreStillCheckedAgainstTheStore() async throws {
        _ = try await admin.replacePolicy("acme", json(#"{"refresh_token_format": "jwt", "refresh_reuse_grace": 0, "session_idle_ttl": 100, "session_max_ttl": 250}"#), by: .operator)
        let first = try await login()
        #expect(JOSEHeader.of(first.refreshToken!)?.typ == "rt+jwt")
        _ = try await refresh(first.refreshToken)
        await #expect(throws: OAuthError.invalidGrant(reason: "refresh_token_reused")) { try await refresh(first.refreshToken) }
        var tampered = first.refreshToken!
        tampered.removeLast(2)
        await #expect(throws: OAuthError.invalidGrant(reason: "malformed_or_unsigned_token")) { try await refresh(tampered + "AA") }
    }

    @Test func aPasswordChangeRevokesTheUsersSessions() async throws {
        let tokens = try await login()
        _ = try await admin.updateUser("acme", userID, .init(password: "another horse"), by: .operator)
        #expect(!(try await isActive(tokens.accessToken)))
        await #expect(throws: OAuthError.self) { try await refresh(tokens.refreshToken) }
    }

    @Test func nothingIssuedForOneTenantIsAcceptedByAnother() async throws {
        _ = try await admin.createTenant(.init(id: "umbrella", name: "Umbrella"), by: .operator)
        let tokens = try await login()
        await #expect(throws: OAuthError.invalidClient(reason: "unknown_client")) {
            try await request(["grant_type": "refresh_token", "refresh_token": tokens.refreshToken!], tenant: "umbrella")
        }
        let other = try await admin.createClient("umbrella", .init(clientID: "web", name: "W", type: "confidential", grantTypes: ["refresh_token"]), by: .operator)
        await #expect(throws: OAuthError.invalidGrant(reason: "unknown_token")) {
            try await runtime.tokenEndpoint.respond(tenantID: "umbrella", request: TokenRequest(
                parameters: ["grant_type": "refresh_token", "refresh_token": tokens.refreshToken!],
                client: ClientCredentials(clientID: "web", secret: other.clientSecretForTests, method: .post), origin: .init()))
        }
        let answer = try await runtime.introspection.introspect(tenantID: "umbrella", token: tokens.accessToken,
                                                  client: ClientCredentials(clientID: "web", secret: other.clientSecretForTests, method: .post), origin: .init())
        #expect(!answer.active)
    }

    @Test func keyRotationPromotesThePrepublishedKeyAndOldTokensStillVerify() async throws {
        let before = try await login()
        let keysBefore = try await runtime.store.signingKeys(tenantID: "acme")
        let pending = try #require(keysBefore.first { $0.state == .pending })
        _ = try await admin.rotateKeys("acme", .init(), by: .operator)
        let after = try await login()
        #expect(JOSEHeader.of(after.accessToken)?.kid == pending.kid)
        #expect(try await isActive(before.accessToken))
        let jwks = try #require(try await runtime.directory.context(for: "acme")).keyring.jwksJSON
        #expect(jwks.contains(JOSEHeader.of(before.accessToken)!.kid!) && jwks.contains(pending.kid))
    }
}

func base32Decode(_ text: String) -> [UInt8]? {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var buffer = 0, bits = 0, output: [UInt8] = []
    for character in text {
        guard let value = alphabet.firstIndex(of: character) else { return nil }
        buffer = (buffer << 5) | value
        bits += 5
        if bits >= 8 {
            output.append(UInt8((buffer >> (bits - 8)) & 0xFF))
            bits -= 8
        }
    }
    return output
}

extension Encodable {
    /// A field of the encoded admin view.
    func field(_ name: String) -> String {
        let data = try! AdminView.encoder().encode(self)
        return (try! JSONSerialization.jsonObject(with: data) as! [String: Any])[name] as? String ?? ""
    }
    var clientSecretForTests: String { field("client_secret") }
    var idForTests: String { field("id") }
    var secretForTests: String { field("secret") }
}
