import Foundation
import IdentityCore
import PostgresNIO

extension PostgresStore {
    func json(_ policy: TenantPolicy) throws -> String { String(decoding: try JSONEncoder().encode(policy), as: UTF8.self) }

    public func createTenant(_ tenant: Tenant, adminKeyHash: String, keys: [SigningKey]) async throws {
        let policy = try json(tenant.policy), logger = self.logger
        try await inTenant(tenant.id) { db in
            try await db.query("""
                INSERT INTO tenants (id, name, status, policy, admin_key_hash, created_at, updated_at)
                VALUES (\(tenant.id), \(tenant.name), \(tenant.status.rawValue), \(policy)::jsonb, \(adminKeyHash), \(tenant.createdAt), \(tenant.updatedAt))
                """, logger: logger)
            for key in keys { try await Self.upsert(key, on: db, logger: logger) }
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        let logger = self.logger
        return try await inTenant(id) { db in
            try await db.rows("SELECT id, name, status, policy::text AS policy, created_at, updated_at FROM tenants WHERE id = \(id)", logger: logger)
                .first?.tenant()
        }
    }

    public func tenants() async throws -> [Tenant] {
        let logger = self.logger
        return try await inAllTenants { db in
            try await db.rows("SELECT id, name, status, policy::text AS policy, created_at, updated_at FROM tenants ORDER BY id", logger: logger)
                .map { try $0.tenant() }
        }
    }

    public func updateTenant(_ tenant: Tenant) async throws -> Bool {
        let policy = try json(tenant.policy), logger = self.logger
        return try await inTenant(tenant.id) { db in
            try await db.changed("""
                UPDATE tenants SET name = \(tenant.name), status = \(tenant.status.rawValue), policy = \(policy)::jsonb, updated_at = \(tenant.updatedAt)
                WHERE id = \(tenant.id) RETURNING id
                """, logger: logger)
        }
    }

    public func deleteTenant(id: String) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(id) { db in
            // Rows under the tenant go by ON DELETE CASCADE. Its events (no foreign key, see `appendEvents`) and
            // refresh tokens (none, see migration 9) after the tenant's row: its lock first waits for any audit
            // batch still writing to it, and the cascade to its sessions for any rotation still inserting a token.
            let deleted = try await db.changed("DELETE FROM tenants WHERE id = \(id) RETURNING id", logger: logger)
            try await db.query("DELETE FROM refresh_tokens WHERE tenant_id = \(id)", logger: logger)
            try await db.query("DELETE FROM events WHERE tenant_id = \(id)", logger: logger)
            return deleted
        }
    }

    public func tenantID(adminKeyHash hash: String) async throws -> String? {
        let logger = self.logger
        return try await inAllTenants { db in
            try await db.rows("SELECT id FROM tenants WHERE admin_key_hash = \(hash)", logger: logger).first?.string("id")
        }
    }

    public func replaceAdminKeyHash(tenantID: String, hash: String) async throws -> Bool {
        let logger = self.logger
        return try await inTenant(tenantID) { db in
            try await db.changed("UPDATE tenants SET admin_key_hash = \(hash) WHERE id = \(tenantID) RETURNING id", logger: logger)
        }
    }
}
