import Foundation

/// The outbox of alert webhooks: durable, shared by every node (each delivery leased by one node at a time).
public protocol WebhookOutboxStore: Sendable {
    /// Queues `delivery`.
    func enqueueWebhook(_ delivery: WebhookDelivery) async throws
    /// Up to `limit` deliveries of any tenant due at `now` and not leased, oldest due first, each now leased
    /// until `leaseUntil`: of nodes claiming at once, each delivery goes to one.
    func claimWebhooks(now: Date, leaseUntil: Date, limit: Int) async throws -> [WebhookDelivery]
    /// Removes a delivery (delivered, or given up on).
    func finishWebhook(tenantID: String, id: String) async throws
    /// Records a failed attempt: `attempts` made, the next one due at `nextAttemptAt` (the lease ends).
    func retryWebhook(tenantID: String, id: String, attempts: Int, nextAttemptAt: Date) async throws
}
