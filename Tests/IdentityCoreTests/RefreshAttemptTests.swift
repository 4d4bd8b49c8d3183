import Foundation
import IdentityCore
import Testing

/// A refresh request as a state machine, branch by branch: what a read found and what the compare-and-set
/// did go in, the next action comes out (no store, no clock).
@Suite struct RefreshAttemptTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    var policy: TenantPolicy {
        var policy = TenantPolicy()
        policy.sessionIdleTTL = 100
        policy.sessionMaxTTL = 1000
        policy.refreshReuseGrace = 10
        return policy
    }

    func session(status: Session.Status = .active) -> Session {
        Session(tenantID: "acme", id: "sid_1", userID: "usr_1", clientID: "web", scopes: ["api"], acr: .pwd, amr: ["pwd"],
                authTime: start, createdAt: start, lastUsedAt: start, idleExpiresAt: start + 100, absoluteExpiresAt: start + 1000,
                accessExpiresAt: start, status: status)
    }

    func token(_ state: RefreshTokenRecord.State = .active, rotatedAt: Date? = nil) -> RefreshTokenRecord {
        RefreshTokenRecord(tenantID: "acme", lookupKey: "k1", sessionID: "sid_1", clientID: "web", state: state, createdAt: start, rotatedAt: rotatedAt)
    }

    func attempt(maxWrites: Int = 4) -> RefreshAttempt { RefreshAttempt(tenantID: "acme", clientID: "web", policy: policy, maxWrites: maxWrites) }

    func isWrite(_ action: RefreshAttempt.Action, _ mode: RefreshRotation.Mode) -> Bool {
        if case .write(let issue) = action { return issue.mode == mode }
        return false
    }

    @Test func withNothingRememberedItReadsTheStoreFirst() {
        var a = attempt()
        #expect(a.start(remembered: nil, now: start) == .readStore)
    }

    @Test func aRememberedTokenIsWrittenWithoutARead() {
        var a = attempt()
        #expect(isWrite(a.start(remembered: (token(), session()), now: start + 1), .rotate))
    }

    @Test func anUnknownTokenIsRefused() {
        var a = attempt()
        _ = a.start(remembered: nil, now: start)
        #expect(a.found(nil, from: .store, now: start) == .reject(reason: "unknown_token", session: nil))
    }

    @Test func anAppliedWriteSucceedsWithItsIssue() throws {
        var a = attempt()
        _ = a.start(remembered: nil, now: start)
        let write = a.found((token(), session()), from: .store, now: start + 1)
        guard case .write(let issue) = write else { Issue.record("expected a write, got \(write)"); return }
        #expect(a.wrote(.applied) == .succeed(issue))
    }

    @Test func aLostCompareAndSetReadsAgainAndTheLoserBecomesAGraceRetry() {
        var a = attempt()
        _ = a.start(remembered: nil, now: start)
        #expect(isWrite(a.found((token(), session()), from: .store, now: start + 1), .rotate))
        #expect(a.wrote(.tokenChanged) == .readStore)
        #expect(isWrite(a.found((token(.rotated, rotatedAt: start + 1), session()), from: .store, now: start + 1), .graceRetry))
    }

    @Test func aLostCompareAndSetPastTheGraceWindowIsReuse() {
        var a = attempt()
        _ = a.start(remembered: nil, now: start)
        _ = a.found((token(), session()), from: .store, now: start + 20)
        #expect(a.wrote(.tokenChanged) == .readStore)
        #expect(a.found((token(.rotated, rotatedAt: start + 5), session()), from: .store, now: start + 20) == .revokeFamily(session()))
    }

    @Test func aRefusalDecidedFromMemoryIsDecidedAgainFromTheStore() {
        var a = attempt()
        // Memory says the session is revoked: only the store may refuse.
        #expect(a.start(remembered: (token(), session(status: .revoked)), now: start + 1) == .readStore)
        #expect(isWrite(a.found((token(), session()), from: .store, now: start + 1), .rotate))
    }

    @Test func reuseDecidedFromMemoryIsDecidedAgainFromTheStore() {
        var a = attempt()
        #expect(a.start(remembered: (token(.rotated, rotatedAt: start), session()), now: start + 50) == .readStore)
        #expect(a.found((token(.rotated, rotatedAt: start), session()), from: .store, now: start + 50) == .revokeFamily(session()))
    }

    @Test func aRefusalFromTheStoreIsFinal() {
        var a = attempt()
        _ = a.start(remembered: nil, now: start)
        #expect(a.found((token(), session(status: .revoked)), from: .store, now: start + 1) == .reject(reason: "session_revoked", session: session(status: .revoked)))
    }

    @Test func aSessionNotLiveAtTheWriteIsRefusedWhenTheStoreSaidItWas() {
        var a = attempt()
        _ = a.start(remembered: nil, now: start)
        _ = a.found((token(), session()), from: .store, now: start + 1)
        #expect(a.wrote(.sessionNotLive) == .reject(reason: "session_not_live", session: session()))
    }

    @Test func aSessionNotLiveAtTheWriteIsReadAgainWhenMemorySaidItWas() {
        var a = attempt()
        #expect(isWrite(a.start(remembered: (token(), session()), now: start + 1), .rotate))
        #expect(a.wrote(.sessionNotLive) == .readStore)
        #expect(a.found((token(), session(status: .revoked)), from: .store, now: start + 1) == .reject(reason: "session_revoked", session: session(status: .revoked)))
    }

    @Test func contentionPastTheWriteLimitIsRefused() {
        var a = attempt(maxWrites: 2)
        _ = a.start(remembered: nil, now: start)
        #expect(isWrite(a.found((token(), session()), from: .store, now: start + 1), .rotate))
        #expect(a.wrote(.tokenChanged) == .readStore)
        #expect(isWrite(a.found((token(), session()), from: .store, now: start + 1), .rotate))
        #expect(a.wrote(.tokenChanged) == .readStore)
        #expect(a.found((token(), session()), from: .store, now: start + 1) == .reject(reason: "contention", session: session()))
    }
}
