import Foundation

extension AuditEvent {
    /// `events` as one JSON array of objects (`tenant_id`, `kind`, `time_ms`, `user_id`, `client_id`,
    /// `session_id`, `token_hash_prefix`, `ip`, `user_agent`, `detail`): how the SQL stores write a batch in
    /// one statement. A NUL in any field becomes U+FFFD: PostgreSQL's `jsonb` refuses `\u0000`, and one such
    /// event would fail its whole batch.
    public static func batchJSON(_ events: [AuditEvent]) throws -> String {
        var writer = JSONWriter(capacity: events.count * 256, replacingNUL: true)
        writer.beginArray()
        for e in events {
            writer.beginObject()
            writer.field("tenant_id", e.tenantID)
            writer.field("kind", e.kind.rawValue)
            writer.field("time_ms", e.time.millisecondsSince1970)
            writer.field("user_id", e.userID, null: true)
            writer.field("client_id", e.clientID, null: true)
            writer.field("session_id", e.sessionID, null: true)
            writer.field("token_hash_prefix", e.tokenHashPrefix, null: true)
            writer.field("ip", e.ip, null: true)
            writer.field("user_agent", e.userAgent, null: true)
            writer.field("detail", e.detail, null: true)
            writer.endObject()
        }
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
