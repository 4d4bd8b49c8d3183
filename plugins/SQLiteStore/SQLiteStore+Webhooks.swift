import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    public func enqueueWebhook(_ d: WebhookDelivery) async throws {
        try await write(
            "INSERT INTO webhook_outbox (tenant_id, id, body, created_at, attempts, next_attempt_at, lease_until) VALUES (?, ?, ?, ?, ?, ?, NULL)",
            [.text(d.tenantID), .text(d.id), .text(d.body), Bind.time(d.createdAt), .integer(d.attempts), Bind.time(d.nextAttemptAt)])
    }

    /// One writer: the UPDATE picks and leases in one statement.
    public func claimWebhooks(now: Date, leaseUntil: Date, limit: Int) async throws -> [WebhookDelivery] {
        try await write(
            """
            UPDATE webhook_outbox SET lease_until = ? WHERE rowid IN (
              SELECT rowid FROM webhook_outbox WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
              ORDER BY next_attempt_at, id LIMIT ?)
            RETURNING *
            """, [Bind.time(leaseUntil), Bind.time(now), Bind.time(now), .integer(limit)])
            .map { try $0.webhookDelivery() }.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    public func finishWebhook(tenantID: String, id: String) async throws {
        try await write("DELETE FROM webhook_outbox WHERE tenant_id = ? AND id = ?", [.text(tenantID), .text(id)])
    }

    public func retryWebhook(tenantID: String, id: String, attempts: Int, nextAttemptAt: Date) async throws {
        try await write("UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?, lease_until = NULL WHERE tenant_id = ? AND id = ?",
                        [.integer(attempts), Bind.time(nextAttemptAt), .text(tenantID), .text(id)])
    }
}
