import Foundation
import IdentityCore
import StoreTestSupport
import Testing
import TestServices

/// The contract of `IdentityStore`, run unchanged against every plugin.
@Suite struct StoreConformanceTests {
    typealias F = Fixture

    func seeded(_ kind: StoreKind) async throws -> any IdentityStore {
        let store = try await kind.make()
        try await store.createTenant(F.tenant(), adminKeyHash: "hash-acme", keys: [F.key(kid: "k1", state: .active)])
        try await store.createTenant(F.tenant("umbrella"), adminKeyHash: "hash-umbrella", keys: [F.key("umbrella", kid: "k1", state: .active)])
        try await store.createClient(F.client())
        try await store.createUser(F.user())
        return store
    }

    // MARK: tenants, keys, clients, users

    @Test(arguments: StoreKind.allCases)
    func tenantsRoundTripAndIdsAreUnique(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        #expect(try await store.tenant(id: "acme") == F.tenant())
        #expect(try await store.tenants().map(\.id) == ["acme", "umbrella"])
        await #expect(throws: StoreError.self) { try await store.createTenant(F.tenant(), adminKeyHash: "other", keys: []) }
        #expect(try await store.tenantID(adminKeyHash: "hash-umbrella") == "umbrella")
        #expect(try await store.tenantID(adminKeyHash: "nope") == nil)
        var changed = F.tenant()
        changed.name = "Acme Corp"
        changed.status = .suspended
        changed.policy.accessTokenTTL = 5
        #expect(try await store.updateTenant(changed))
        #expect(try await store.tenant(id: "acme") == changed)
        #expect(try await !store.updateTenant(F.tenant("ghost")))
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func deletingATenantDeletesEverythingUnderIt(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        try await store.appendEvents([AuditEvent(tenantID: "acme", kind: .tokenIssued, time: F.t0)])
        #expect(try await store.deleteTenant(id: "acme"))
        #expect(try await !store.deleteTenant(id: "acme"))
        #expect(try await store.tenant(id: "acme") == nil)
        #expect(try await store.client(tenantID: "acme", id: "web") == nil)
        #expect(try await store.user(tenantID: "acme", id: "usr_1") == nil)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r1") == nil)
        #expect(try await store.signingKeys(tenantID: "acme").isEmpty)
        #expect(try await store.events(tenantID: "acme", kind: nil, after: 0, limit: 10).isEmpty)
        #expect(try await store.tenantID(adminKeyHash: "hash-acme") == nil)
        #expect(try await store.signingKeys(tenantID: "umbrella").count == 1)
        try await store.close()
    }

    /// Events still queued when their tenant is deleted are dropped, as the deletion would have dropped them,
    /// without failing the batch they share with other tenants (a failed batch is retried, and would block
    /// the audit log for good); a tenant created again under the same id does not inherit them.
    @Test(arguments: StoreKind.allCases)
    func eventsOfADeletedTenantAreDroppedWithoutFailingTheBatch(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        #expect(try await store.deleteTenant(id: "umbrella"))
        try await store.appendEvents([
            AuditEvent(tenantID: "acme", kind: .tokenIssued, time: F.t0, detail: "first"),
            AuditEvent(tenantID: "umbrella", kind: .tokenIssued, time: F.t0),
            AuditEvent(tenantID: "acme", kind: .tokenIssued, time: F.t0, detail: "second"),
        ])
        #expect(try await store.events(tenantID: "acme", kind: nil, after: 0, limit: 10).map(\.detail) == ["first", "second"])
        try await store.createTenant(F.tenant("umbrella"), adminKeyHash: "hash-umbrella-2", keys: [])
        #expect(try await store.events(tenantID: "umbrella", kind: nil, after: 0, limit: 10).isEmpty)
        try await store.close()
    }

    /// PostgreSQL writes a batch name once: a retry of a write that missed its deadline but committed stores
    /// nothing more. The purge forgets names after a day. (SQLite's and memory's writes never end unconfirmed.)
    @Test(.enabled(if: StoreKind.allCases.contains(.postgres)))
    func aBatchRetriedUnderItsNameIsStoredOnce() async throws {
        let store = try await seeded(.postgres)
        let batch = [AuditEvent(tenantID: "acme", kind: .tokenIssued, time: F.t0, detail: "a"),
                     AuditEvent(tenantID: "umbrella", kind: .tokenIssued, time: F.t0, detail: "b")]
        try await store.appendEvents(batch, batch: "chunk-1")
        try await store.appendEvents(batch, batch: "chunk-1")
        try await store.appendEvents([AuditEvent(tenantID: "acme", kind: .tokenIssued, time: F.t0, detail: "c")], batch: "chunk-2")
        #expect(try await store.events(tenantID: "acme", kind: nil, after: 0, limit: 10).map(\.detail) == ["a", "c"])
        #expect(try await store.events(tenantID: "umbrella", kind: nil, after: 0, limit: 10).count == 1)
        #expect(try await store.purgeExpired(now: Date().addingTimeInterval(2 * 86_400), batch: 100) >= 2)
        try await store.appendEvents(batch, batch: "chunk-1")
        #expect(try await store.events(tenantID: "acme", kind: nil, after: 0, limit: 10).count == 3)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func signingKeysAreSavedByKidNewestFirst(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        var k1 = F.key(kid: "k1", state: .active)
        k1.state = .retired
        k1.retiredAt = F.t0 + 10
        k1.verifyUntil = F.t0 + 20
        try await store.saveSigningKeys([k1, F.key(kid: "k2", state: .active, at: 10), F.key(kid: "k3", state: .pending, at: 20)])
        let keys = try await store.signingKeys(tenantID: "acme")
        #expect(keys.map(\.kid) == ["k3", "k2", "k1"])
        #expect(keys.last == k1)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func clientsRoundTripPerTenant(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        #expect(try await store.client(tenantID: "acme", id: "web") == F.client())
        #expect(try await store.client(tenantID: "umbrella", id: "web") == nil)
        await #expect(throws: StoreError.conflict("client")) { try await store.createClient(F.client()) }
        try await store.createClient(F.client("umbrella"))
        var changed = F.client()
        changed.scopes = ["api"]
        changed.secretHash = "$scrypt$new"
        changed.grantTypes = [.clientCredentials]
        #expect(try await store.updateClient(changed))
        #expect(try await store.client(tenantID: "acme", id: "web") == changed)
        #expect(try await store.clients(tenantID: "acme") == [changed])
        #expect(try await store.deleteClient(tenantID: "acme", id: "web"))
        #expect(try await !store.deleteClient(tenantID: "acme", id: "web"))
        #expect(try await store.client(tenantID: "umbrella", id: "web") != nil)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func usernamesAreUniquePerTenant(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        #expect(try await store.user(tenantID: "acme", username: "alice") == F.user())
        await #expect(throws: StoreError.self) { try await store.createUser(F.user(id: "usr_2")) }
        try await store.createUser(F.user("umbrella"))
        try await store.createUser(F.user(id: "usr_2", username: "bob"))
        var bob = F.user(id: "usr_2", username: "alice")
        await #expect(throws: StoreError.self) { _ = try await store.updateUser(bob) }
        bob.username = "bobby"
        bob.sealedTOTPSecret = "sealed"
        bob.email = nil
        #expect(try await store.updateUser(bob))
        #expect(try await store.user(tenantID: "acme", id: "usr_2") == bob)
        #expect(try await store.users(tenantID: "acme").map(\.username) == ["alice", "bobby"])
        #expect(try await store.deleteUser(tenantID: "acme", id: "usr_2"))
        #expect(try await store.user(tenantID: "acme", username: "bobby") == nil)
        try await store.close()
    }

    /// Concurrent writes, some of which fail (SQLite commits concurrent writes together: a failure must undo
    /// its own write only, and every caller must get its own outcome).
    @Test(arguments: StoreKind.allCases)
    func concurrentWritesThatFailLeaveTheOthersWritten(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        // 40 users, every other one under a username taken twice: of each pair exactly one is written.
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for n in 0..<40 {
                group.addTask {
                    let user = F.user(id: "usr_c\(n)", username: n.isMultiple(of: 2) ? "shared\(n / 4)" : "own\(n)")
                    do {
                        try await store.createUser(user)
                        return (n, true)
                    } catch StoreError.conflict {
                        return (n, false)
                    }
                }
            }
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let users = try await store.users(tenantID: "acme")
        for n in 0..<40 {
            #expect((try await store.user(tenantID: "acme", id: "usr_c\(n)") != nil) == outcomes[n], "user \(n)")
        }
        #expect(outcomes.values.filter { !$0 }.count == 10)
        #expect(users.count == 1 + 30)

        // 20 sessions whose first refresh tokens collide in pairs: a session whose token failed is not written.
        let written = await withTaskGroup(of: (Int, Bool).self) { group in
            for n in 0..<20 {
                group.addTask {
                    do {
                        try await store.createSession(F.session(id: "sid_c\(n)"), firstToken: F.token(key: "k\(n / 2)", session: "sid_c\(n)"))
                        return (n, true)
                    } catch {
                        return (n, false)
                    }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(written.values.filter { $0 }.count == 10)
        for n in 0..<20 {
            #expect((try await store.session(tenantID: "acme", id: "sid_c\(n)") != nil) == written[n], "session \(n)")
        }
        try await store.close()
    }

    // MARK: sessions and rotation

    @Test(arguments: StoreKind.allCases)
    func aSessionIsFoundThroughItsRefreshTokenInItsTenantOnly(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        let found = try #require(try await store.refreshToken(tenantID: "acme", lookupKey: "r1"))
        #expect(found.0 == F.token(key: "r1"))
        #expect(found.1 == F.session())
        #expect(try await store.refreshToken(tenantID: "umbrella", lookupKey: "r1") == nil)
        #expect(try await store.session(tenantID: "umbrella", id: "sid_1") == nil)
        #expect(try await store.liveSessions(tenantID: "acme", userID: "usr_1", now: F.t0 + 50).map(\.id) == ["sid_1"])
        #expect(try await store.liveSessions(tenantID: "acme", userID: "usr_1", now: F.t0 + 100).isEmpty)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aRotationMarksTheTokenInsertsTheSuccessorAndSlidesTheSession(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        #expect(try await store.applyRefresh(F.rotation(of: "r1", to: "r2", at: 30)) == .applied)
        let (old, session) = try #require(try await store.refreshToken(tenantID: "acme", lookupKey: "r1"))
        #expect(old.state == .rotated && old.rotatedAt == F.t0 + 30)
        #expect(session.lastUsedAt == F.t0 + 30 && session.idleExpiresAt == F.t0 + 130 && session.accessExpiresAt == F.t0 + 90)
        let (successor, _) = try #require(try await store.refreshToken(tenantID: "acme", lookupKey: "r2"))
        #expect(successor == F.token(key: "r2", parent: "r1", at: 30))
        // The same compare-and-set again loses: the token is no longer active, and nothing is written.
        #expect(try await store.applyRefresh(F.rotation(of: "r1", to: "r3", at: 31)) == .tokenChanged)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r3") == nil)
        #expect(try await store.session(tenantID: "acme", id: "sid_1")?.lastUsedAt == F.t0 + 30)
        // A grace retry expects `rotated` and keeps `rotatedAt`.
        #expect(try await store.applyRefresh(F.rotation(of: "r1", to: "r4", at: 32, expect: .rotated)) == .applied)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r1")?.0.rotatedAt == F.t0 + 30)
        // accessExpiresAt never moves backwards.
        var write = F.rotation(of: "r2", to: nil, at: 33, leave: .active)
        write.accessExpiresAt = F.t0
        #expect(try await store.applyRefresh(write) == .applied)
        #expect(try await store.session(tenantID: "acme", id: "sid_1")?.accessExpiresAt == F.t0 + 92)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aRefreshOnAnExpiredOrRevokedSessionWritesNothing(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        #expect(try await store.applyRefresh(F.rotation(of: "r1", to: "r2", at: 100)) == .sessionNotLive)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r1")?.0.state == .active)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r2") == nil)
        _ = try await store.revokeSessions(tenantID: "acme", ids: ["sid_1"], at: F.t0 + 1)
        #expect(try await store.applyRefresh(F.rotation(of: "r1", to: "r2", at: 2, expect: .revoked, leave: .revoked)) == .sessionNotLive)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r2") == nil)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentRotationsOfOneTokenHaveExactlyOneWinner(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        let results = try await withThrowingTaskGroup(of: RefreshWriteResult.self) { group in
            for index in 0..<32 {
                group.addTask { try await store.applyRefresh(F.rotation(of: "r1", to: "s\(index)", at: 10)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 == .applied }.count == 1)
        #expect(results.filter { $0 == .tokenChanged }.count == 31)
        var successors = 0
        for index in 0..<32 where try await store.refreshToken(tenantID: "acme", lookupKey: "s\(index)") != nil { successors += 1 }
        #expect(successors == 1)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func revokingASessionRevokesItsFamilyAndRecordsItsSid(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        _ = try await store.applyRefresh(F.rotation(of: "r1", to: "r2", at: 10))
        try await store.createSession(F.session(id: "sid_2"), firstToken: F.token(key: "x1", session: "sid_2"))
        let revoked = try await store.revokeSessions(tenantID: "acme", ids: ["sid_1", "sid_ghost"], at: F.t0 + 20)
        #expect(revoked.map(\.id) == ["sid_1"] && revoked[0].status == .revoked && revoked[0].revokedAt == F.t0 + 20)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r1")?.0.state == .revoked)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r2")?.0.state == .revoked)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "x1")?.0.state == .active)
        #expect(try await store.isRevoked(tenantID: "acme", sid: "sid_1", jti: nil, now: F.t0 + 21))
        #expect(try await !store.isRevoked(tenantID: "acme", sid: "sid_1", jti: nil, now: F.t0 + 70))  // past accessExpiresAt
        #expect(try await !store.isRevoked(tenantID: "umbrella", sid: "sid_1", jti: nil, now: F.t0 + 21))
        #expect(try await store.revokeSessions(tenantID: "acme", ids: ["sid_1"], at: F.t0 + 30).isEmpty)  // already revoked
        #expect(try await store.revokeSessions(tenantID: "umbrella", ids: ["sid_2"], at: F.t0 + 30).isEmpty)  // other tenant's
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aUsersOrAClientsSessionsAreRevokedTogether(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(id: "a"), firstToken: F.token(key: "a1", session: "a"))
        try await store.createSession(F.session(id: "b"), firstToken: F.token(key: "b1", session: "b"))
        try await store.createSession(F.session(id: "c", user: "usr_2", client: "mobile"), firstToken: F.token(key: "c1", session: "c", client: "mobile"))
        #expect(try await store.revokeUserSessions(tenantID: "acme", userID: "usr_1", at: F.t0 + 1).map(\.id) == ["a", "b"])
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "b1")?.0.state == .revoked)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "c1")?.0.state == .active)
        #expect(try await store.revokeClientSessions(tenantID: "acme", clientID: "mobile", at: F.t0 + 2).map(\.id) == ["c"])
        #expect(try await store.liveSessions(tenantID: "acme", userID: "usr_2", now: F.t0 + 3).isEmpty)
        try await store.close()
    }

    // MARK: revocations, events, purge

    @Test(arguments: StoreKind.allCases)
    func revocationsExpireOnTheirOwn(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.addRevocation(Revocation(tenantID: "acme", kind: .token, value: "jti-1", expiresAt: F.t0 + 10))
        try await store.addRevocation(Revocation(tenantID: "acme", kind: .token, value: "jti-1", expiresAt: F.t0 + 5))  // keeps the later
        #expect(try await store.isRevoked(tenantID: "acme", sid: nil, jti: "jti-1", now: F.t0 + 9))
        #expect(try await !store.isRevoked(tenantID: "acme", sid: "jti-1", jti: nil, now: F.t0 + 9))  // kinds do not mix
        #expect(try await !store.isRevoked(tenantID: "acme", sid: nil, jti: "jti-1", now: F.t0 + 10))
        #expect(try await store.revocations(liveAt: F.t0).count == 1)
        #expect(try await store.revocations(liveAt: F.t0 + 10).isEmpty)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func eventsArePagedByIdAndFilteredByKindAndTenant(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        let kinds: [AuditEvent.Kind] = [.tokenIssued, .tokenRefreshed, .refreshTokenReused, .tokenRefreshed]
        try await store.appendEvents(kinds.enumerated().map { index, kind in
            AuditEvent(tenantID: "acme", kind: kind, time: F.t0 + Double(index), userID: "usr_1", clientID: "web", sessionID: "sid_1",
                       tokenHashPrefix: "abcdef012345", ip: "127.0.0.1", userAgent: "curl", detail: "d\(index)")
        })
        try await store.appendEvents([AuditEvent(tenantID: "umbrella", kind: .tokenIssued, time: F.t0)])
        let all = try await store.events(tenantID: "acme", kind: nil, after: 0, limit: 100)
        #expect(all.map(\.kind) == kinds)
        #expect(all.map(\.id) == all.map(\.id).sorted() && Set(all.map(\.id)).count == 4)
        #expect(all[2].detail == "d2" && all[2].tokenHashPrefix == "abcdef012345" && all[2].time == F.t0 + 2)
        let page = try await store.events(tenantID: "acme", kind: nil, after: all[1].id, limit: 1)
        #expect(page.map(\.id) == [all[2].id])
        #expect(try await store.events(tenantID: "acme", kind: .tokenRefreshed, after: 0, limit: 100).count == 2)
        #expect(try await store.events(tenantID: "umbrella", kind: nil, after: 0, limit: 100).count == 1)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func purgeRemovesOnlyWhatNoTokenCanStillNeed(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(id: "old", idle: 10), firstToken: F.token(key: "o1", session: "old"))
        try await store.createSession(F.session(id: "live"), firstToken: F.token(key: "l1", session: "live"))
        try await store.addRevocation(Revocation(tenantID: "acme", kind: .token, value: "j", expiresAt: F.t0 + 30))
        #expect(try await store.purgeExpired(now: F.t0 + 20, batch: 100) == 0)  // "old" idle-expired, but its access tokens live to +60
        #expect(try await store.purgeExpired(now: F.t0 + 61, batch: 100) == 3)  // the session, its token, the revocation
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "o1") == nil)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "l1") != nil)
        try await store.close()
    }
}
