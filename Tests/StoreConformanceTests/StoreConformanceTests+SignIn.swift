import Foundation
import IdentityCore
import StoreTestSupport
import Testing
import TestServices

/// The browser sign-in's part of the store contract: authorization codes (consumed exactly once), browser
/// sessions and consents, on every plugin.
extension StoreConformanceTests {
    static func code(_ tenant: String = "acme", hash: String = "c1", expiresIn: TimeInterval = 60) -> AuthorizationCode {
        AuthorizationCode(tenantID: tenant, codeHash: hash, clientID: "web", redirectURI: "https://app.test/cb", codeChallenge: "challenge",
                          nonce: "n-1", scopes: ["openid", "api"], userID: "usr_1", acr: .mfa, amr: ["pwd", "otp", "mfa"], authTime: F.t0,
                          dpopJKT: "jkt", browserSessionID: "bs_1", createdAt: F.t0, expiresAt: F.t0 + expiresIn)
    }

    static func browserSession(_ tenant: String = "acme", id: String = "bs_1", user: String = "usr_1", created: TimeInterval = 0,
                               expiresIn: TimeInterval = 3600) -> BrowserSession {
        BrowserSession(tenantID: tenant, id: id, secretHash: "secret-hash-\(id)", userID: user, acr: .pwd, amr: ["pwd"], authTime: F.t0 + created,
                       createdAt: F.t0 + created, expiresAt: F.t0 + created + expiresIn, ip: "192.0.2.7", userAgent: "Chromium")
    }

    @Test(arguments: StoreKind.allCases)
    func aCodeIsConsumedExactlyOnceUnderA32WayRace(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.saveCode(Self.code())
        let outcomes = try await withThrowingTaskGroup(of: CodeConsumption.self) { group in
            for _ in 0..<32 { group.addTask { try await store.consumeCode(tenantID: "acme", codeHash: "c1", now: F.t0 + 1) } }
            return try await group.reduce(into: [CodeConsumption]()) { $0.append($1) }
        }
        let consumed = outcomes.compactMap { outcome -> AuthorizationCode? in
            if case .consumed(let code) = outcome { return code }
            return nil
        }
        #expect(consumed.count == 1, "\(consumed.count) of 32 concurrent exchanges consumed the code")
        #expect(outcomes.filter { if case .alreadyConsumed = $0 { true } else { false } }.count == 31)
        var expected = Self.code()
        expected.consumedAt = F.t0 + 1
        #expect(consumed.first == expected, "every bound field round-trips")
        // The session the exchange started is recorded, and a later presentation finds it.
        try await store.attachSession(tenantID: "acme", codeHash: "c1", sessionID: "sid_9")
        guard case .alreadyConsumed(let used) = try await store.consumeCode(tenantID: "acme", codeHash: "c1", now: F.t0 + 2) else {
            Issue.record("a consumed code was not reported consumed")
            return
        }
        #expect(used.sessionID == "sid_9" && used.consumedAt == F.t0 + 1)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aCodeIsUnknownExpiredOrInAnotherTenant(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.saveCode(Self.code(hash: "c1"))
        await #expect(throws: StoreError.self) { try await store.saveCode(Self.code(hash: "c1")) }
        #expect(try await store.consumeCode(tenantID: "umbrella", codeHash: "c1", now: F.t0) == .unknown)
        #expect(try await store.consumeCode(tenantID: "acme", codeHash: "c2", now: F.t0) == .unknown)
        #expect(try await store.consumeCode(tenantID: "acme", codeHash: "c1", now: F.t0 + 60) == .unknown, "expired at expiresAt")
        // Expired, it was not consumed: it stays unknown rather than becoming a replay.
        #expect(try await store.consumeCode(tenantID: "acme", codeHash: "c1", now: F.t0 + 61) == .unknown)
        // Codes go a day after their expiry (a replay still ends its session until then), not before.
        try await store.saveCode(Self.code(hash: "c3"))
        _ = try await store.consumeCode(tenantID: "acme", codeHash: "c3", now: F.t0 + 1)
        _ = try await store.purgeExpired(now: F.t0 + 3600, batch: 100)
        guard case .alreadyConsumed = try await store.consumeCode(tenantID: "acme", codeHash: "c3", now: F.t0 + 3600) else {
            Issue.record("a used code was purged before a day had passed")
            return
        }
        _ = try await store.purgeExpired(now: F.t0 + 60 + 86_401, batch: 100)
        #expect(try await store.consumeCode(tenantID: "acme", codeHash: "c3", now: F.t0 + 60 + 86_401) == .unknown)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func browserSessionsAreListedRevokedAndPurgedPerTenant(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createBrowserSession(Self.browserSession(id: "bs_1"))
        try await store.createBrowserSession(Self.browserSession(id: "bs_2", created: 10))
        try await store.createBrowserSession(Self.browserSession(id: "bs_3", created: 20, expiresIn: 5))
        try await store.createBrowserSession(Self.browserSession(id: "bs_4", user: "usr_2"))
        try await store.createBrowserSession(Self.browserSession("umbrella", id: "bs_1"))
        #expect(try await store.browserSession(tenantID: "acme", id: "bs_1") == Self.browserSession(id: "bs_1"))
        #expect(try await store.browserSession(tenantID: "acme", id: "bs_9") == nil)
        #expect(try await store.browserSessions(tenantID: "acme", userID: "usr_1", now: F.t0 + 30).map(\.id) == ["bs_2", "bs_1"],
                "newest first, the expired one left out")
        #expect(try await store.revokeBrowserSessions(tenantID: "acme", userID: nil, id: "bs_2", at: F.t0 + 30) == ["bs_2"])
        #expect(try await store.revokeBrowserSessions(tenantID: "acme", userID: nil, id: "bs_2", at: F.t0 + 31) == [], "already revoked")
        #expect(try await store.browserSession(tenantID: "acme", id: "bs_2")?.status == .revoked)
        #expect(try await store.revokeBrowserSessions(tenantID: "acme", userID: "usr_1", id: nil, at: F.t0 + 32) == ["bs_1", "bs_3"])
        #expect(try await store.browserSession(tenantID: "acme", id: "bs_4")?.status == .active, "another user's")
        #expect(try await store.browserSession(tenantID: "umbrella", id: "bs_1")?.status == .active, "another tenant's")
        _ = try await store.purgeExpired(now: F.t0 + 3601, batch: 100)
        #expect(try await store.browserSession(tenantID: "acme", id: "bs_1") == nil)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func sessionsStartedInABrowserSessionEndWithIt(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        var inBrowser = F.session(id: "sid_b")
        inBrowser.browserSessionID = "bs_1"
        try await store.createSession(inBrowser, firstToken: F.token(key: "rb", session: "sid_b"))
        try await store.createSession(F.session(id: "sid_p"), firstToken: F.token(key: "rp", session: "sid_p"))
        #expect(try await store.session(tenantID: "acme", id: "sid_b") == inBrowser)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "rb")?.1 == inBrowser, "the refresh lookup returns it too")
        #expect(try await store.revokeBrowserSessionSessions(tenantID: "umbrella", browserSessionID: "bs_1", at: F.t0 + 1).isEmpty)
        #expect(try await store.revokeBrowserSessionSessions(tenantID: "acme", browserSessionID: "bs_1", at: F.t0 + 1).map(\.id) == ["sid_b"])
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "rb")?.0.state == .revoked)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "rp")?.0.state == .active)
        #expect(try await store.isRevoked(tenantID: "acme", sid: "sid_b", jti: nil, now: F.t0 + 2))
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func consentsAreRememberedPerUserAndClientUntilRevoked(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.saveConsent(Consent(tenantID: "acme", userID: "usr_1", clientID: "web", scopes: ["openid"], grantedAt: F.t0))
        try await store.saveConsent(Consent(tenantID: "acme", userID: "usr_1", clientID: "web", scopes: ["openid", "api"], grantedAt: F.t0 + 5))
        try await store.saveConsent(Consent(tenantID: "acme", userID: "usr_1", clientID: "app", scopes: ["openid"], grantedAt: F.t0))
        try await store.saveConsent(Consent(tenantID: "umbrella", userID: "usr_1", clientID: "web", scopes: ["x"], grantedAt: F.t0))
        #expect(try await store.consent(tenantID: "acme", userID: "usr_1", clientID: "web")
            == Consent(tenantID: "acme", userID: "usr_1", clientID: "web", scopes: ["openid", "api"], grantedAt: F.t0 + 5))
        #expect(try await store.consents(tenantID: "acme", userID: "usr_1").map(\.clientID) == ["app", "web"])
        #expect(try await store.consent(tenantID: "acme", userID: "usr_2", clientID: "web") == nil)
        #expect(try await store.revokeConsents(tenantID: "acme", userID: "usr_1", clientID: "web") == ["web"])
        #expect(try await store.revokeConsents(tenantID: "acme", userID: "usr_1", clientID: "web") == [])
        #expect(try await store.revokeConsents(tenantID: "acme", userID: "usr_1", clientID: nil) == ["app"])
        #expect(try await store.consent(tenantID: "umbrella", userID: "usr_1", clientID: "web") != nil)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aClientsSignInFieldsRoundTrip(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        var client = F.client(id: "spa")
        client.kind = .public
        client.secretHash = nil
        client.postLogoutRedirectURIs = ["https://app.test/bye"]
        client.requireConsent = true
        try await store.createClient(client)
        #expect(try await store.client(tenantID: "acme", id: "spa") == client)
        client.postLogoutRedirectURIs = []
        client.requireConsent = false
        #expect(try await store.updateClient(client))
        #expect(try await store.client(tenantID: "acme", id: "spa") == client)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func deletingATenantDeletesItsCodesBrowserSessionsAndConsents(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.saveCode(Self.code())
        try await store.createBrowserSession(Self.browserSession())
        try await store.saveConsent(Consent(tenantID: "acme", userID: "usr_1", clientID: "web", scopes: ["openid"], grantedAt: F.t0))
        #expect(try await store.deleteTenant(id: "acme"))
        try await store.createTenant(F.tenant(), adminKeyHash: "hash-acme-2", keys: [])
        #expect(try await store.consumeCode(tenantID: "acme", codeHash: "c1", now: F.t0) == .unknown)
        #expect(try await store.browserSession(tenantID: "acme", id: "bs_1") == nil)
        #expect(try await store.consent(tenantID: "acme", userID: "usr_1", clientID: "web") == nil)
        try await store.close()
    }
}
