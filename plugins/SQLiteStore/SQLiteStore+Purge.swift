import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    public func purgeExpired(now: Date, batch: Int) async throws -> Int {
        try await transaction { db in
            let sessions = try db.query(
                """
                DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions
                  WHERE (status = 'revoked' OR idle_expires_at <= ? OR absolute_expires_at <= ?) AND access_expires_at <= ? LIMIT ?)
                RETURNING tenant_id, id
                """,
                [Bind.time(now), Bind.time(now), Bind.time(now), .integer(batch)])
            var removed = sessions.count
            for row in sessions {
                removed += try db.query("DELETE FROM refresh_tokens WHERE tenant_id = ? AND session_id = ? RETURNING lookup_key",
                                              [.text(try row.string("tenant_id")), .text(try row.string("id"))]).count
            }
            removed += try db.query(
                "DELETE FROM revocations WHERE rowid IN (SELECT rowid FROM revocations WHERE expires_at <= ? LIMIT ?) RETURNING kind",
                [Bind.time(now), .integer(batch)]).count
            // Codes are kept a day past their expiry (a code presented again ends the session it started), browser
            // sessions until they expire.
            removed += try db.query(
                "DELETE FROM authorization_codes WHERE rowid IN (SELECT rowid FROM authorization_codes WHERE expires_at <= ? LIMIT ?) RETURNING code_hash",
                [Bind.time(now.addingTimeInterval(-86_400)), .integer(batch)]).count
            removed += try db.query(
                "DELETE FROM browser_sessions WHERE rowid IN (SELECT rowid FROM browser_sessions WHERE expires_at <= ? LIMIT ?) RETURNING id",
                [Bind.time(now), .integer(batch)]).count
            return removed
        }
    }
}
