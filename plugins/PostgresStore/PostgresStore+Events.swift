import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    /// One statement for the whole batch, so that a retried batch is never half written twice: the events travel
    /// as one JSON array, unpacked by `jsonb_array_elements`, in the order given. Events of a tenant that no
    /// longer exists are dropped (the deletion would have dropped them). Instead of a foreign key checked per
    /// row (half the cost of the insert, measured), the statement locks each of its tenants' rows once
    /// (`FOR KEY SHARE`): a deletion waits for it, then deletes what it wrote (see `deleteTenant`).
    ///
    /// `batch` goes into `event_batches` in the same statement: a retry of a write that missed its deadline but
    /// committed afterwards finds it there and writes nothing (the purge forgets names after a day).
    public func appendEvents(_ events: [AuditEvent], batch: String) async throws {
        guard !events.isEmpty else { return }
        let logger = self.logger
        let json = try AuditEvent.batchJSON(events)
        let tenants = Array(Set(events.map(\.tenantID)))
        // Across tenants, like the purge: the events name their tenants themselves.
        try await inAllTenants { db in
            try await db.query("""
                WITH first AS (INSERT INTO event_batches (id) VALUES (\(batch)) ON CONFLICT DO NOTHING RETURNING id),
                  live AS (SELECT id FROM tenants WHERE id = ANY(\(tenants)) FOR KEY SHARE)
                INSERT INTO events (tenant_id, kind, time, user_id, client_id, session_id, token_hash_prefix, ip, user_agent, detail)
                SELECT live.id, e ->> 'kind', to_timestamp((e ->> 'time_ms')::bigint / 1000.0), e ->> 'user_id',
                  e ->> 'client_id', e ->> 'session_id', e ->> 'token_hash_prefix', e ->> 'ip', e ->> 'user_agent', e ->> 'detail'
                FROM first CROSS JOIN jsonb_array_elements(\(json)::jsonb) WITH ORDINALITY AS a(e, n) JOIN live ON live.id = e ->> 'tenant_id'
                ORDER BY n
                """, logger: logger)
        }
    }

    public func events(tenantID: String, kind: AuditEvent.Kind?, after: Int64, limit: Int) async throws -> [AuditEvent] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("""
                SELECT * FROM events WHERE tenant_id = \(tenantID) AND id > \(after) AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
                ORDER BY id LIMIT \(limit)
                """, logger: logger).map { try $0.event() }
        }
    }
}
