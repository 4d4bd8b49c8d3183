import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    public func addRevocation(_ r: Revocation) async throws {
        let logger = self.logger
        try await inTenant(r.tenantID) { db in
            try await db.query("""
                INSERT INTO revocations (tenant_id, kind, value, expires_at) VALUES (\(r.tenantID), \(r.kind.rawValue), \(r.value), \(r.expiresAt))
                ON CONFLICT (tenant_id, kind, value) DO UPDATE SET expires_at = GREATEST(revocations.expires_at, excluded.expires_at)
                """, logger: logger)
        }
    }

    public func revocations(liveAt now: Date) async throws -> [Revocation] {
        let logger = self.logger
        return try await inAllTenants { db in
            try await db.rows("SELECT * FROM revocations WHERE expires_at > \(now)", logger: logger).map { try $0.revocation() }
        }
    }

    public func isRevoked(tenantID: String, sid: String?, jti: String?, now: Date) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.changed("""
                SELECT 1 FROM revocations WHERE tenant_id = \(tenantID) AND expires_at > \(now)
                  AND ((kind = 'sid' AND value = \(sid)) OR (kind = 'jti' AND value = \(jti))) LIMIT 1
                """, logger: logger)
        }
    }
}
