import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    public func enqueueWebhook(_ d: WebhookDelivery) async throws {
        let logger = self.logger
        try await inTenant(d.tenantID) { db in
            try await db.query("""
                INSERT INTO webhook_outbox (tenant_id, id, body, created_at, attempts, next_attempt_at)
                VALUES (\(d.tenantID), \(d.id), \(d.body), \(d.createdAt), \(Int32(d.attempts)), \(d.nextAttemptAt))
                """, logger: logger)
        }
    }

    /// Across tenants: the dispatcher serves them all. `FOR UPDATE SKIP LOCKED`: nodes claiming at once take
    /// different rows instead of waiting for each other.
    public func claimWebhooks(now: Date, leaseUntil: Date, limit: Int) async throws -> [WebhookDelivery] {
        let logger = self.logger
        return try await inAllTenants { db in
            try await db.rows("""
                UPDATE webhook_outbox SET lease_until = \(leaseUntil) WHERE (tenant_id, id) IN (
                  SELECT tenant_id, id FROM webhook_outbox WHERE next_attempt_at <= \(now) AND (lease_until IS NULL OR lease_until <= \(now))
                  ORDER BY next_attempt_at, id LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED)
                RETURNING *
                """, logger: logger).map { try $0.webhookDelivery() }
        }.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    public func finishWebhook(tenantID: String, id: String) async throws {
        let logger = self.logger
        try await inTenant(tenantID) { db in
            try await db.query("DELETE FROM webhook_outbox WHERE tenant_id = \(tenantID) AND id = \(id)", logger: logger)
        }
    }

    public func retryWebhook(tenantID: String, id: String, attempts: Int, nextAttemptAt: Date) async throws {
        let logger = self.logger
        try await inTenant(tenantID) { db in
            try await db.query("""
                UPDATE webhook_outbox SET attempts = \(Int32(attempts)), next_attempt_at = \(nextAttemptAt), lease_until = NULL
                WHERE tenant_id = \(tenantID) AND id = \(id)
                """, logger: logger)
        }
    }
}
