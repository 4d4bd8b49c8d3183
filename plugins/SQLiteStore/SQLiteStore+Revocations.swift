import Foundation
import IdentityCore
import SQLiteNIO

extension SQLiteStore {
    static func insert(_ revocation: Revocation, on db: SQLiteHandle) throws {
        try db.query(
            """
            INSERT INTO revocations (tenant_id, kind, value, expires_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (tenant_id, kind, value) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)
            """,
            [.text(revocation.tenantID), .text(revocation.kind.rawValue), .text(revocation.value), Bind.time(revocation.expiresAt)])
    }

    public func addRevocation(_ revocation: Revocation) async throws {
        try await transaction { db in try Self.insert(revocation, on: db) }
    }

    public func revocations(liveAt now: Date) async throws -> [Revocation] {
        try await read("SELECT * FROM revocations WHERE expires_at > ?", [Bind.time(now)]).map { row in
            Revocation(tenantID: try row.string("tenant_id"), kind: try row.value("kind", as: Revocation.Kind.self),
                       value: try row.string("value"), expiresAt: try row.time("expires_at"))
        }
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        try await !read(
            """
            SELECT 1 FROM revocations WHERE tenant_id = ? AND expires_at > ?
              AND ((kind = 'sid' AND value = ?) OR (kind = 'jti' AND value = ?)) LIMIT 1
            """,
            [.text(tenantID), Bind.time(now), Bind.text(sid), Bind.text(jti)]).isEmpty
    }
}
