import Foundation
import IdentityCore

extension MemoryStore {
    public func enqueueWebhook(_ delivery: WebhookDelivery) async throws {
        state.withLock { $0.webhooks[Self.key(delivery.tenantID, delivery.id)] = (delivery, nil) }
    }

    public func claimWebhooks(now: Date, leaseUntil: Date, limit: Int) async throws -> [WebhookDelivery] {
        state.withLock { state in
            let due = state.webhooks.values.filter { $0.delivery.nextAttemptAt <= now && ($0.leaseUntil.map { $0 <= now } ?? true) }
                .map(\.delivery).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }.prefix(limit)
            for delivery in due { state.webhooks[Self.key(delivery.tenantID, delivery.id)]?.leaseUntil = leaseUntil }
            return Array(due)
        }
    }

    public func finishWebhook(tenantID: String, id: String) async throws {
        _ = state.withLock { $0.webhooks.removeValue(forKey: Self.key(tenantID, id)) }
    }

    public func retryWebhook(tenantID: String, id: String, attempts: Int, nextAttemptAt: Date) async throws {
        state.withLock { state in
            guard var entry = state.webhooks[Self.key(tenantID, id)] else { return }
            entry.delivery.attempts = attempts
            entry.delivery.nextAttemptAt = nextAttemptAt
            entry.leaseUntil = nil
            state.webhooks[Self.key(tenantID, id)] = entry
        }
    }
}
