import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    /// Deletes at most `batch` sessions that no token can need any more (revoked or expired, and past their
    /// last access token's expiry) with their refresh tokens (no foreign key cascades; see migration 9),
    /// `batch` expired revocations, `batch` names of audit batches written more than a day ago, `batch`
    /// authorization codes a day past their expiry and `batch` expired browser sessions.
    /// Short transactions that skip rows other transactions hold, so a purge never waits on or blocks traffic.
    public func purgeExpired(now: Date, batch: Int) async throws -> Int {
        let logger = self.logger
        return try await inAllTenants { db in
            let tokens = try await db.rows("""
                WITH doomed AS (
                  SELECT tenant_id, id FROM sessions
                  WHERE (status = 'revoked' OR idle_expires_at <= \(now) OR absolute_expires_at <= \(now)) AND access_expires_at <= \(now)
                  LIMIT \(batch) FOR UPDATE SKIP LOCKED
                ), gone AS (
                  DELETE FROM sessions s USING doomed d WHERE s.tenant_id = d.tenant_id AND s.id = d.id RETURNING s.tenant_id, s.id
                ), dropped AS (
                  DELETE FROM refresh_tokens r USING gone g WHERE r.session_id = g.id AND r.tenant_id = g.tenant_id RETURNING 1
                )
                SELECT (SELECT count(*) FROM gone) AS sessions, (SELECT count(*) FROM dropped) AS tokens
                """, logger: logger)
            let revocations = try await db.rows("""
                DELETE FROM revocations WHERE ctid IN (SELECT ctid FROM revocations WHERE expires_at <= \(now) LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                RETURNING kind
                """, logger: logger)
            let batches = try await db.rows("""
                DELETE FROM event_batches WHERE ctid IN (SELECT ctid FROM event_batches WHERE written_at <= \(now.addingTimeInterval(-86_400))
                  LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                RETURNING id
                """, logger: logger)
            // Codes stay a day past their expiry (a code presented again ends the session it started).
            let codes = try await db.rows("""
                DELETE FROM authorization_codes WHERE ctid IN (SELECT ctid FROM authorization_codes
                  WHERE expires_at <= \(now.addingTimeInterval(-86_400)) LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                RETURNING code_hash
                """, logger: logger)
            let browserSessions = try await db.rows("""
                DELETE FROM browser_sessions WHERE ctid IN (SELECT ctid FROM browser_sessions WHERE expires_at <= \(now)
                  LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                RETURNING id
                """, logger: logger)
            let sessions = try tokens.first?.cells["sessions"].decode(Int.self) ?? 0
            let dropped = try tokens.first?.cells["tokens"].decode(Int.self) ?? 0
            return sessions + dropped + revocations.count + batches.count + codes.count + browserSessions.count
        }
    }
}
