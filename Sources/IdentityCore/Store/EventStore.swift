import Foundation

/// The audit log.
public protocol EventStore: Sendable {
    /// Appends the events in order; ids are assigned by the store and increase. `batch` names the write: a
    /// store whose write can end unconfirmed (a missed deadline, a lost connection, after which it may still
    /// commit) writes a batch once however often it is retried under the same name.
    func appendEvents(_ events: [AuditEvent], batch: String) async throws
    /// The tenant's events with id greater than `after`, of `kind` if given, oldest first, at most `limit`.
    func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent]
}
