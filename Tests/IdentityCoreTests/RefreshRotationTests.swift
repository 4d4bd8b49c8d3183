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

    func decide(_ token: RefreshTokenRecord, _ session: Session, at offset: TimeInterval, client: String = "web",
                tenant: String = "acme", policy: TenantPolicy? = nil) -> RefreshRotation.Decision {
        RefreshRotation.decide(.init(tenantID: tenant, token: token, session: session, clientID: client, policy: policy ?? self.policy, now: start + offset))
    }

    @Test func anActiveTokenRotatesAndSlidesTheIdleWindow() {
        #expect(decide(token(), session(), at: 50) == .issue(mode: .rotate, idleExpiresAt: start + 150))
    }

    @Test func theSlideNeverPassesTheAbsoluteCap() {
        #expect(decide(token(), session(idle: 980), at: 950) == .issue(mode: .rotate, idleExpiresAt: start + 1000))
    }

    @Test func aRotatedTokenWithinGraceGetsANewSuccessor() {
        #expect(decide(token(.rotated, rotatedAt: start + 40), session(), at: 50) == .issue(mode: .graceRetry, idleExpiresAt: start + 150))
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
        #expect(decide(token(), session(), at: 30, policy: noRotation) == .issue(mode: .reuseSameToken, idleExpiresAt: start + 130))
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

    @Test func eachModeMapsToItsCompareAndSet() {
        #expect(RefreshRotation.transition(for: .rotate) == (.active, .rotated))
        #expect(RefreshRotation.transition(for: .graceRetry) == (.rotated, .rotated))
        #expect(RefreshRotation.transition(for: .reuseSameToken) == (.active, .active))
    }
}
