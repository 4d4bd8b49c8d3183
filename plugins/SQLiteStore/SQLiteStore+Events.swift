import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    /// One statement per batch: the events travel as one JSON array, unpacked by `json_each`. Events of a tenant
    /// that no longer exists are dropped (the deletion would have dropped them; writes are serialised, so none
    /// lands between a deletion's statements). A write here never ends unconfirmed, so `batch` is not kept.
    public func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        guard !events.isEmpty else { return }
        let json = try AuditEvent.batchJSON(events)
        _ = try await write(
            """
            INSERT INTO events (tenant_id, kind, time, user_id, client_id, session_id, token_hash_prefix, ip, user_agent, detail)
            SELECT value ->> 'tenant_id', value ->> 'kind', CAST(value ->> 'time_ms' AS INTEGER), value ->> 'user_id',
              value ->> 'client_id', value ->> 'session_id', value ->> 'token_hash_prefix', value ->> 'ip', value ->> 'user_agent',
              value ->> 'detail'
            FROM json_each(?) WHERE value ->> 'tenant_id' IN (SELECT id FROM tenants) ORDER BY key
            """, [.text(json)])
    }

    public func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] {
        try await read(
            "SELECT * FROM events WHERE tenant_id = ? AND id > ? AND (? IS NULL OR kind = ?) ORDER BY id LIMIT ?",
            [.text(tenantID), .integer(Int(after)), Bind.text(kind?.rawValue), Bind.text(kind?.rawValue), .integer(limit)]
        ).map { try $0.event() }
    }
}
