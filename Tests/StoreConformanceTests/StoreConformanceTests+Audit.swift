import Foundation
import IdentityCore
import StoreTestSupport
import Testing

/// What the December audit's fixes ask of every store: grace retries counted and superseded tokens
/// (finding 6), TOTP steps accepted once (2), admin keys replaced (19), password hashes replaced only from
/// the hash they replace (20), a client's secret rotation kept (14), settings written once (8).
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func graceRetriesAreCountedAgainstTheirLimitEvenConcurrently(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        #expect(try await store.applyRefresh(F.rotation(of: "r1", to: "r2", at: 1)) == .applied)
        let results = try await withThrowingTaskGroup(of: RefreshWriteResult.self) { group in
            for index in 0..<16 {
                var retry = F.rotation(of: "r1", to: "g\(index)", at: 2, expect: .rotated)
                retry.graceLimit = 3
                group.addTask { try await store.applyRefresh(retry) }
            }
            return try await group.reduce(into: [RefreshWriteResult]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == .applied }.count == 3)
        #expect(results.filter { $0 == .tokenChanged }.count == 13)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r1")?.0.graceUses == 3)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func rotatingASuccessorSupersedesItsParent(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(), firstToken: F.token(key: "r1"))
        #expect(try await store.applyRefresh(F.rotation(of: "r1", to: "r2", at: 1)) == .applied)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r1")?.0.superseded == false)
        var next = F.rotation(of: "r2", to: "r3", at: 2)
        next.supersedes = "r1"
        #expect(try await store.applyRefresh(next) == .applied)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r1")?.0.superseded == true)
        var retry = F.rotation(of: "r1", to: "r4", at: 3, expect: .rotated)
        retry.graceLimit = 3
        #expect(try await store.applyRefresh(retry) == .tokenChanged)
        #expect(try await store.refreshToken(tenantID: "acme", lookupKey: "r4") == nil)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aTOTPStepIsAcceptedOnceEvenConcurrently(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 { group.addTask { try await store.acceptTOTPStep(tenantID: "acme", userID: "usr_1", step: 100) } }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(accepted.filter { $0 }.count == 1)
        #expect(try await !store.acceptTOTPStep(tenantID: "acme", userID: "usr_1", step: 99))
        #expect(try await store.acceptTOTPStep(tenantID: "acme", userID: "usr_1", step: 101))
        #expect(try await !store.acceptTOTPStep(tenantID: "umbrella", userID: "usr_1", step: 500))
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func adminKeysPasswordHashesAndSecretRotationsAreReplaced(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        #expect(try await store.replaceAdminKeyHash(tenantID: "acme", hash: "hash-acme-2"))
        #expect(try await store.tenantID(adminKeyHash: "hash-acme") == nil)
        #expect(try await store.tenantID(adminKeyHash: "hash-acme-2") == "acme")
        #expect(try await !store.replaceAdminKeyHash(tenantID: "ghost", hash: "x"))
        #expect(try await !store.replacePasswordHash(tenantID: "acme", userID: "usr_1", old: "not-it", new: "$argon2id$new"))
        #expect(try await store.replacePasswordHash(tenantID: "acme", userID: "usr_1", old: "$scrypt$y", new: "$argon2id$new"))
        #expect(try await store.user(tenantID: "acme", id: "usr_1")?.passwordHash == "$argon2id$new")
        var client = F.client()
        client.secretRotatedAt = F.t0 + 5
        #expect(try await store.updateClient(client))
        #expect(try await store.client(tenantID: "acme", id: "web")?.secretRotatedAt == F.t0 + 5)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aSettingIsWrittenOnceAndTheFirstValueWins(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        #expect(try await store.setting("check") == nil)
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<8 { group.addTask { try await store.insertSetting("check", value: "v\(index)") } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(values).count == 1)
        #expect(try await store.setting("check") == values[0])
        try await store.replaceSetting("check", value: "other")
        #expect(try await store.setting("check") == "other")
        try await store.close()
    }
}
