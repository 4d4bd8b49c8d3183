import Foundation

/// A security alert waiting to be POSTed to its tenant's webhook: kept in the store until delivered (at least
/// once, across restarts and nodes) or given up on after `WebhookDispatcher.maximumAttempts`.
public struct WebhookDelivery: Sendable, Equatable {
    public var tenantID: String
    /// `whd_…`: also the body's `id`, so that a receiver can drop a repeat.
    public var id: String
    /// The JSON body, exactly as it is signed and sent.
    public var body: String
    public var createdAt: Date
    /// Attempts made so far.
    public var attempts: Int
    public var nextAttemptAt: Date

    public init(tenantID: String, id: String, body: String, createdAt: Date, attempts: Int = 0, nextAttemptAt: Date) {
        self.tenantID = tenantID
        self.id = id
        self.body = body
        self.createdAt = createdAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
    }
}
