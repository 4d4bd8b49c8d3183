import Foundation
import IdentityCore
import Testing

/// DESIGN.md "Rotation, reuse, sliding sessions", steps 1–5, on the pure state machine.
@Suite struct RefreshRotationTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    var policy: TenantPolicy {
        var policy = TenantPolicy()
        policy.sessionIdleTTL = 100
        policy.sessionMaxTTL = 1000
        policy.refreshReuseGrace = 10
        return policy
    }

    func session(status: Session.Status = .active, idle: TimeInterval = 100, absolute: TimeInterval = 1000) -> Session {
        Session(tenantID: "acme", id: "sid_1", userID: "usr_1", clientID: "web", scopes: ["api"], acr: .pwd, amr: ["pwd"],
                authTime: start, createdAt: start, lastUsedAt: start, idleExpiresAt: start + idle, absoluteExpiresAt: start + absolute,
                accessExpiresAt: start, status: status)
    }

    func token(_ state: RefreshTokenRecord.State = .active, rotatedAt: Date? = nil, client: String = "web", tenant: String = "acme") -> RefreshTokenRecord {
        RefreshTokenRecord(tenantID: tenant, lookupKey: "k1", sessionID: "sid_1", clientID: client, state: state, createdAt: start, rotatedAt: rotatedAt)
    }

    /// The decision to issue with `mode` for `token` of `session`, the idle expiry slid to `start + idle`.
    func issue(_ mode: RefreshRotation.Mode, _ token: RefreshTokenRecord, _ session: Session, idle: TimeInterval) -> RefreshRotation.Decision {
        let (expected, new): (RefreshTokenRecord.State, RefreshTokenRecord.State) =
            switch mode { case .rotate: (.active, .rotated); case .graceRetry: (.rotated, .rotated); case .reuseSameToken: (.active, .active) }
        return .issue(.init(mode: mode, token: token, session: session, expected: expected, new: new, idleExpiresAt: start + idle))
    }

    func decide(_ token: RefreshTokenRecord, _ session: Session, at offset: TimeInterval, client: String = "web",
                tenant: String = "acme", policy: TenantPolicy? = nil) -> RefreshRotation.Decision {
        RefreshRotation.decide(.init(tenantID: tenant, token: token, session: session, clientID: client, policy: policy ?? self.policy, now: start + offset))
    }

    @Test func anActiveTokenRotatesAndSlidesTheIdleWindow() {
        #expect(decide(token(), session(), at: 50) == issue(.rotate, token(), session(), idle: 150))
    }

    @Test func theSlideNeverPassesTheAbsoluteCap() {
        #expect(decide(token(), session(idle: 980), at: 950) == issue(.rotate, token(), session(idle: 980), idle: 1000))
    }

    @Test func aRotatedTokenWithinGraceGetsANewSuccessor() {
        #expect(decide(token(.rotated, rotatedAt: start + 40), session(), at: 50) == issue(.graceRetry, token(.rotated, rotatedAt: start + 40), session(), idle: 150))
    }

    @Test func theGraceWindowIncludesItsLastSecond() {
        #expect(decide(token(.rotated, rotatedAt: start + 40), session(), at: 50) != .revokeFamily)
        #expect(decide(token(.rotated, rotatedAt: start + 40), session(), at: 50.001) == .revokeFamily)
    }

    @Test func reuseAfterGraceRevokesTheWholeFamily() {
        #expect(decide(token(.rotated, rotatedAt: start + 10), session(), at: 21) == .revokeFamily)
    }

    @Test func graceZeroTreatsEveryReuseAsTheft() {
        var strict = policy
        strict.refreshReuseGrace = 0
        #expect(decide(token(.rotated, rotatedAt: start + 10), session(), at: 10, policy: strict) == .revokeFamily)
    }

    @Test func withRotationOffTheSameTokenStaysValidAndOnlyTheSessionSlides() {
        var noRotation = policy
        noRotation.refreshTokenRotation = false
        #expect(decide(token(), session(), at: 30, policy: noRotation) == issue(.reuseSameToken, token(), session(), idle: 130))
    }

    @Test func anIdleExpiredSessionIsRejected() {
        #expect(decide(token(), session(), at: 100) == .reject(.idleExpired))
    }

    @Test func anAbsolutelyExpiredSessionIsRejectedEvenIfIdleWouldAllow() {
        #expect(decide(token(), session(idle: 2000, absolute: 500), at: 600) == .reject(.absoluteExpired))
    }

    @Test func aRevokedSessionIsRejected() {
        #expect(decide(token(), session(status: .revoked), at: 1) == .reject(.sessionRevoked))
    }

    @Test func aRevokedTokenIsRejectedWithoutRevokingAgain() {
        #expect(decide(token(.revoked), session(), at: 1) == .reject(.tokenRevoked))
    }

    @Test func anotherClientsTokenIsRejected() {
        #expect(decide(token(), session(), at: 1, client: "mobile") == .reject(.wrongClient))
    }

    @Test func anotherTenantsTokenIsRejected() {
        #expect(decide(token(tenant: "other"), session(), at: 1) == .reject(.tenantMismatch))
        #expect(decide(token(), session(), at: 1, tenant: "other") == .reject(.tenantMismatch))
    }

    @Test func eachModeCarriesItsCompareAndSet() throws {
        func cas(_ decision: RefreshRotation.Decision) -> (RefreshTokenRecord.State, RefreshTokenRecord.State)? {
            guard case .issue(let issue) = decision else { return nil }
            return (issue.expected, issue.new)
        }
        var noRotation = policy
        noRotation.refreshTokenRotation = false
        #expect(try #require(cas(decide(token(), session(), at: 1))) == (.active, .rotated))
        #expect(try #require(cas(decide(token(.rotated, rotatedAt: start), session(), at: 1))) == (.rotated, .rotated))
        #expect(try #require(cas(decide(token(), session(), at: 1, policy: noRotation))) == (.active, .active))
    }
}
