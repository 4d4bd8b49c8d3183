import Foundation
import IdentityCore
import StoreTestSupport
import Testing
import TestServices

/// The webhook outbox's part of the store contract, on every plugin: deliveries are claimed when due, by one
/// claimer at a time while leased, retried when told, gone when finished or when their tenant is.
extension StoreConformanceTests {
    static func delivery(_ tenant: String = "acme", id: String, due: TimeInterval = 0) -> WebhookDelivery {
        WebhookDelivery(tenantID: tenant, id: id, body: #"{"id":"\#(id)","type":"security_alert"}"#, createdAt: F.t0, nextAttemptAt: F.t0 + due)
    }

    @Test(arguments: StoreKind.allCases)
    func webhookDeliveriesAreClaimedWhenDueAndByOneClaimerAtATime(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.enqueueWebhook(Self.delivery(id: "whd_1"))
        try await store.enqueueWebhook(Self.delivery("umbrella", id: "whd_2", due: 5))
        try await store.enqueueWebhook(Self.delivery(id: "whd_3", due: 60))
        // Due now: only the first; every field round-trips.
        #expect(try await store.claimWebhooks(now: F.t0 + 1, leaseUntil: F.t0 + 31, limit: 10) == [Self.delivery(id: "whd_1")])
        // Leased: not claimed again until the lease runs out; the other tenant's comes due.
        #expect(try await store.claimWebhooks(now: F.t0 + 10, leaseUntil: F.t0 + 40, limit: 10).map(\.id) == ["whd_2"])
        #expect(try await store.claimWebhooks(now: F.t0 + 20, leaseUntil: F.t0 + 50, limit: 10).isEmpty)
        #expect(try await store.claimWebhooks(now: F.t0 + 32, leaseUntil: F.t0 + 62, limit: 10).map(\.id) == ["whd_1"])
        // A retry ends the lease and moves the due time; a finish removes it.
        try await store.retryWebhook(tenantID: "acme", id: "whd_1", attempts: 2, nextAttemptAt: F.t0 + 100)
        try await store.finishWebhook(tenantID: "umbrella", id: "whd_2")
        let later = try await store.claimWebhooks(now: F.t0 + 100, leaseUntil: F.t0 + 130, limit: 1)
        #expect(later.map(\.id) == ["whd_3"], "the oldest due first, at most limit")
        let retried = try await store.claimWebhooks(now: F.t0 + 100, leaseUntil: F.t0 + 130, limit: 10)
        #expect(retried.map(\.id) == ["whd_1"] && retried.first?.attempts == 2 && retried.first?.nextAttemptAt == F.t0 + 100)
        #expect(try await store.claimWebhooks(now: F.t0 + 1000, leaseUntil: F.t0 + 1030, limit: 10).map(\.id).sorted() == ["whd_1", "whd_3"])
        // A tenant's deletion takes its deliveries.
        _ = try await store.deleteTenant(id: "acme")
        #expect(try await store.claimWebhooks(now: F.t0 + 5000, leaseUntil: F.t0 + 5030, limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentClaimersNeverGetTheSameDelivery(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        for n in 0..<40 { try await store.enqueueWebhook(Self.delivery(id: "whd_\(n)")) }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { try await store.claimWebhooks(now: F.t0 + 1, leaseUntil: F.t0 + 31, limit: 10).map(\.id) } }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(claimed.count == 40 && Set(claimed).count == 40, "\(claimed.count) claims, \(Set(claimed).count) distinct")
    }

    /// The incident playbook reads a tenant's live sessions: active and unexpired, oldest first, at most `limit`,
    /// only the tenant's.
    @Test(arguments: StoreKind.allCases)
    func aTenantsLiveSessionsAreListedOldestFirst(kind: StoreKind) async throws {
        let store = try await seeded(kind)
        try await store.createSession(F.session(id: "sid_b"), firstToken: F.token(key: "kb", session: "sid_b"))
        try await store.createSession(F.session(id: "sid_a"), firstToken: F.token(key: "ka", session: "sid_a"))
        try await store.createSession(F.session(id: "sid_short", idle: 5), firstToken: F.token(key: "ks", session: "sid_short"))
        try await store.createSession(F.session(id: "sid_gone"), firstToken: F.token(key: "kg", session: "sid_gone"))
        _ = try await store.revokeSessions(tenantID: "acme", ids: ["sid_gone"], at: F.t0 + 1)
        try await store.createSession(F.session("umbrella", id: "sid_other"), firstToken: nil)
        #expect(try await store.liveSessions(tenantID: "acme", now: F.t0 + 10, limit: 10).map(\.id) == ["sid_a", "sid_b"])
        #expect(try await store.liveSessions(tenantID: "acme", now: F.t0 + 1, limit: 2).map(\.id) == ["sid_a", "sid_b"])
        #expect(try await store.liveSessions(tenantID: "acme", now: F.t0 + 1, limit: 10).count == 3)
    }
}
