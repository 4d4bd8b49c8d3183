import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    public func createClient(_ c: Client) async throws {
        let logger = self.logger
        try await inTenant(c.tenantID) { db in
            try await db.query("""
                INSERT INTO clients (tenant_id, id, name, kind, secret_hash, grant_types, redirect_uris, scopes, created_at, updated_at,
                  secret_rotated_at, post_logout_redirect_uris, require_consent)
                VALUES (\(c.tenantID), \(c.id), \(c.name), \(c.kind.rawValue), \(c.secretHash), \(c.grantTypes.map(\.rawValue)), \(c.redirectURIs),
                        \(c.scopes), \(c.createdAt), \(c.updatedAt), \(c.secretRotatedAt), \(c.postLogoutRedirectURIs), \(c.requireConsent))
                """, logger: logger)
        }
    }

    public func client(tenantID: String, id: String) async throws -> Client? {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM clients WHERE tenant_id = \(tenantID) AND id = \(id)", logger: logger).first?.client()
        }
    }

    public func clients(tenantID: String) async throws -> [Client] {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.rows("SELECT * FROM clients WHERE tenant_id = \(tenantID) ORDER BY id", logger: logger).map { try $0.client() }
        }
    }

    public func updateClient(_ c: Client) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(c.tenantID) { db in
            try await db.changed("""
                UPDATE clients SET name = \(c.name), secret_hash = \(c.secretHash), grant_types = \(c.grantTypes.map(\.rawValue)),
                  redirect_uris = \(c.redirectURIs), scopes = \(c.scopes), updated_at = \(c.updatedAt), secret_rotated_at = \(c.secretRotatedAt),
                  post_logout_redirect_uris = \(c.postLogoutRedirectURIs), require_consent = \(c.requireConsent)
                WHERE tenant_id = \(c.tenantID) AND id = \(c.id) RETURNING id
                """, logger: logger)
        }
    }

    public func deleteClient(tenantID: String, id: String) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.changed("DELETE FROM clients WHERE tenant_id = \(tenantID) AND id = \(id) RETURNING id", logger: logger)
        }
    }
}
